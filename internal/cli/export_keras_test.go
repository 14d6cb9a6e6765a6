package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// h5Dump is a Python script printing, with h5py, every group's and
// dataset's attributes and every dataset's type, shape and values of an
// HDF5 file, in order of path, less the root's attributes named after
// the file. Strings are printed as text: h5py writes the bytes of Keras 2
// as variable-length strings, convnet as fixed-length ones, both of which
// Keras reads (it decodes bytes).
const h5Dump = `
import sys, h5py
def text(v):
    v = v.tolist() if hasattr(v, "tolist") else v
    if isinstance(v, list):
        return [text(x) for x in v]
    return v.decode() if isinstance(v, bytes) else v
with h5py.File(sys.argv[1], "r") as f:
    skip = sys.argv[2:]
    print("/", {k: text(f.attrs[k]) for k in sorted(f.attrs) if k not in skip})
    def show(name, obj):
        attrs = {k: text(obj.attrs[k]) for k in sorted(obj.attrs)}
        if isinstance(obj, h5py.Dataset):
            print(name, obj.dtype, obj.shape, obj[()].tobytes().hex(), attrs)
        else:
            print(name, attrs)
    f.visititems(show)
`

// TestExportKeras exports models of random weights to Keras's HDF5 file
// and checks it three ways: h5py reads the same groups, datasets and
// attributes as in the file h5py writes as Keras 2's model.save does
// (testdata/write_keras.py) but for the architecture, which is convnet's;
// convnet import --keras brings back every weight bit for bit, the class
// names, the preprocessing and the framing, and the same outputs; and every weighted
// layer's weights are named in the order of Keras's layer.weights.
func TestExportKeras(t *testing.T) {
	py := python(t, "h5py", "numpy")
	docs := map[string][]byte{"long names": longNames(800)}
	if n := len(docs["long names"]); n < 1<<16 {
		t.Fatalf("the architecture of long names takes %d bytes, want more than an object header message holds", n)
	}
	for _, name := range []string{"tutorial_sequential.json", "residual_keras3.json"} {
		doc, err := os.ReadFile("../../model/testdata/keras/" + name)
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = doc
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			m, err := model.ParseArchitecture(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Build(nil, 3); err != nil {
				t.Fatal(err)
			}
			reference := writeKeras(t, m, doc, nil, "--h5") // and m's weights at random
			m.ClassNames = make([]string, m.NumClasses())
			for i := range m.ClassNames {
				m.ClassNames[i] = "class " + string(rune('a'+i%26))
			}
			m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, Mean: []float32{0.25}}
			in := m.InputShape()
			framing := data.Framing{Size: [2]int{in[0], in[1]}, Crop: 0.875}
			if err := m.SetFraming(framing); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			src, out := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "m.h5")
			if err := model.Save(src, m, model.SaveOptions{}); err != nil {
				t.Fatal(err)
			}
			if code, _, stderr := runCLI("export", "--model", src, "--format", "keras", "--out", out); code != 0 {
				t.Fatalf("export: exit %d: %s", code, stderr)
			}
			dump := func(path string, skip ...string) string {
				b, err := exec.Command(py, append([]string{"-c", h5Dump, path}, skip...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("h5py on %s: %v\n%s", path, err, b)
				}
				return string(b)
			}
			got, want := dump(out, "model_config", "convnet"), dump(reference, "model_config")
			if got != want {
				t.Errorf("h5py reads\n%s\nin the export, and in the file written as Keras does\n%s", got, want)
			}

			if code, _, stderr := runCLI("import", "--keras", out, "--rescale", "1/255", "--out", filepath.Join(dir, "twice.safetensors")); code != 1 || !strings.Contains(stderr, "the file holds the preprocessing its weights expect") {
				t.Errorf("import with preprocessing over the file's: exit %d, %s", code, stderr)
			}
			back := filepath.Join(dir, "back.safetensors")
			if code, _, stderr := runCLI("import", "--keras", out, "--out", back); code != 0 {
				t.Fatalf("import: exit %d: %s", code, stderr)
			}
			b, err := model.Load(back)
			if err != nil {
				t.Fatal(err)
			}
			sameModel(t, b, m)
			if !slices.Equal(b.ClassNames, m.ClassNames) || b.Standardizer == nil || b.Standardizer.Rescale != 1.0/255 || !slices.Equal(b.Standardizer.Mean, []float32{0.25}) {
				t.Errorf("back: classes %q, preprocessing %+v", b.ClassNames, b.Standardizer)
			}
			if f, err := b.Framing(); err != nil || f != framing {
				t.Errorf("back: framing %+v (%v), want %+v", f, err, framing)
			}
		})
	}
}

