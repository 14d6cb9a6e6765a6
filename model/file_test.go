package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/internal/version"
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
	wantMeta := map[string]string{"convnet_version": version.String(), "go_version": version.Go()}
	for k, v := range m.Meta {
		wantMeta[k] = v
	}
	if !slices.Equal(l.ClassNames, m.ClassNames) || !mapsEqual(l.Meta, wantMeta) {
		t.Errorf("loaded classes %v meta %v, want %v %v", l.ClassNames, l.Meta, m.ClassNames, wantMeta)
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

// setValue returns a copy of model file b with value i of the tensor called
// name replaced by v.
func setValue(t testing.TB, b []byte, name string, i int, v float32) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b[:8])
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	var e tensorEntry
	if err := json.Unmarshal(h[name], &e); err != nil {
		t.Fatal(err)
	}
	out := slices.Clone(b)
	binary.LittleEndian.PutUint32(out[8+int(n)+int(e.DataOffsets[0])+4*i:], math.Float32bits(v))
	return out
}

// TestDecodeErrors checks what the model's schema refuses in a well-formed
// container.
func TestDecodeErrors(t *testing.T) {
	m, _, _ := trained(t)
	good := encode(t, m, true)
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
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	tests := []decodeErrorCase{
		{"not convnet", rewrite(t, good, setMeta("format", "pt")), `format "pt", want "convnet"`},
		{"no metadata", rewrite(t, good, func(h map[string]any) { delete(h, "__metadata__") }), "no __metadata__"},
		{"newer version", rewrite(t, good, setMeta("format_version", "3")), "model file version 3 is newer than this program supports (2)"},
		{"bad version", rewrite(t, good, setMeta("format_version", "one")), `format_version "one"`},
		{"missing tensor", rewrite(t, good, func(h map[string]any) {
			// Drop the last tensor by name and trim its bytes: "dense_1/bias" is
			// not last, so instead rename it.
			h["dense_1/extra"] = h["dense_1/bias"]
			delete(h, "dense_1/bias")
		}), `tensor "dense_1/bias" is missing`},
		{"shape vs architecture", rewrite(t, good, entry("dense_1/kernel", func(e map[string]any) { e["shape"] = []int{5, 16} })),
			`"dense_1/kernel" has shape [5 16], the architecture needs [16 5]`},
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
		{"unknown optimizer", rewrite(t, good, setMeta("optimizer", `{"name":"ftrl","config":{}}`)), `unknown optimizer "ftrl"`},
		{"optimizer slot missing", rewrite(t, good, func(h map[string]any) {
			h["optimizer/dense_1/kernel/other"] = h["optimizer/dense_1/kernel/momentum"]
			delete(h, "optimizer/dense_1/kernel/momentum")
		}), `tensor "optimizer/dense_1/kernel/momentum" is missing`},
		{"NaN weight", setValue(t, good, "conv2d/kernel", 3, nan), `tensor "conv2d/kernel": value 3 of 36 is NaN, want a finite number`},
		{"infinite weight", setValue(t, good, "dense_1/bias", 4, inf), `tensor "dense_1/bias": value 4 of 5 is -Inf`},
		{"NaN moving variance", setValue(t, good, "batch_normalization/moving_variance", 0, nan), `"batch_normalization/moving_variance": value 0 of 4 is NaN`},
		{"NaN optimizer state", setValue(t, good, "optimizer/dense_1/kernel/velocity", 7, nan), `"optimizer/dense_1/kernel/velocity": value 7 of 80 is NaN`},
	}
	checkDecodeErrors(t, tests)
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
	if _, err := Load(dir); !errors.Is(err, safefile.ErrNotRegular) || !strings.Contains(err.Error(), dir+" is a folder") {
		t.Errorf("Load of a folder: error = %v, want not a regular file", err)
	}
}

// Load refuses a named pipe or a device at once: opening a pipe for reading
// would wait for a writer, and reading a device may never end.
func TestLoadNotRegular(t *testing.T) {
	paths := map[string]string{}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths["/dev/zero"] = "a device"
	}
	if mkfifo, err := exec.LookPath("mkfifo"); err == nil {
		fifo := filepath.Join(t.TempDir(), "pipe.safetensors")
		if out, err := exec.Command(mkfifo, fifo).CombinedOutput(); err != nil {
			t.Fatalf("mkfifo: %v %s", err, out)
		}
		paths[fifo] = "a named pipe"
	}
	if len(paths) == 0 {
		t.Skip("neither /dev/zero nor mkfifo here")
	}
	for path, kind := range paths {
		done := make(chan error, 1)
		go func() {
			_, err := Load(path)
			done <- err
		}()
		select {
		case err := <-done:
			if want := path + " is " + kind; !errors.Is(err, safefile.ErrNotRegular) || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%s) error = %v, want %q", path, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Load(%s) still running after 5 s", path)
		}
	}
}

func TestEncodeReservedMeta(t *testing.T) {
	m := small(t, 1)
	m.Meta = map[string]string{"format": "x"}
	if err := Encode(io.Discard, m, false); err == nil || !strings.Contains(err.Error(), `"format" is reserved`) {
		t.Errorf("Encode with a reserved metadata key: error = %v", err)
	}
}

