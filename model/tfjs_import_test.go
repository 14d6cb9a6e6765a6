package model

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/convnet-go/convnet/data"
)

// tfjsFS returns the files ExportTFJS writes for m, in shards of at most
// shard bytes, as a file system under dir.
func tfjsFS(t testing.TB, m *Sequential, shard int, dir string) fstest.MapFS {
	t.Helper()
	files, err := ExportTFJS(m, TFJSExportOptions{ShardSize: shard})
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[dir+f.Name] = &fstest.MapFile{Data: f.Data}
	}
	return fsys
}

// TestImportTFJSExported reads back what ExportTFJS writes of a stack, a
// graph and one with branches, in shards
// of 64 bytes (a weight spread over several files): the same weights bit
// for bit, class names and preprocessing.
func TestImportTFJSExported(t *testing.T) {
	withStd := tiny(t)
	withStd.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseCenter: true, Mean: []float32{0.5}}
	for name, m := range map[string]*Sequential{"tiny": withStd, "graph": tinyGraph(t), "branches": builtGraph(t)} {
		fsys := tfjsFS(t, m, 64, "web/")
		if len(fsys) < 4 {
			t.Fatalf("%s: %d files, want model.json and shards", name, len(fsys))
		}
		back, err := ImportTFJS(fsys, "web/model.json", KerasImportOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, want := back.Params(), m.Params()
		if len(got) != len(want) {
			t.Fatalf("%s: %d weights, want %d", name, len(got), len(want))
		}
		for i := range want {
			if !slices.Equal(got[i].Value.Data, want[i].Value.Data) {
				t.Errorf("%s: weight %d (%s) differs", name, i, want[i].Name)
			}
		}
		a, _ := json.Marshal(back.Standardizer)
		b, _ := json.Marshal(m.Standardizer)
		if !slices.Equal(back.ClassNames, m.ClassNames) || string(a) != string(b) {
			t.Errorf("%s: classes %q, preprocessing %s; want %q, %s", name, back.ClassNames, a, m.ClassNames, b)
		}
	}
}