// longNames is the architecture of n Dense layers with names of 100
// characters: for n of 800, more than the 64,512 bytes Keras 2 keeps in one
// attribute, so that its layer_names go in chunks, and an architecture
// larger than an HDF5 object header message holds (Keras 2's model_config
// of a large model), which goes to a global heap.
func longNames(n int) []byte {
	layers := []string{`{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2, 2, 1], "name": "input"}}`,
		`{"class_name": "Flatten", "config": {"name": "flatten"}}`}
	for i := range n {
		layers = append(layers, fmt.Sprintf(`{"class_name": "Dense", "config": {"name": "dense_%094d", "units": 3}}`, i))
	}
	return []byte(`{"class_name": "Sequential", "config": {"name": "long", "layers": [` + strings.Join(layers, ", ") + `]}}`)
}

// TestExportKerasOrder checks the order of each weighted layer's weights,
// which Keras's loader takes by position, against Keras's layer.weights
// (the order of the add_weight calls of each layer's build), and the
// shapes of Normalization's weights, which the loader checks: the mean and
// the variance of the kept axes alone, a scalar int64 count.
func TestExportKerasOrder(t *testing.T) {
	py := python(t, "h5py", "numpy")
	m := model.New(
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Activation: "leaky_relu"},
		&nn.BatchNormalization{},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, NoBias: true},
		&nn.BatchNormalization{NoScale: true},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same"},
		&nn.BatchNormalization{NoCenter: true},
		&nn.DepthwiseConv2D{KernelSize: [2]int{2, 2}, NoBias: true},
		&nn.LayerNormalization{},
		&nn.LayerNormalization{Axis: []int{-1}, NoCenter: true},
		&nn.GroupNormalization{Groups: 2},
		&nn.GroupNormalization{Groups: 2, NoScale: true},
		&nn.PReLU{},
		&nn.Normalization{},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{9, 9, 2}, 5); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, out := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "m.h5")
	if err := model.Save(src, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("export", "--model", src, "--format", "keras", "--out", out)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	b, err := exec.Command(py, "-c", `
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    classes = {l["config"]["name"]: l["class_name"] for l in json.loads(f.attrs["model_config"])["config"]["layers"]}
    g = f["model_weights"]
    for name in g.attrs["layer_names"]:
        name = name.decode()
        names = [n.decode().split("/")[-1].removesuffix(":0") for n in g[name].attrs["weight_names"]]
        if names:
            print(classes[name], " ".join(names))
        if classes[name] == "Normalization":  # Keras's mean: the kept axes; its count: a scalar int64
            v = g[name][name]
            print("count", v["mean:0"].shape, v["variance:0"].shape, v["count:0"].dtype, v["count:0"].shape)
`, out).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py: %v\n%s", err, b)
	}
	keras := map[string][]string{ // Keras's build order, for each layer's options
		"Conv2D": {"kernel bias", "kernel"}, "Dense": {"kernel bias", "kernel"}, "DepthwiseConv2D": {"depthwise_kernel bias", "depthwise_kernel"},
		"BatchNormalization": {"gamma beta moving_mean moving_variance", "beta moving_mean moving_variance", "gamma moving_mean moving_variance", "moving_mean moving_variance"},
		"LayerNormalization": {"gamma beta", "beta", "gamma"}, "GroupNormalization": {"gamma beta", "beta", "gamma"},
		"PReLU": {"alpha"}, "Normalization": {"mean variance count"}, "count": {"(4,) (4,) int64 ()"},
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, line := range lines {
		class, names, _ := strings.Cut(line, " ")
		if !slices.Contains(keras[class], names) {
			t.Errorf("%s: weights %q, want one of Keras's orders %q", class, names, keras[class])
		}
	}
	back := filepath.Join(dir, "back.safetensors")
	if code, _, stderr := runCLI("import", "--keras", out, "--out", back); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	b2, err := model.Load(back)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, b2, m) // Normalization's count included, and leaky_relu as a layer
	if len(lines) != 15 {
		t.Errorf("%d weighted layers:\n%s", len(lines), b)
	}
}

// TestExportKerasRefuses: what Keras has not, and a file name Keras
// would read as another format.
func TestExportKerasRefuses(t *testing.T) {
	dir := t.TempDir()
	m := everyLayer(t)
	src := filepath.Join(dir, "m.safetensors")
	if err := model.Save(src, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("export", "--model", src, "--format", "keras", "--out", filepath.Join(dir, "m.keras"))
	if code != 2 || !strings.Contains(stderr, "Keras reads this format from a .h5 file") {
		t.Errorf("a .keras name: exit %d, %s", code, stderr)
	}
	for _, c := range []struct {
		layers, want string
	}{
		{`{"class_name": "LayerScale", "config": {"name": "ls", "init_values": 0.1, "projection_dim": 2}}`, "layer ls (LayerScale): Keras has no such layer"},
		{`{"class_name": "Dense", "config": {"name": "d6", "units": 3, "activation": "relu6"}}`, `layer d6 (Dense): Keras 2 has no activation "relu6" that computes as convnet's`},
	} {
		doc := `{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2]}}, ` + c.layers + `]}}`
		m, err := model.ParseArchitecture([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Build(nil, 1); err != nil {
			t.Fatal(err)
		}
		if err := model.ExportKeras(&strings.Builder{}, m, model.KerasExportOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.layers, err, c.want)
		}
	}
}
