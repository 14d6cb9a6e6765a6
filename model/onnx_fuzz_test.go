package model

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// onnxBudget is what importing an ONNX file of n bytes may allocate:
// reading it (io.ReadAll doubles its buffer: up to 3n), the decoded
// protobuf messages (at most a few hundred bytes for each message of two or
// more bytes in the file), the float32 weights, their reordering, and the
// model's weights and gradients (a few times n), plus a fixed amount.
func onnxBudget(n int) uint64 { return 256*uint64(n) + 256<<10 }

// FuzzImportONNX feeds ImportONNX arbitrary bytes: it must return a model
// or an error, never panic, and allocate no more than onnxBudget; a model it
// returns must export again.
//
//	go test ./model/ -run '^$' -fuzz '^FuzzImportONNX$' -fuzztime 60s -fuzzminimizetime 1s
func FuzzImportONNX(f *testing.F) {
	good := marshal(f, tinyONNX(f))
	f.Add(good)
	f.Add(exportBytes(f, mixed(f)))
	f.Add(exportBytes(f, tiny(f)))
	// Graphs: every merge layer, branches and skip connections.
	f.Add(exportBytes(f, merges(f)))
	f.Add(exportBytes(f, builtGraph(f)))
	f.Add(exportBytes(f, shuffled(f)))
	f.Add(exportBytes(f, reshapes(f)))
	f.Add(exportBytes(f, dilatedModel(f)))
	f.Add(exportBytes(f, groupNorms(f)))
	f.Add(exportBytes(f, resampled(f)))
	// The constants PyTorch computes for F.pad, and explicit pads.
	withPads := tinyONNX(f)
	insertTorchPads(withPads, 0, 0, 0, 0, nil)
	f.Add(marshal(f, withPads))
	explicit, err := onnxModel(padded(f), ONNXExportOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(marshal(f, explicit))
	// x.view(x.size(0), -1).
	f.Add(marshal(f, withView(f, "batch", -1)))
	for _, n := range []int{0, 1, 2, 10, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	for _, at := range []int{0, 5, 20, 100, len(good) / 2, len(good) - 5} {
		b := slices.Clone(good)
		b[at] ^= 0x41
		f.Add(b)
	}
	// Thousands of empty initializers: the most allocation per byte.
	var g, empty []byte
	for range 2000 {
		g = protowire.AppendTag(g, 5, protowire.BytesType) // GraphProto.initializer
		g = protowire.AppendBytes(g, nil)
	}
	empty = protowire.AppendTag(empty, 1, protowire.VarintType) // ModelProto.ir_version
	empty = protowire.AppendVarint(empty, 7)
	empty = protowire.AppendTag(empty, 7, protowire.BytesType) // ModelProto.graph
	f.Add(protowire.AppendBytes(empty, g))
	// Protobuf's descriptors are set up on first use: not the file's cost.
	if _, err := importBytes(good, ONNXImportOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m *Sequential
		var err error
		n := allocated(func() { m, err = importBytes(b, ONNXImportOptions{}) })
		if limit := onnxBudget(len(b)); n > limit {
			t.Errorf("ImportONNX() of %d bytes allocates %d bytes, want at most %d", len(b), n, limit)
		}
		if err != nil {
			return
		}
		exportBytes(t, m)
	})
}