// TestWritersRefuseWhatReadersRefuse: class names of another count than
// the outputs, or preprocessing for another input, are refused when saving
// (and no file is left) or exporting, and weights that are not finite when
// saving, rather than written to a file that Load or the importers then
// refuse.
func TestWritersRefuseWhatReadersRefuse(t *testing.T) {
	writers := []struct {
		name string
		f    func(m *Sequential) error
	}{
		{"save", func(m *Sequential) error {
			path := filepath.Join(t.TempDir(), "m.safetensors")
			err := Save(path, m, SaveOptions{})
			if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
				t.Errorf("Save left a file (%v)", statErr)
			}
			return err
		}},
		{"export onnx", func(m *Sequential) error { return ExportONNX(io.Discard, m, ONNXExportOptions{}) }},
		{"export keras", func(m *Sequential) error { return ExportKeras(io.Discard, m, KerasExportOptions{}) }},
		{"export tfjs", func(m *Sequential) error { _, err := ExportTFJS(m, TFJSExportOptions{}); return err }},
	}
	for _, c := range []struct {
		name     string
		set      func(m *Sequential)
		want     string
		saveOnly bool // the importers take weights that are not finite
	}{
		{"class names", func(m *Sequential) { m.ClassNames = []string{"a", "b"} }, "2 class names for 5 outputs", false},
		{"preprocessing", func(m *Sequential) {
			m.Standardizer = &data.Standardizer{ImageCenter: true, MeanImage: []float32{1, 2}}
		}, "preprocessing: mean image has 2 values, want 64", false},
		{"weights", func(m *Sequential) {
			m.Layers[2].Params()[1].Value.Data[3] = float32(math.Inf(-1))
		}, `tensor "dense/bias": value 3 of 5 is -Inf, want a finite number`, true},
	} {
		for _, w := range writers {
			if c.saveOnly && w.name != "save" {
				continue
			}
			m := New(&nn.Conv2D{Filters: 2, KernelSize: pair(3), Padding: "same", Activation: "relu"}, &nn.Flatten{}, &nn.Dense{Units: 5, Activation: "softmax"})
			if err := m.Build([]int{8, 8, 1}, 1); err != nil {
				t.Fatal(err)
			}
			c.set(m)
			want := strings.Replace(w.name, "save", "encode", 1) + ": " + c.want
			if err := w.f(m); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s with %s: error %v, want %q", w.name, c.name, err, want)
			}
		}
	}
}

// Every file records the build that wrote it; saving a loaded model records
// the build saving it, whatever the model's Meta says.
func TestVersionMetadata(t *testing.T) {
	m := small(t, 1)
	m.Meta = map[string]string{"convnet_version": "v0.0.1", "go_version": "go1.1"}
	l, err := decode(encode(t, m, false))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Meta["convnet_version"]; got != version.String() || got == "" {
		t.Errorf("convnet_version = %q, want %q", got, version.String())
	}
	if got := l.Meta["go_version"]; got != version.Go() || !strings.HasPrefix(got, "go") {
		t.Errorf("go_version = %q, want %q", got, version.Go())
	}
}

// compatFile was written by convnet at commit 39ea831, before files recorded
// their writer's version: the model of tiny with its optimizer state, a
// history (SetHistory) and the evaluation "convnet evaluate --update-model"
// stored on a CSV of 9 images.
const compatFile = "testdata/tiny-39ea831.safetensors"

// TestLoadOlderFile loads a file written by an earlier build and checks
// every part of it, then saves it again: the weights and the optimizer
// state keep their bytes.
func TestLoadOlderFile(t *testing.T) {
	old, err := os.ReadFile(compatFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(compatFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Meta["convnet_version"]; ok {
		t.Errorf("Meta holds a convnet_version the file does not")
	}
	if !slices.Equal(m.ClassNames, []string{"a", "b", "c"}) || m.Optimizer() == nil || m.Optimizer().Iterations() != 1 {
		t.Errorf("classes %v, optimizer %v", m.ClassNames, m.Optimizer())
	}
	if s := m.Standardizer; s == nil || s.Rescale != 0.5 || !s.ImageCenter || s.MeanImage[15] != 15.0/64 {
		t.Errorf("preprocessing %+v", s)
	}
	if h, err := m.History(); err != nil || len(h.Epochs) != 2 || h.Epochs[1].Loss != 1.0 || !h.Epochs[1].HasValidation {
		t.Errorf("History() = %+v, %v", h, err)
	}
	ev, err := m.Evaluation()
	if err != nil || ev.Count != 9 || len(ev.Samples) != 9 || ev.Loss < 10.74 || ev.Loss > 10.75 || ev.Matrix[0][2] != 3 {
		t.Errorf("Evaluation() = %+v, %v", ev, err)
	}
	again := encode(t, m, true)
	if n, k := binary.LittleEndian.Uint64(old), binary.LittleEndian.Uint64(again); !bytes.Equal(old[8+n:], again[8+k:]) {
		t.Errorf("the tensors of the file saved again differ from the original's")
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
