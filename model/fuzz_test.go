package model

import (
	"encoding/binary"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
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

// tinyGraph returns a trained graph with a skip connection and two branches
// joined, in a file of a few kilobytes.
func tinyGraph(t testing.TB) *Model {
	in := Input(4, 4, 1)
	x := Call(&nn.Conv2D{Filters: 2, KernelSize: pair(3), Padding: "same", Activation: "relu"}, in)
	y := Call(&nn.BatchNormalization{}, Call(&nn.Conv2D{Filters: 2, KernelSize: pair(3), Padding: "same"}, x))
	x = Call(&nn.Concatenate{}, Call(&nn.Add{}, x, y), Call(&nn.MaxPool2D{PoolSize: pair(1)}, in))
	m, err := NewGraph(in, Call(&nn.Dense{Units: 3, Activation: "softmax"}, Call(&nn.GlobalAveragePooling2D{}, x)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.Adam{}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	x0, y0 := randomBatch(m, 4, 5)
	m.TrainStep(x0, y0)
	return m
}

// FuzzDecode feeds Decode arbitrary bytes: it must return a model or an
// error, never panic, allocate no more than decodeBudget, and a model it
// returns must hold only finite weights, fit in DefaultMaxMemory per sample
// and encode again.
//
// Run it with a short minimisation time, such as
//
//	go test ./model/ -run '^$' -fuzz '^FuzzDecode$' -fuzztime 60s -fuzzminimizetime 1s
//
// With the default of 60 s, each new input of a few kilobytes keeps a worker
// minimising for the whole minute (removing bytes one at a time, then every
// range of bytes), and the executions reported stay at 0/sec meanwhile.
//
// Without -fuzz, go test runs every seed (and any input saved under
// testdata/fuzz) through the same checks.
func FuzzDecode(f *testing.F) {
	m, _, _ := trained(f)
	f.Add(encode(f, m, true))
	good := encode(f, tiny(f), true)
	f.Add(good)
	f.Add(encode(f, tiny(f), false))
	f.Add(encode(f, tinyGraph(f), true))
	f.Add(encode(f, mixed(f), true)) // most layer types, PReLUs among them
	frozen := tiny(f)                // its first layer frozen, its second in inference mode in training
	if frozen.SetTrainable(false, frozen.Layers[0]) != nil || frozen.SetInferenceInTraining(true, frozen.Layers[1]) != nil {
		f.Fatal("SetTrainable or SetInferenceInTraining failed")
	}
	f.Add(encode(f, frozen, true))
	// An optimizer with every base option: its state holds the average
	// and the gradient sum, its config the accumulation and the names out
	// of the weight decay.
	accumulating := tiny(f)
	opt := &optim.Adam{WeightDecay: 0.1}
	opt.UseEMA, opt.GradientAccumulationSteps, opt.ExcludeFromWeightDecay = true, 3, []string{"bias", "^gam"}
	if err := accumulating.Compile(opt, nn.CrossEntropy{Sparse: true}); err != nil {
		f.Fatal(err)
	}
	x, y := randomBatch(accumulating, 4, 6)
	accumulating.TrainStep(x, y)
	f.Add(encode(f, accumulating, true))
	f.Add(encode(f, averaging(f), true)) // SWA's average of two epochs
	for _, n := range []int{0, 7, 8, 9, 64, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	for _, at := range []int{0, 3, 8, 20, 100, len(good) - 10} {
		b := slices.Clone(good)
		b[at] ^= 0x55
		f.Add(b)
	}
	huge := slices.Clone(good)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	f.Add(huge)

	// Architectures whose weights the data cannot hold: the first layer
	// fits the file's weights, the others do not.
	var denses []nn.Layer
	for range 8 {
		denses = append(denses, &nn.Dense{Units: 3})
	}
	wide := archOf(f, built(f, []int{4, 4, 1}, &nn.Conv2D{Filters: 1 << 12, KernelSize: pair(3)}))
	f.Add(rewrite(f, good, setMeta("architecture", archOf(f, built(f, []int{8}, denses...)))))
	f.Add(rewrite(f, good, setMeta("architecture", strings.Replace(wide, "[null,4,4,1]", "[null,4096,4096,1]", 1))))
	f.Add(rewrite(f, good, setMeta("architecture", archOf(f, built(f, []int{64}, &nn.Dense{Units: 1 << 10})))))
	f.Add(rewrite(f, good, emptyTensors(100)))

	// Non-finite weights and optimizer state; inputs too large to run; a
	// file of an earlier build.
	f.Add(setValue(f, good, "conv2d/kernel", 0, float32(math.NaN())))
	f.Add(setValue(f, good, "optimizer/dense/kernel/momentum", 1, float32(math.Inf(1))))
	f.Add(built(f, []int{8192, 8192, 1}, &nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 2}))
	f.Add(rewrite(f, good, setMeta("architecture", strings.Replace(archOf(f, good), "[null,4,4,1]", "[null,4096,4096,1]", 1))))
	if old, err := os.ReadFile(compatFile); err == nil {
		f.Add(old)
	}

	// Once per process, not per file: encoding/json's tables of the
	// document's types, which the first decode of a layer-rich file fills.
	if _, err := decode(encode(f, mixed(f), true)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m *Sequential
		var err error
		n := allocated(func() { m, err = decode(b) })
		if limit := decodeBudget(b); n > limit {
			t.Errorf("Decode() of a %d-byte file allocates %d bytes, want at most %d", len(b), n, limit)
		}
		if err != nil {
			return
		}
		if n := m.ActivationBytes(1); n > DefaultMaxMemory {
			t.Errorf("Decode() accepts a model needing %d bytes per sample, more than %d", n, DefaultMaxMemory)
		}
		var values []*tensor.Tensor
		for _, p := range m.Params() {
			values = append(values, p.Value)
		}
		if opt := m.Optimizer(); opt != nil {
			for _, ps := range opt.State() {
				values = append(values, ps.Slots...)
			}
		}
		for i, v := range values {
			if !v.AllFinite() {
				t.Errorf("Decode() accepts non-finite values in tensor %d", i)
			}
		}
		if _, err := decode(encode(t, m, true)); err != nil {
			t.Errorf("a decoded model does not decode after encoding: %v", err)
		}
	})
}
