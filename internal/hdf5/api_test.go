package hdf5

import (
	"reflect"
	"strings"
	"testing"
)

// TestKeras315 reads the file Keras 3.15 wrote for a model of four Dense layers.
func TestKeras315(t *testing.T) {
	f := open(t, "keras315.weights.h5")
	layers, err := f.Root().Group("layers")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := layers.Names(), []string{"dense", "dense_1", "dense_2", "dense_3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("layers.Names() = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		path, name string
		shapes     [][]int
	}{
		{"layers/dense/vars", "d_0", [][]int{{4, 4}}},
		{"layers/dense_1/vars", "d_1", [][]int{{4, 4}}},
		{"layers/dense_2/vars", "d_2", [][]int{{4, 4}}},
		{"layers/dense_3/vars", "dense", [][]int{{4, 2}, {2}}},
		{"vars", "nested_dense_model", nil},
	} {
		g, err := f.Root().Group(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if name, ok, err := g.Attr("name"); name != tt.name || !ok || err != nil {
			t.Errorf("%s.Attr(\"name\") = %q, %v, %v; want %q, true, nil", tt.path, name, ok, err, tt.name)
		}
		if len(g.Names()) != len(tt.shapes) {
			t.Errorf("%s.Names() = %q, want %d names", tt.path, g.Names(), len(tt.shapes))
		}
		for i, shape := range tt.shapes {
			name := []string{"0", "1"}[i]
			d, err := g.Dataset(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Shape(); !reflect.DeepEqual(got, shape) {
				t.Errorf("%s.Shape() = %v, want %v", d.Path(), got, shape)
			}
			if !f.Root().Has(tt.path + "/" + name) {
				t.Errorf("Has(%q) = false", tt.path+"/"+name)
			}
		}
	}
}

// TestErrors checks the errors of lookups that fail, and that they name the path.
func TestErrors(t *testing.T) {
	f := open(t, "types.h5")
	root := f.Root()
	_, err1 := root.Group("missing/x")
	_, err2 := root.Group("f16")
	_, err3 := root.Dataset("strings")
	_, err4 := root.Dataset("")
	d, err := root.Dataset("text")
	if err != nil {
		t.Fatal(err)
	}
	_, err5 := d.Float32s()
	_, _, err6 := root.Attr("number")
	for _, tt := range []struct {
		err  error
		want string
	}{
		{err1, "hdf5: /missing: no such group or dataset"},
		{err2, "hdf5: /f16: is a dataset, not a group"},
		{err3, "hdf5: /strings: is a group, not a dataset"},
		{err4, "hdf5: /: empty member name"},
		{err5, "hdf5: /text: datatype is fixed-length string of 2 bytes, want a float or an integer"},
		{err6, "hdf5: /: attribute \"number\": datatype is float64 little-endian, want a string"},
	} {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.want) {
			t.Errorf("error %v, want %q", tt.err, tt.want)
		}
	}
	if v, ok, err := root.Attr("missing"); v != "" || ok || err != nil {
		t.Errorf("Attr(\"missing\") = %q, %v, %v; want \"\", false, nil", v, ok, err)
	}
	for path, want := range map[string]bool{"f16": true, "strings": true, "/strings/": true, "missing": false, "f16/x": false, "": false} {
		if got := root.Has(path); got != want {
			t.Errorf("Has(%q) = %v, want %v", path, got, want)
		}
	}
	g, err := root.Group("strings")
	if err != nil || g.Path() != "/strings" || len(g.Names()) != 0 {
		t.Errorf("Group(\"strings\") = %v, %v; want the empty group /strings", g, err)
	}
}
