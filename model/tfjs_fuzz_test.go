package model

import (
	"io"
	"testing"
	"testing/fstest"
)

// FuzzImportTFJS feeds ImportTFJS an arbitrary model.json and weights file
// (group1-shard1of1.bin, the name ExportTFJS gives one shard): it must
// return a model or an error, never panic, and allocate at most 64 times
// their size and some; a model it returns must save as a model file.
//
//	go test ./model/ -run '^$' -fuzz '^FuzzImportTFJS$' -fuzztime 60s -fuzzminimizetime 1s
func FuzzImportTFJS(f *testing.F) {
	for _, m := range []*Sequential{tiny(f), tinyGraph(f), builtGraph(f)} {
		fsys := tfjsFS(f, m, 0, "")
		f.Add(fsys["model.json"].Data, fsys["group1-shard1of1.bin"].Data)
	}
	good := tfjsFS(f, tiny(f), 0, "")
	doc, bin := good["model.json"].Data, good["group1-shard1of1.bin"].Data
	for _, n := range []int{0, 1, len(doc) / 2, len(doc) - 1} {
		f.Add(doc[:n], bin)
	}
	f.Add(doc, bin[:len(bin)/2])
	f.Add([]byte(`{"format":"layers-model","modelTopology":{"class_name":"Sequential","config":{"layers":[]}},"weightsManifest":[{"paths":["group1-shard1of1.bin"],"weights":[{"name":"a","shape":[1073741824,1073741824],"dtype":"float32","quantization":{"dtype":"uint8","min":0,"scale":1}}]}]}`), bin)
	f.Fuzz(func(t *testing.T, doc, bin []byte) {
		fsys := fstest.MapFS{"model.json": {Data: doc}, "group1-shard1of1.bin": {Data: bin}}
		var m *Sequential
		var err error
		n := allocated(func() { m, err = ImportTFJS(fsys, "model.json", KerasImportOptions{}) })
		if limit := 64*uint64(len(doc)+len(bin)) + 32<<20; n > limit {
			t.Errorf("model.json of %d bytes and weights of %d allocate %d bytes, want at most %d", len(doc), len(bin), n, limit)
		}
		if err != nil {
			return
		}
		if err := Encode(io.Discard, m, false); err != nil {
			t.Errorf("imported, but not saved: %v", err)
		}
	})
}
