package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestLayout checks the bytes against the safetensors specification: an
// 8-byte little-endian header length N, N bytes of JSON padded with spaces
// to a multiple of 8, then the tensors as little-endian float32 at their
// offsets from the start of the data.
func TestLayout(t *testing.T) {
	m, _, _ := trained(t)
	b := encode(t, m, true)
	n := binary.LittleEndian.Uint64(b[:8])
	if (8+n)%8 != 0 {
		t.Errorf("8 + header length %d is not a multiple of 8", n)
	}
	hb := b[8 : 8+n]
	if trimmed := bytes.TrimRight(hb, " "); len(hb)-len(trimmed) >= 8 || trimmed[len(trimmed)-1] != '}' {
		t.Errorf("header padding is not 0-7 spaces after the JSON object")
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(hb, &header); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "convnet" || meta["format_version"] != "2" {
		t.Errorf("format %q version %q", meta["format"], meta["format_version"])
	}
	for _, key := range []string{"architecture", "classes", "optimizer", "history", "note"} {
		if meta[key] == "" {
			t.Errorf("metadata lacks %q", key)
		}
	}
	data := b[8+n:]
	var k tensorEntry
	if err := json.Unmarshal(header["conv2d/kernel"], &k); err != nil {
		t.Fatal(err)
	}
	if k.Dtype != "F32" || !slices.Equal(k.Shape, []int{3, 3, 1, 4}) || k.DataOffsets[0] != 0 || k.DataOffsets[1] != 36*4 {
		t.Errorf("conv2d/kernel entry = %+v", k)
	}
	kernel := m.Layers[0].Params()[0].Value.Data
	for i, v := range kernel {
		if got := binary.LittleEndian.Uint32(data[4*i:]); got != math.Float32bits(v) {
			t.Fatalf("conv2d/kernel[%d] stored as %#x, want %#x", i, got, math.Float32bits(v))
		}
	}
	var names []string
	for name := range header {
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{"__metadata__", "batch_normalization/beta", "batch_normalization/gamma",
		"batch_normalization/moving_mean", "batch_normalization/moving_variance",
		"conv2d/bias", "conv2d/kernel", "dense/bias", "dense/kernel", "dense_1/bias", "dense_1/kernel"}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("header lacks tensor %q (has %v)", w, names)
		}
	}
	if !slices.Contains(names, "optimizer/dense_1/kernel/velocity") || !slices.Contains(names, "optimizer/dense_1/kernel/momentum") {
		t.Errorf("header lacks the optimizer slots of dense_1/kernel: %v", names)
	}
	if slices.Contains(names, "optimizer/batch_normalization/moving_mean/velocity") {
		t.Errorf("optimizer state saved for a non-trainable parameter")
	}
}

// rewrite returns a copy of file b with its JSON header replaced by the
// result of edit, offsets unchanged.
func rewrite(t testing.TB, b []byte, edit func(h map[string]any)) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b[:8])
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hb, _ := json.Marshal(h)
	for (8+len(hb))%8 != 0 {
		hb = append(hb, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	out = append(out, hb...)
	return append(out, b[8+n:]...)
}

// rawHeader returns a copy of file b with its JSON header, trimmed of its
// padding, replaced by edit's result, offsets unchanged.
func rawHeader(t testing.TB, b []byte, edit func(h string) string) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b[:8])
	hb := []byte(edit(strings.TrimRight(string(b[8:8+n]), " ")))
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	out = append(out, hb...)
	return append(out, b[8+n:]...)
}

func setMeta(key, value string) func(h map[string]any) {
	return func(h map[string]any) { h["__metadata__"].(map[string]any)[key] = value }
}

func entry(name string, f func(e map[string]any)) func(h map[string]any) {
	return func(h map[string]any) { f(h[name].(map[string]any)) }
}

