package model

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// tiny returns a trained model that uses every part of the file format
// (convolution, batch normalisation, optimizer state, classes,
// preprocessing, metadata) in a file of a few kilobytes, which the fuzzer
// mutates and minimises quickly.
func tiny(t testing.TB) *Sequential {
	m := New(
		&nn.Conv2D{Filters: 2, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.BatchNormalization{},
		&nn.MaxPool2D{},
		&nn.Dropout{Rate: 0.5},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{4, 4, 1}, 3); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"a", "b", "c"}
	m.Meta = map[string]string{"history": `{"loss":[1.1]}`}
	m.Standardizer = &data.Standardizer{Rescale: 0.5, ImageCenter: true, MeanImage: make([]float32, 16)}
	if err := m.Compile(&optim.RMSprop{Momentum: 0.5}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	x, y := randomBatch(m, 4, 5)
	m.TrainStep(x, y)
	return m
}

// fuzzSeeds returns FuzzDecode's seed corpus: good files, truncated and
// corrupted ones, and headers declaring more than their data holds.
func fuzzSeeds(t testing.TB) [][]byte {
	m, _, _ := trained(t)
	seeds := [][]byte{encode(t, m, true)}
	good := encode(t, tiny(t), true)
	seeds = append(seeds, good, encode(t, tiny(t), false))
	for _, n := range []int{0, 7, 8, 9, 64, len(good) / 2, len(good) - 1} {
		seeds = append(seeds, good[:n])
	}
	for _, at := range []int{0, 3, 8, 20, 100, len(good) - 10} {
		b := slices.Clone(good)
		b[at] ^= 0x55
		seeds = append(seeds, b)
	}
	huge := slices.Clone(good)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	seeds = append(seeds, huge)

	// Architectures whose weights the data cannot hold: the first layer
	// fits the file's weights, the others do not.
	var denses []nn.Layer
	for range 8 {
		denses = append(denses, &nn.Dense{Units: 3})
	}
	wide := archOf(t, built(t, []int{4, 4, 1}, &nn.Conv2D{Filters: 1 << 12, KernelSize: pair(3)}))
	big := archOf(t, built(t, []int{64}, &nn.Dense{Units: 1 << 10}))
	seeds = append(seeds,
		rewrite(t, good, setMeta("architecture", archOf(t, built(t, []int{8}, denses...)))),
		rewrite(t, good, setMeta("architecture", strings.Replace(wide, "[4,4,1]", "[4096,4096,1]", 1))),
		rewrite(t, good, setMeta("architecture", big)),
		rewrite(t, good, func(h map[string]any) {
			for i := range 100 {
				h["empty"+strconv.Itoa(i)] = map[string]any{"dtype": "F32", "shape": []int{0}, "data_offsets": []int{0, 0}}
			}
		}),
	)
	return append(seeds, corpus(t, "FuzzDecode")...)
}

// corpus returns the []byte inputs saved under testdata/fuzz/name, the
// failures the fuzzer found.
func corpus(t testing.TB, name string) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	var inputs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// "go test fuzz v1" then one line: []byte("...").
		_, line, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
		s, ok := strings.CutPrefix(string(line), "[]byte(")
		s, ok2 := strings.CutSuffix(s, ")")
		v, err := strconv.Unquote(s)
		if !ok || !ok2 || err != nil {
			t.Fatalf("%s: not a []byte fuzz input", f)
		}
		inputs = append(inputs, []byte(v))
	}
	return inputs
}

// decodeAllocs decodes b and returns the bytes Decode allocated.
func decodeAllocs(b []byte) (*Sequential, uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := decode(b)
	runtime.ReadMemStats(&after)
	return m, after.TotalAlloc - before.TotalAlloc, err
}

// FuzzDecode feeds Decode arbitrary bytes: it must return a model or an
// error, never panic, allocate no more than decodeBudget, and a model it
// returns must encode again.
//
// Run it with a short minimisation time, such as
//
//	go test ./model/ -run '^$' -fuzz '^FuzzDecode$' -fuzztime 60s -fuzzminimizetime 1s
//
// With the default of 60 s, each new input of a few kilobytes keeps a worker
// minimising for the whole minute (removing bytes one at a time, then every
// range of bytes), and the executions reported stay at 0/sec meanwhile.
func FuzzDecode(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := decodeAllocs(b)
		if limit := decodeBudget(b); n > limit {
			t.Errorf("Decode() of a %d-byte file allocates %d bytes, want at most %d", len(b), n, limit)
		}
		if err != nil {
			return
		}
		if _, err := decode(encode(t, m, true)); err != nil {
			t.Errorf("a decoded model does not decode after encoding: %v", err)
		}
	})
}

// Every seed decodes within the allocation budget: the work Decode does
// (parsing, building, initialising and reading weights) grows with what it
// allocates, so this also keeps each seed fast.
func TestDecodeSeeds(t *testing.T) {
	for i, b := range fuzzSeeds(t) {
		runtime.GC()
		_, n, err := decodeAllocs(b)
		if limit := decodeBudget(b); n > limit {
			t.Errorf("seed %d: Decode() of a %d-byte file allocates %d bytes, want at most %d (error %v)", i, len(b), n, limit, err)
		}
	}
}