// TestImportTFJSErrors: a file that is not a layers model, weights that do
// not fit the manifest or the architecture, and paths out of the folder
// are errors that say where and what.
func TestImportTFJSErrors(t *testing.T) {
	good := tfjsFS(t, tiny(t), 0, "")
	doc := func(edit func(map[string]any)) fstest.MapFS {
		var d map[string]any
		if err := json.Unmarshal(good["model.json"].Data, &d); err != nil {
			t.Fatal(err)
		}
		edit(d)
		b, _ := json.Marshal(d)
		fsys := fstest.MapFS{"model.json": {Data: b}}
		for k, v := range good {
			if k != "model.json" {
				fsys[k] = v
			}
		}
		return fsys
	}
	spec := func(d map[string]any, i int) map[string]any {
		return d["weightsManifest"].([]any)[0].(map[string]any)["weights"].([]any)[i].(map[string]any)
	}
	bin := good["group1-shard1of1.bin"].Data
	for _, c := range []struct {
		name string
		fsys fstest.MapFS
		opts KerasImportOptions
		want string
	}{
		{"graph model", doc(func(d map[string]any) { d["format"] = "graph-model" }), KerasImportOptions{}, "a TensorFlow.js graph model"},
		{"no topology", doc(func(d map[string]any) { delete(d, "modelTopology") }), KerasImportOptions{}, "no modelTopology"},
		{"not JSON", fstest.MapFS{"model.json": {Data: []byte("{")}}, KerasImportOptions{}, "model.json: unexpected end of JSON input"},
		{"missing shard", doc(func(d map[string]any) {
			d["weightsManifest"].([]any)[0].(map[string]any)["paths"] = []any{"gone.bin"}
		}), KerasImportOptions{}, "weightsManifest[0]: open gone.bin"},
		{"path out", doc(func(d map[string]any) {
			d["weightsManifest"].([]any)[0].(map[string]any)["paths"] = []any{"../secret.bin"}
		}), KerasImportOptions{}, `path "../secret.bin" is not a file beside model.json`},
		{"short weights", func() fstest.MapFS {
			f := doc(func(map[string]any) {})
			f["group1-shard1of1.bin"] = &fstest.MapFile{Data: bin[:len(bin)-4]}
			return f
		}(), KerasImportOptions{}, "bytes of float32 values, 8 left in the weights files"},
		{"long weights", func() fstest.MapFS {
			f := doc(func(map[string]any) {})
			f["group1-shard1of1.bin"] = &fstest.MapFile{Data: append(slices.Clone(bin), 0, 0)}
			return f
		}(), KerasImportOptions{}, "the weights files hold 2 bytes more than the manifest's weights"},
		{"NaN", func() fstest.MapFS {
			f := doc(func(map[string]any) {})
			nan := slices.Clone(bin)
			binary.LittleEndian.PutUint32(nan[4:], math.Float32bits(float32(math.NaN())))
			f["group1-shard1of1.bin"] = &fstest.MapFile{Data: nan}
			return f
		}(), KerasImportOptions{}, "layer conv2d: weight conv2d/kernel: value 1 of 18 is NaN, want a finite number"},
		{"huge shape", doc(func(d map[string]any) { spec(d, 0)["shape"] = []any{1 << 30, 1 << 30, 1 << 30} }), KerasImportOptions{},
			`weight "conv2d/kernel": shape [1073741824 1073741824 1073741824]: more values than the`},
		{"negative shape", doc(func(d map[string]any) { spec(d, 0)["shape"] = []any{-1, 3} }), KerasImportOptions{}, "shape [-1 3]"},
		{"wrong shape", doc(func(d map[string]any) { spec(d, 0)["shape"] = []any{3, 3, 2, 1} }), KerasImportOptions{},
			"layer conv2d: weight conv2d/kernel: shape [3 3 2 1], the layer's kernel is [3 3 1 2]"},
		{"renamed", doc(func(d map[string]any) { spec(d, 1)["name"] = "other/bias" }), KerasImportOptions{}, "layer conv2d: no weight conv2d/bias in the manifest"},
		{"twice", doc(func(d map[string]any) { spec(d, 1)["name"] = "conv2d/kernel" }), KerasImportOptions{}, `weight "conv2d/kernel": named twice`},
		{"dtype", doc(func(d map[string]any) { spec(d, 0)["dtype"] = "string" }), KerasImportOptions{}, `dtype "string", want float32 or int32`},
		{"quantization", doc(func(d map[string]any) { spec(d, 0)["quantization"] = map[string]any{"dtype": "int4"} }), KerasImportOptions{},
			`quantization "int4" of a float32 weight, want uint8, uint16 or float16`},
		{"no scale", doc(func(d map[string]any) { spec(d, 0)["quantization"] = map[string]any{"dtype": "uint8", "min": 0} }), KerasImportOptions{},
			"quantized as uint8 without a scale and a min"},
		{"framing", doc(func(d map[string]any) {
			d["userDefinedMetadata"].(map[string]any)["convnet"].(map[string]any)["framing"] = map[string]any{"size": []any{4, 4}, "box": 3, "center": "middle", "at": []any{2, 2}}
		}), KerasImportOptions{}, `userDefinedMetadata.convnet.framing: framing: center "middle", want "mass" or "box"`},
		{"preprocessing twice", good, KerasImportOptions{Rescale: 0.5}, "giving preprocessing as well would replace it"},
		{"teachable, preprocessing given", func() fstest.MapFS {
			f := doc(func(d map[string]any) { delete(d, "userDefinedMetadata") })
			f["metadata.json"] = &fstest.MapFile{Data: []byte(`{"packageName": "@teachablemachine/image", "labels": ["a", "b", "c"]}`)}
			return f
		}(), KerasImportOptions{Rescale: 0.5}, ""},
		{"classes", good, KerasImportOptions{ClassNames: []string{"x"}}, "1 class names for 3 outputs"},
		{"architecture", good, KerasImportOptions{Architecture: []byte("{}")}, "holds its architecture"},
		{"metadata", func() fstest.MapFS {
			f := doc(func(d map[string]any) { delete(d, "userDefinedMetadata") })
			f["metadata.json"] = &fstest.MapFile{Data: []byte(`{"packageName": "@teachablemachine/image", "labels": "cat"}`)}
			return f
		}(), KerasImportOptions{}, "metadata.json: json: cannot unmarshal string"},
		{"another program's metadata.json", func() fstest.MapFS {
			f := doc(func(d map[string]any) { delete(d, "userDefinedMetadata") })
			f["metadata.json"] = &fstest.MapFile{Data: []byte(`{"labels": ["x"], "author": "someone"}`)}
			return f
		}(), KerasImportOptions{}, ""},
		{"teachable labels", func() fstest.MapFS {
			f := doc(func(d map[string]any) { delete(d, "userDefinedMetadata") })
			f["metadata.json"] = &fstest.MapFile{Data: []byte(`{"packageName": "@teachablemachine/image", "labels": ["a", "b"]}`)}
			return f
		}(), KerasImportOptions{}, "2 class names for 3 outputs"},
	} {
		_, err := ImportTFJS(c.fsys, "model.json", c.opts)
		if c.want == "" { // Teachable Machine's preprocessing gives way to the given; another program's metadata is not read
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "tfjs: ") {
			t.Errorf("%s: %v\nwant an error with %q", c.name, err, c.want)
		}
	}
}

// TestHalfToFloat converts half-precision values worked out by hand.
func TestHalfToFloat(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float64
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x7bff, 65504}, {0x0400, 1.0 / (1 << 14)},
		{0x0001, 1.0 / (1 << 24)}, {0x03ff, 1023.0 / (1 << 24)}, {0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)}, {0x0000, 0},
	} {
		if got := halfToFloat(c.h); float64(got) != c.want {
			t.Errorf("halfToFloat(%#04x) = %v, want %v", c.h, got, c.want)
		}
	}
	if v := halfToFloat(0x8000); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("halfToFloat(0x8000) = %v, want -0", v)
	}
	if v := halfToFloat(0x7e00); v == v {
		t.Errorf("halfToFloat(0x7e00) = %v, want NaN", v)
	}
}
