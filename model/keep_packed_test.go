package model

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestKeepPacked: a model keeping its kernels packed predicts what the same
// model without predicts, and gives the same input gradients (its flipped
// kernels are kept too), after training steps (which drop the packing),
// after the best weights are restored and after a weight is written and
// KeepPacked called again; convolutions with their padding taken in
// included; in float32 and in bfloat16, where the dense layers keep their
// kernels converted too.
func TestKeepPacked(t *testing.T) {
	for _, bf16 := range []bool{false, true} {
		t.Run(map[bool]string{false: "float32", true: "bfloat16"}[bf16], func(t *testing.T) { testKeepPacked(t, bf16) })
	}
}

func testKeepPacked(t *testing.T, bf16 bool) {
	x := Input(12, 12, 3)
	a := Call(&nn.Conv2D{Filters: 40, KernelSize: pair(3), Activation: "relu"}, Call(&nn.ZeroPadding2D{Padding: [2][2]int{{1, 1}, {1, 1}}}, x))
	a = Call(&nn.Conv2D{Filters: 16, KernelSize: pair(3), Padding: "same", Activation: "relu"}, a) // its input gradient: a convolution with the kernel flipped
	b := Call(&nn.Conv2D{Filters: 32, KernelSize: pair(3), Strides: pair(2), Padding: "same"}, a)
	c := Call(&nn.Conv2D{Filters: 32, KernelSize: pair(1), Activation: "relu"}, b)
	d := Call(&nn.Dense{Units: 40, Activation: "relu"}, Call(&nn.GlobalAveragePooling2D{}, c))
	out := Call(&nn.Dense{Units: 5, Activation: "softmax"}, d)
	kept, err := NewGraph(x, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := kept.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	plain := kept.Clone()
	for _, m := range []*Model{kept, plain} {
		if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
			t.Fatal(err)
		}
		m.UseBF16(bf16)
	}
	kept.KeepPacked(true)
	px := randomPixels(kept, 4)
	for i := range px.Data {
		px.Data[i] = px.Data[i]/64 - 2
	}
	y := tensor.FromData([]float32{0, 1, 4, 2}, 4)
	same := func(when string) {
		t.Helper()
		p, q := tensor.New(4, 5), tensor.New(4, 5)
		for range 2 {
			kept.Predict(p, px)
			plain.Predict(q, px)
			if !slices.Equal(p.Data, q.Data) {
				t.Fatalf("%s: kept %v, want %v", when, p.Data[:5], q.Data[:5])
			}
			if g, h := kept.InputGradient(px, 1), plain.InputGradient(px, 1); !slices.Equal(g.Data, h.Data) {
				t.Fatalf("%s: kept, the input gradient differs", when)
			}
		}
	}
	same("built")
	start := kept.weights(nil)
	for range 2 {
		kept.TrainStep(px, y)
		plain.TrainStep(px, y)
	}
	same("after two training steps")
	kept.setWeights(start)
	plain.setWeights(start)
	same("after the weights were restored")
	for _, m := range []*Model{kept, plain} {
		k := m.Params()[0].Value.Data
		for i := range k {
			k[i] = -k[i]
		}
	}
	kept.KeepPacked(true)
	same("after a kernel was written and KeepPacked called")
}

// TestReplicaSharesWeights: the copies a Classifier runs in parallel
// predict what the model does, at the same time as it (under -race, a
// write to what they share would show), while sharing its weights and its
// packed kernels and its gradients' storage: a copy adds its activations
// and its scratch to the heap (with Winograd's transforms on, mostly
// their blocks, about 180 KB a convolution and core here), not a copy of
// the weights, of their packing (in bfloat16,
// of their pairs) or of their gradients; its saliency maps are the
// model's, computed at the same time.
func TestReplicaSharesWeights(t *testing.T) {
	for _, bf16 := range []bool{false, true} {
		t.Run(map[bool]string{false: "float32", true: "bfloat16"}[bf16], func(t *testing.T) { testReplicaSharesWeights(t, bf16) })
	}
}

