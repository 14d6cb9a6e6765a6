package model

import (
	"encoding/binary"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// decodeBudget is what decoding file b may allocate: twice its data section
// (the weights and their gradients; optimizer state is read, then copied by
// the optimizer), a read buffer of up to 64 KiB, a multiple of its header
// and a little more. The multiple is encoding/json's cost for a key a
// tensor's entry does not know, the worst case of a header: its string
// (each invalid byte becomes U+FFFD, three bytes), the case-folded copy it
// is looked up by, and the error that quotes it, each grown by appending,
// about 24 bytes per byte of the key.
func decodeBudget(b []byte) uint64 {
	var n uint64
	if len(b) >= 8 {
		n = min(binary.LittleEndian.Uint64(b), uint64(len(b)-8))
	}
	data := uint64(len(b)) - n
	return 2*data + min(data, 64<<10) + 32*n + 32<<10
}

// built returns a model of layers built for input shape in, encoded.
func built(t testing.TB, in []int, layers ...nn.Layer) []byte {
	t.Helper()
	m := New(layers...)
	if err := m.Build(in, 1); err != nil {
		t.Fatal(err)
	}
	return encode(t, m, false)
}

// emptyTensors adds n tensors of no values to a header.
func emptyTensors(n int) func(h map[string]any) {
	return func(h map[string]any) {
		for i := range n {
			h["empty"+strconv.Itoa(i)] = map[string]any{"dtype": "F32", "shape": []int{0}, "data_offsets": []int{0, 0}}
		}
	}
}

// metaOf returns the metadata of model file b.
func metaOf(t testing.TB, b []byte) map[string]string {
	t.Helper()
	n := binary.LittleEndian.Uint64(b[:8])
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	return h.Meta
}

// archOf returns the architecture in the metadata of model file b.
func archOf(t testing.TB, b []byte) string { return metaOf(t, b)["architecture"] }

// Decoding allocates no more than the file's size allows, however large the
// architecture its header declares.
func TestDecodeAllocation(t *testing.T) {
	conv := func() nn.Layer { return &nn.Conv2D{Filters: 64, KernelSize: pair(3), Padding: "same"} }
	dense := func() nn.Layer { return &nn.Dense{Units: 256} }
	denseFile := built(t, []int{256}, dense())
	convFile := built(t, []int{8, 8, 64}, conv(), &nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 10})
	var denses, convs []nn.Layer
	for range 32 {
		denses, convs = append(denses, dense()), append(convs, conv())
	}
	manyDense := archOf(t, built(t, []int{256}, denses...))
	manyConv := archOf(t, built(t, []int{8, 8, 64}, convs...))
	m, _, _ := trained(t)
	good := encode(t, m, true)

	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"dense weights", denseFile, true},
		{"convolution weights", convFile, true},
		{"without biases", built(t, []int{8, 8, 3}, &nn.Conv2D{Filters: 4, KernelSize: pair(3), NoBias: true}, &nn.BatchNormalization{},
			&nn.Flatten{}, &nn.Dense{Units: 2, NoBias: true}), true},
		{"with optimizer state", good, true},
		{"large metadata", rewrite(t, good, setMeta("history", strings.Repeat("é\"", 1<<18))), true},
		{"10,000 empty tensors", rewrite(t, good, emptyTensors(10000)), false},
		// Each declared layer alone fits in the data; together they do not.
		{"32 dense layers, weights of one", rewrite(t, denseFile, setMeta("architecture", manyDense)), false},
		{"32 convolutions, weights of one", rewrite(t, convFile, setMeta("architecture", manyConv)), false},
		{"convolutions in place of dense weights", rewrite(t, denseFile, setMeta("architecture", manyConv)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = decode(tt.b) })
			if (err == nil) != tt.ok {
				t.Fatalf("Decode() error = %v, want ok = %v", err, tt.ok)
			}
			t.Logf("%d-byte file: Decode allocates %d bytes (%.2fx), error %v", len(tt.b), n, float64(n)/float64(len(tt.b)), err)
			if limit := decodeBudget(tt.b); n > limit {
				t.Errorf("Decode() of a %d-byte file allocates %d bytes, want at most %d", len(tt.b), n, limit)
			}
		})
	}
}
