package hdf5

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// FuzzOpen opens arbitrary bytes and walks every group, dataset and
// attribute it finds: nothing may panic, loop, or allocate more than 64
// times the input plus 1 MiB in one call.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"keras.h5", "latest.h5", "types.h5", "keras315.weights.h5", "dense.h5"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w := &walker{t: t, limit: 64*uint64(len(b)) + 1<<20}
		var file *File
		w.bounded("Open", func() { file, _ = Open(bytes.NewReader(b), int64(len(b))) })
		if file != nil {
			w.group(file.Root(), 0)
		}
	})
}

// walker visits the groups of a file, checking each call's allocations.
type walker struct {
	t      *testing.T
	limit  uint64 // bytes one call may allocate
	groups int    // groups visited: hard links may make the tree a graph
}

// bounded runs call and fails the test if it allocates more than w.limit.
func (w *walker) bounded(name string, call func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	call()
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > w.limit {
		w.t.Fatalf("%s allocated %d bytes, more than %d", name, n, w.limit)
	}
}

// group walks g and its members, down to a depth of 4.
func (w *walker) group(g *Group, depth int) {
	w.groups++
	if depth > 4 || w.groups > 64 {
		return
	}
	w.bounded(g.Path()+" Attr", func() { g.Attr("name") })
	w.bounded(g.Path()+" AttrStrings", func() { g.AttrStrings("layer_names") })
	w.bounded(g.Path()+" Attr", func() { g.Attr("model_config") })
	for _, name := range g.Names() {
		w.bounded(g.Path()+" Has", func() { g.Has(name) })
		var sub *Group
		w.bounded(g.Path()+" Group", func() { sub, _ = g.Group(name) })
		if sub != nil {
			w.group(sub, depth+1)
			continue
		}
		var d *Dataset
		w.bounded(g.Path()+" Dataset", func() { d, _ = g.Dataset(name) })
		if d != nil {
			_ = d.Shape()
			w.bounded(d.Path()+" Float32s", func() { d.Float32s() })
		}
	}
}
