package hdf5

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLookup3 checks the checksum against the values of Jenkins's
// lookup3.c (hashlittle with an initial value of 0).
func TestLookup3(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32
	}{{"", 0xdeadbeef}, {"Four score and seven years ago", 0x17770551}} {
		if got := lookup3([]byte(c.in)); got != c.want {
			t.Errorf("lookup3(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

// built is a file of nested groups, datasets of several shapes and string
// attributes, as Keras 2's model files hold them.
func built() []byte {
	f := NewFile()
	f.Attr("model_config", `{"class_name": "Sequential"}`)
	w := f.Group("model_weights")
	w.AttrStrings("layer_names", []string{"conv2d", "flatten", "dense"})
	conv := w.Group("conv2d")
	conv.AttrStrings("weight_names", []string{"conv2d/kernel:0", "conv2d/bias:0"})
	inner := conv.Group("conv2d")
	inner.Float32("kernel:0", []int{3, 3, 1, 2}, make([]float32, 18))
	inner.Float32("bias:0", []int{2}, []float32{1.5, -2})
	w.Group("flatten").AttrStrings("weight_names", nil)
	w.Group("dense").Float32("scalar", nil, []float32{7})
	w.Group("normalization").Int64("count", nil, []int64{1 << 40})
	big := w.Group("big")
	big.Attr("model_config", largeConfig)
	big.AttrStrings("layer_names", largeNames)
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// largeConfig and largeNames are attributes too large for fixed-length
// strings in an object header message: the writer puts them in a global heap.
var (
	largeConfig = strings.Repeat("0123456789", 7000)
	largeNames  = func() []string {
		names := make([]string, 3000)
		for i := range names {
			names[i] = strings.Repeat("é", i%40) // the first empty
		}
		return names
	}()
)

// TestWriteRead reads back with the package's reader what the writer wrote.
func TestWriteRead(t *testing.T) {
	b := built()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	root := f.Root()
	if v, ok, err := root.Attr("model_config"); v != `{"class_name": "Sequential"}` || !ok || err != nil {
		t.Errorf("model_config = %q, %v, %v", v, ok, err)
	}
	w, err := root.Group("model_weights")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := w.AttrStrings("layer_names"); err != nil || !reflect.DeepEqual(got, []string{"conv2d", "flatten", "dense"}) {
		t.Errorf("layer_names = %q, %v", got, err)
	}
	d, err := w.Dataset("conv2d/conv2d/bias:0")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1.5, -2}) || !reflect.DeepEqual(d.Shape(), []int{2}) {
		t.Errorf("bias:0 = %v %v, %v", v, d.Shape(), err)
	}
	if d, err := w.Dataset("conv2d/conv2d/kernel:0"); err != nil || !reflect.DeepEqual(d.Shape(), []int{3, 3, 1, 2}) {
		t.Errorf("kernel:0: %v", err)
	}
	if d, err := w.Dataset("dense/scalar"); err != nil || len(d.Shape()) != 0 {
		t.Errorf("scalar: %v", err)
	}
	if d, err := w.Dataset("normalization/count"); err != nil {
		t.Error(err)
	} else if v, err := d.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1 << 40}) {
		t.Errorf("count = %v, %v", v, err)
	}
	if got, want := w.Names(), []string{"big", "conv2d", "dense", "flatten", "normalization"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	big, err := w.Group("big")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := big.Attr("model_config"); v != largeConfig || !ok || err != nil {
		t.Errorf("model_config of %d bytes: %d bytes, %v, %v", len(largeConfig), len(v), ok, err)
	}
	if v, ok, err := big.AttrStrings("layer_names"); !reflect.DeepEqual(v, largeNames) || !ok || err != nil {
		t.Errorf("layer_names: %d names, %v, %v", len(v), ok, err)
	}
}

// TestWriteH5py reads the file with h5py (the HDF5 C library, which checks
// every checksum): its groups, datasets and attributes.
func TestWriteH5py(t *testing.T) {
	py, err := exec.LookPath("/usr/bin/python3")
	if err == nil {
		err = exec.Command(py, "-c", "import h5py").Run()
	}
	if err != nil {
		if os.Getenv("CONVNET_CI") != "" {
			t.Fatalf("CI needs python3-h5py: %v", err)
		}
		t.Skipf("no h5py: %v", err)
	}
	path := filepath.Join(t.TempDir(), "w.h5")
	if err := os.WriteFile(path, built(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    print("model_config", f.attrs["model_config"])
    big = f["model_weights/big"].attrs
    print("big", type(big["model_config"]).__name__, big["model_config"] == "0123456789" * 7000,
          big["layer_names"].shape, big["layer_names"][0] == "", big["layer_names"][3] == "\u00e9" * 3)
    def show(name, obj):
        if name == "model_weights/big":
            return
        kind = "dataset %s %s %s" % (obj.dtype, obj.shape, obj[()].tolist()) if isinstance(obj, h5py.Dataset) else "group"
        print(name, kind, {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in obj.attrs.items()})
    f.visititems(show)
`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	want := `model_config b'{"class_name": "Sequential"}'
big str True (3000,) True True
model_weights group {'layer_names': [b'conv2d', b'flatten', b'dense']}
model_weights/conv2d group {'weight_names': [b'conv2d/kernel:0', b'conv2d/bias:0']}
model_weights/conv2d/conv2d group {}
model_weights/conv2d/conv2d/bias:0 dataset float32 (2,) [1.5, -2.0] {}
model_weights/conv2d/conv2d/kernel:0 dataset float32 (3, 3, 1, 2) `
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("h5py reads:\n%s\nwant it to begin with\n%s", out, want)
	}
	for _, line := range []string{"model_weights/dense/scalar dataset float32 () 7.0 {}", "model_weights/normalization/count dataset int64 () 1099511627776 {}", "model_weights/flatten group {'weight_names': []}"} {
		if !strings.Contains(string(out), line) {
			t.Errorf("h5py reads:\n%s\nwant a line %q", out, line)
		}
	}
}

// TestWriteLargeAttr: an attribute is written as fixed-length strings up
// to what an object header message holds, as variable-length ones past it.
func TestWriteLargeAttr(t *testing.T) {
	for _, n := range []int{MaxFixed - 1, MaxFixed, 200000} {
		f := NewFile()
		value := strings.Repeat("x", n-1)
		f.Group("g").Attr("a", value)
		var b bytes.Buffer
		if _, err := f.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		r, err := Open(bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err != nil {
			t.Fatal(err)
		}
		g, err := r.Root().Group("g")
		if err != nil {
			t.Fatal(err)
		}
		a, err := parseAttribute(g.attrs[0], r)
		if err != nil {
			t.Fatal(err)
		}
		typ, _ := parseDatatype(a.datatype)
		if v, _, err := g.Attr("a"); v != value || err != nil || typ.vstring != (n > MaxFixed) {
			t.Errorf("an attribute of %d bytes: %d bytes back, %v; variable-length %v", n, len(v), err, typ.vstring)
		}
	}
}
