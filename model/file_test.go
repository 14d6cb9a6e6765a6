package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// trained returns a small model trained for a few steps, with class names
// and metadata, and the batch it was trained on.
func trained(t testing.TB) (m *Sequential, x, y *tensor.Tensor) {
	m = small(t, 21)
	m.ClassNames = []string{"alef", "beh", "teh", "theh", "jeem"}
	m.Meta = map[string]string{"history": `{"loss":[1.5,1.2]}`, "note": "ünïcode \"quoted\""}
	mean := make([]float32, 64)
	for i := range mean {
		mean[i] = float32(i) / 3
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true, MeanImage: mean}
	if err := m.Compile(&optim.RMSprop{Momentum: 0.5}, nn.CrossEntropy{Sparse: true, LabelSmoothing: 0.1}); err != nil {
		t.Fatal(err)
	}
	x, y = randomBatch(m, 8, 22)
	for range 3 {
		m.TrainStep(x, y)
	}
	return m, x, y
}

func encode(t testing.TB, m *Sequential, opt bool) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, m, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decode(b []byte) (*Sequential, error) { return Decode(bytes.NewReader(b), int64(len(b))) }

func TestSaveLoadRoundTrip(t *testing.T) {
	m, x, y := trained(t)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, m, SaveOptions{IncludeOptimizer: true}); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, m, SaveOptions{}); !errors.Is(err, safefile.ErrExists) {
		t.Errorf("Save over an existing file without Overwrite: error = %v, want ErrExists", err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !equalWeights(weights(m), weights(l)) {
		t.Error("loaded weights differ")
	}
	for i := range m.Layers {
		if a, b := m.Layers[i], l.Layers[i]; a.Name() != b.Name() || a.Type() != b.Type() {
			t.Errorf("layer %d is %s (%s), want %s (%s)", i, b.Name(), b.Type(), a.Name(), a.Type())
		}
	}
	if !slices.Equal(l.ClassNames, m.ClassNames) || !mapsEqual(l.Meta, m.Meta) {
		t.Errorf("loaded classes %v meta %v, want %v %v", l.ClassNames, l.Meta, m.ClassNames, m.Meta)
	}
	if !reflect.DeepEqual(l.Standardizer, m.Standardizer) {
		t.Errorf("loaded standardizer %+v, want %+v", l.Standardizer, m.Standardizer)
	}
	if !slices.Equal(l.InputShape(), m.InputShape()) {
		t.Errorf("loaded InputShape() = %v, want %v", l.InputShape(), m.InputShape())
	}
	if l.Optimizer() == nil || l.Optimizer().Iterations() != 3 || l.Loss() != m.Loss() {
		t.Fatalf("loaded optimizer %v, loss %+v; want 3 iterations of rmsprop and %+v", l.Optimizer(), l.Loss(), m.Loss())
	}
	// Saving the loaded model gives the same bytes.
	if !bytes.Equal(encode(t, m, true), encode(t, l, true)) {
		t.Error("the loaded model encodes to different bytes")
	}
	// Resuming: both continue identically, dropout masks included.
	for range 3 {
		m.TrainStep(x, y)
		l.TrainStep(x, y)
	}
	if !equalWeights(weights(m), weights(l)) {
		t.Error("training the loaded model diverges from training the original")
	}
}

func TestSaveWithoutOptimizer(t *testing.T) {
	m, _, _ := trained(t)
	l, err := decode(encode(t, m, false))
	if err != nil {
		t.Fatal(err)
	}
	if l.Optimizer() != nil {
		t.Errorf("model saved without optimizer loads with %v", l.Optimizer())
	}
	if !equalWeights(weights(m), weights(l)) {
		t.Error("loaded weights differ")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

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

// failingWriter fails after n bytes, like a full disk or a crash mid-save.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestSaveFailureKeepsOldFile(t *testing.T) {
	m, x, y := trained(t)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)
	m.TrainStep(x, y)
	// Write the new version through a writer that fails halfway.
	err := safefile.Write(path, true, func(w io.Writer) error {
		return Encode(io.MultiWriter(w, &failingWriter{n: len(old) / 2}), m, true)
	})
	if err == nil {
		t.Fatal("the failing save reported no error")
	}
	now, _ := os.ReadFile(path)
	if !bytes.Equal(now, old) {
		t.Errorf("a failed save changed the file")
	}
	if _, err := Load(path); err != nil {
		t.Errorf("the old file no longer loads: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files after a failed save, want 1", len(entries))
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

func TestDecodeErrors(t *testing.T) {
	m, _, _ := trained(t)
	good := encode(t, m, true)
	n := int(binary.LittleEndian.Uint64(good[:8]))
	withLen := func(v uint64) []byte {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint64(b, v)
		return b
	}
	// archWith changes the architecture's config; config.layers[0] is the
	// InputLayer, layers[i] the model's layer i.
	archWith := func(f func(a map[string]any)) func(h map[string]any) {
		return func(h map[string]any) {
			meta := h["__metadata__"].(map[string]any)
			var a map[string]any
			json.Unmarshal([]byte(meta["architecture"].(string)), &a)
			f(a["config"].(map[string]any))
			s, _ := json.Marshal(a)
			meta["architecture"] = string(s)
		}
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"length only", good[:8], "header length"},
		{"truncated header", good[:8+n/2], "exceeds the file size"},
		{"truncated data", good[:len(good)-4], "outside the data section"},
		{"header length 0", withLen(0), "want at least 2"},
		{"header length huge", withLen(1 << 62), "exceeds the file size"},
		{"header not JSON", append(withLen(3), "xyz"...)[:11], "not a JSON object"},
		{"trailing bytes", append(slices.Clone(good), 0, 0, 0, 0), "4 bytes after the last tensor"},
		{"not convnet", rewrite(t, good, setMeta("format", "pt")), `format "pt", want "convnet"`},
		{"no metadata", rewrite(t, good, func(h map[string]any) { delete(h, "__metadata__") }), "no __metadata__"},
		{"newer version", rewrite(t, good, setMeta("format_version", "3")), "model file version 3 is newer than this program supports (2)"},
		{"bad version", rewrite(t, good, setMeta("format_version", "one")), `format_version "one"`},
		{"dtype", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["dtype"] = "F16" })), `"conv2d/bias": dtype "F16"`},
		{"shape vs offsets", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["shape"] = []int{5} })), `"conv2d/bias": shape [5] needs 20 bytes`},
		{"negative dim", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["shape"] = []int{-4} })), "negative dimension"},
		{"offsets count", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["data_offsets"] = []int{0} })), "data_offsets has 1 values"},
		{"overlap", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["data_offsets"] = []int{0, 16} })), "overlaps"},
		{"unknown field", rewrite(t, good, entry("conv2d/bias", func(e map[string]any) { e["x"] = 1 })), `unknown field "x"`},
		{"missing tensor", rewrite(t, good, func(h map[string]any) {
			// Drop the last tensor by name and trim its bytes: "dense_1/bias" is
			// not last, so instead rename it.
			h["dense_1/extra"] = h["dense_1/bias"]
			delete(h, "dense_1/bias")
		}), `tensor "dense_1/bias" is missing`},
		{"shape vs architecture", rewrite(t, good, entry("dense_1/kernel", func(e map[string]any) { e["shape"] = []int{5, 16} })),
			`"dense_1/kernel" has shape [5 16], the architecture needs [16 5]`},
		{"tensor twice", rawHeader(t, good, func(h string) string {
			i := strings.Index(h, `"conv2d/bias":`)
			j := i + strings.Index(h[i:], "}") + 1
			return h[:len(h)-1] + "," + h[i:j] + "}"
		}), `tensor "conv2d/bias" appears twice`},
		{"metadata twice", rawHeader(t, good, func(h string) string { return `{"__metadata__":{},` + h[1:] }), "__metadata__ appears twice"},
		{"metadata null", rawHeader(t, good, func(h string) string { return `{"__metadata__":null,` + h[1:] }), "__metadata__ is not an object of strings"},
		{"data after the header", rawHeader(t, good, func(h string) string { return h + "{}" }), "data after the JSON object"},
		{"header not closed", rawHeader(t, good, func(h string) string { return h[:len(h)-1] + "," }), "header is not a JSON object"},
		{"weights of another layer", rewrite(t, good, archWith(func(a map[string]any) {
			a["layers"].([]any)[6].(map[string]any)["config"].(map[string]any)["name"] = "dense_2"
		})), "layer 6: dense_2 (Dense) needs 1040 weights, the file holds 0 for it"},
		{"architecture not JSON", rewrite(t, good, setMeta("architecture", "{")), "architecture:"},
		{"no architecture", rewrite(t, good, func(h map[string]any) { delete(h["__metadata__"].(map[string]any), "architecture") }), "no architecture"},
		{"unknown layer", rewrite(t, good, archWith(func(a map[string]any) {
			a["layers"].([]any)[2].(map[string]any)["class_name"] = "Conv3D"
		})), `layers[2]: batch_normalization (Conv3D): nn: unknown layer type "Conv3D"`},
		{"huge dense", rewrite(t, good, archWith(func(a map[string]any) {
			a["layers"].([]any)[6].(map[string]any)["config"].(map[string]any)["units"] = 1 << 30
		})), "needs 69793218560 weights, the file holds 1040 for it"},
		{"bad input shape", rewrite(t, good, archWith(func(a map[string]any) {
			a["layers"].([]any)[0].(map[string]any)["config"].(map[string]any)["batch_input_shape"] = []any{nil, 8, -8, 1}
		})), "input shape"},
		{"classes count", rewrite(t, good, setMeta("classes", `["a"]`)), "1 names for 5 outputs"},
		{"preprocessing", rewrite(t, good, setMeta("preprocessing", `{"image_center":true,"mean_image":[1,2]}`)), "preprocessing"},
		{"unknown optimizer", rewrite(t, good, setMeta("optimizer", `{"name":"lion","config":{}}`)), `unknown optimizer "lion"`},
		{"optimizer slot missing", rewrite(t, good, func(h map[string]any) {
			h["optimizer/dense_1/kernel/other"] = h["optimizer/dense_1/kernel/momentum"]
			delete(h, "optimizer/dense_1/kernel/momentum")
		}), `tensor "optimizer/dense_1/kernel/momentum" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode() error = %v, want it to contain %q", err, tt.want)
			}
			var fe *FormatError
			if err != nil && !errors.As(err, &fe) {
				t.Errorf("Decode() error %T is not a *FormatError", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("Load of a missing file: error = %v, want it to name the file", err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("not a model"), 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "bad.safetensors: invalid model file") {
		t.Errorf("Load of a bad file: error = %v", err)
	}
	if _, err := Load(dir); err == nil {
		t.Errorf("Load of a folder: no error")
	}
}

func TestEncodeReservedMeta(t *testing.T) {
	m := small(t, 1)
	m.Meta = map[string]string{"format": "x"}
	if err := Encode(io.Discard, m, false); err == nil || !strings.Contains(err.Error(), `"format" is reserved`) {
		t.Errorf("Encode with a reserved metadata key: error = %v", err)
	}
}

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
// the optimizer), a read buffer of up to 64 KiB, a small multiple of its
// header (the parsed entries) and a little more.
func decodeBudget(b []byte) uint64 {
	var n uint64
	if len(b) >= 8 {
		n = min(binary.LittleEndian.Uint64(b), uint64(len(b)-8))
	}
	data := uint64(len(b)) - n
	return 2*data + min(data, 64<<10) + 16*n + 32<<10
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