func testReplicaSharesWeights(t *testing.T, bf16 bool) {
	x := Input(8, 8, 64)
	y := Call(&nn.Conv2D{Filters: 256, KernelSize: pair(3), Activation: "relu"}, Call(&nn.ZeroPadding2D{Padding: [2][2]int{{1, 1}, {1, 1}}}, x))
	y = Call(&nn.DepthwiseConv2D{KernelSize: pair(3), Padding: "same"}, Call(&nn.BatchNormalization{}, y))
	for range 3 {
		y = Call(&nn.Conv2D{Filters: 256, KernelSize: pair(3), Padding: "same", Activation: "relu"}, y)
	}
	y = Call(&nn.Dense{Units: 512, Activation: "relu"}, Call(&nn.GlobalAveragePooling2D{}, y))
	m, px, want := keptGraph(t, x, Call(&nn.Dense{Units: 5, Activation: "softmax"}, y), 4, bf16)
	weights := 0
	for _, p := range m.Params() {
		weights += 4 * len(p.Value.Data)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := m.replica()
	got := tensor.New(2, 5)
	r.Predict(got, px)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if !slices.Equal(got.Data, want.Data) {
		t.Fatalf("the copy predicts %v, the model %v", got.Data, want.Data)
	}
	saliency := m.InputGradient(px, 1)
	var wg sync.WaitGroup
	for _, c := range []*Model{m, r, m.replica()} {
		wg.Go(func() {
			p := tensor.New(2, 5)
			for range 3 {
				c.Predict(p, px)
				if !slices.Equal(p.Data, want.Data) {
					t.Errorf("at the same time as the others, %v, want %v", p.Data, want.Data)
				}
				// The copies share the gradients' storage: none may write it.
				if g := c.InputGradient(px, 1); !slices.Equal(g.Data, saliency.Data) {
					t.Errorf("at the same time as the others, the input gradient differs from the model's")
				}
			}
		})
	}
	wg.Wait()
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > int64(weights)/3 {
		t.Errorf("a copy took %d bytes of heap, for %d bytes of weights", grew, weights)
	}
	for i, p := range r.Params() {
		if p.Value != m.Params()[i].Value || p.Grad != m.Params()[i].Grad {
			t.Fatalf("the copy's %s is not the model's", p.Name)
		}
	}
	runtime.KeepAlive(r)
}

// TestReplicaWhilePredicting makes copies of a model, as a Classifier does
// when its requests outnumber its copies, while the model predicts through
// a convolution that takes in its padding (ForwardPadded): making a copy
// reads the model's layers and must not see them mid-call (it panicked,
// "another geometry", and -race reported the layer's fields).
func TestReplicaWhilePredicting(t *testing.T) {
	x := Input(16, 16, 8)
	y := Call(&nn.Conv2D{Filters: 16, KernelSize: pair(3), Activation: "relu"}, Call(&nn.ZeroPadding2D{Padding: [2][2]int{{1, 1}, {1, 1}}}, x))
	m, px, want := keptGraph(t, x, Call(&nn.Dense{Units: 3, Activation: "softmax"}, Call(&nn.GlobalAveragePooling2D{}, y)), 6, false)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		p := tensor.New(2, 3)
		for {
			select {
			case <-stop:
				return
			default:
			}
			m.Predict(p, px)
		}
	})
	defer wg.Wait()
	defer close(stop)
	for range 200 {
		r := m.replica()
		got := tensor.New(2, 3)
		r.Predict(got, px)
		if !slices.Equal(got.Data, want.Data) {
			t.Fatalf("a copy made while the model predicts predicts %v, want %v", got.Data, want.Data)
		}
	}
}

// keptGraph builds the graph from x to y (seed), in bfloat16 or not,
// keeps its kernels packed, and returns it with two images of random
// pixels and its predictions.
func keptGraph(t *testing.T, x, y *Node, seed uint64, bf16 bool) (m *Model, px, want *tensor.Tensor) {
	t.Helper()
	m, err := NewGraph(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, seed); err != nil {
		t.Fatal(err)
	}
	m.UseBF16(bf16)
	m.KeepPacked(true)
	px = randomPixels(m, 2)
	want = tensor.New(2, m.NumClasses())
	m.Predict(want, px)
	return m, px, want
}

// A copy reads the model's gamma and beta of its normalizations (swapped
// in after its Build) at each prediction, not the ones its Build made: a
// batch normalization with both, one without gamma, and layer norms over
// the channels and over the whole image, all trained away from 1 and 0.
func TestReplicaReadsNormalizationWeights(t *testing.T) {
	x := Input(6, 6, 3)
	y := Call(&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same"}, x)
	y = Call(&nn.BatchNormalization{NoScale: true}, Call(&nn.BatchNormalization{}, y))
	y = Call(&nn.LayerNormalization{Axis: []int{1, 2, 3}}, Call(&nn.LayerNormalization{}, y))
	m, err := NewGraph(x, Call(&nn.Dense{Units: 3, Activation: "softmax"}, Call(&nn.Flatten{}, y)))
	if err == nil {
		err = m.Build(nil, 5)
	}
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range m.Params() {
		if p.Name == "gamma" || p.Name == "beta" || p.Name == "moving_mean" {
			for i := range p.Value.Data {
				p.Value.Data[i] = float32(rng.NormFloat64())
			}
		}
	}
	px := randomPixels(m, 2)
	want, got := tensor.New(2, 3), tensor.New(2, 3)
	m.Predict(want, px)
	m.replica().Predict(got, px)
	if !slices.Equal(got.Data, want.Data) {
		t.Errorf("the copy predicts %v, the model %v", got.Data, want.Data)
	}
}