// TestContainerErrors checks what the safetensors container refuses, before
// anything of the model is read.
func TestContainerErrors(t *testing.T) {
	m, _, _ := trained(t)
	good := encode(t, m, true)
	n := int(binary.LittleEndian.Uint64(good[:8]))
	withLen := func(v uint64) []byte {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint64(b, v)
		return b
	}
	tests := []decodeErrorCase{
		{"empty", nil, "too short"},
		{"length only", good[:8], "header length"},
		{"truncated header", good[:8+n/2], "exceeds the file size"},
		{"truncated data", good[:len(good)-4], "outside the data section"},
		{"header length 0", withLen(0), "want at least 2"},
		{"header length huge", withLen(1 << 62), "exceeds the file size"},
		{"header not JSON", append(withLen(3), "xyz"...)[:11], "not a JSON object"},
		{"trailing bytes", append(slices.Clone(good), 0, 0, 0, 0), "4 bytes after the last tensor"},
		{"dtype", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["dtype"] = "F16" })), `"conv2d/bias": dtype "F16"`},
		{"shape vs offsets", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["shape"] = []int{5} })), `"conv2d/bias": shape [5] needs 20 bytes`},
		{"negative dim", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["shape"] = []int{-4} })), "negative dimension"},
		{"offsets count", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["data_offsets"] = []int{0} })), "data_offsets has 1 values"},
		{"overlap", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["data_offsets"] = []int{0, 16} })), "overlaps"},
		{"unknown field", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["x"] = 1 })), `unknown field "x"`},
		// A message quoting a name of kilobytes keeps its ends.
		{"long unknown field", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["x"+strings.Repeat("\xff", 5000)+"y"] = 1 })),
			"tensor \"conv2d/bias\": json: unknown field \"x\ufffd\ufffd"},
		{"long unknown field's end", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["x"+strings.Repeat("\xff", 5000)+"y"] = 1 })),
			"\ufffd\ufffdy\" (15046 bytes)"},
		{"tensor twice", rawHeader(t, good, func(h string) string {
			i := strings.Index(h, `"conv2d/bias":`)
			j := i + strings.Index(h[i:], "}") + 1
			return h[:len(h)-1] + "," + h[i:j] + "}"
		}), `tensor "conv2d/bias" appears twice`},
		{"metadata twice", rawHeader(t, good, func(h string) string { return `{"__metadata__":{},` + h[1:] }), "__metadata__ appears twice"},
		{"metadata null", rawHeader(t, good, func(h string) string { return `{"__metadata__":null,` + h[1:] }), "__metadata__ is not an object of strings"},
		{"data after the header", rawHeader(t, good, func(h string) string { return h + "{}" }), "data after the JSON object"},
		{"header not closed", rawHeader(t, good, func(h string) string { return h[:len(h)-1] + "," }), "header is not a JSON object"},
	}
	checkDecodeErrors(t, tests)
}

// decodeErrorCase is a file that Decode must refuse with a *FormatError
// whose message contains want.
type decodeErrorCase struct {
	name string
	b    []byte
	want string
}

func checkDecodeErrors(t *testing.T, tests []decodeErrorCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode() error = %v, want it to contain %q", err, tt.want)
			}
			if err != nil && len(err.Error()) > 500 {
				t.Errorf("Decode() error of %d bytes: %.100s...", len(err.Error()), err)
			}
			var fe *FormatError
			if err != nil && !errors.As(err, &fe) {
				t.Errorf("Decode() error %T is not a *FormatError", err)
			}
		})
	}
}

// brokenReader fails every read past its first n bytes.
type brokenReader struct {
	b []byte
	n int64
}

var errBroken = errors.New("device gone")

func (r brokenReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.n {
		return 0, errBroken
	}
	return copy(p, r.b[off:]), nil
}

// TestDecodeReadError: a reader that fails while the header is read is
// named as the reader's failure, not as a header that is not JSON.
func TestDecodeReadError(t *testing.T) {
	m, _, _ := trained(t)
	b := encode(t, m, true)
	_, err := Decode(brokenReader{b, 40}, int64(len(b)))
	if !errors.Is(err, errBroken) || !strings.Contains(err.Error(), "reading the header: device gone") || strings.Contains(err.Error(), "JSON") {
		t.Errorf("error %v, want the read's failure", err)
	}
}
