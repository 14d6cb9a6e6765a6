package model

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestLentBuffersChangeNothing trains each model from one seed with the
// buffers the scheduler lends the layers' Backward, with every layer's own,
// and with either released after every step (ReleaseBackward): the weights
// and the input gradients must be the same, bit for bit. A buffer lent while
// a value in it is still needed would corrupt a gradient, as would a
// released value that a step still read. Each lent buffer must also be as large as the
// scheduler reserved for the batch: a layer that needed more would grow it
// in the middle of a pass.
func TestLentBuffersChangeNothing(t *testing.T) {
	preset := func(name string, in []int) func() *Model {
		return func() *Model {
			m, err := PresetFor(name, in, 5)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	tests := []struct {
		name    string
		model   func() *Model
		buffers int // the buffers lent, at most
	}{
		{"tutorial", preset("tutorial", []int{12, 12, 1}), 2},
		{"convnet-bn", preset("convnet-bn", []int{8, 8, 1}), 2},
		{"resnet", preset("resnet", []int{8, 8, 3}), 4},
		{"branchy graph", func() *Model { return branchy(t, "relu", "softmax", true) }, 4},
		{"branchy graph, tanh", func() *Model { return branchy(t, "tanh", "linear", false) }, 4},
		{"two chains", func() *Model { return twoChains(t) }, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// release: every training step is followed by ReleaseBackward.
			run := func(share, release bool) ([][]float32, *tensor.Tensor) {
				m := tt.model()
				if err := m.Build(nil, 3); err != nil {
					t.Fatal(err)
				}
				if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
					t.Fatal(err)
				}
				if n := len(m.plan.lent); n == 0 || n > tt.buffers {
					t.Errorf("%d buffers lent, want 1 to %d", n, tt.buffers)
				}
				if !share {
					for _, l := range m.Layers {
						if s, ok := l.(nn.BufferSharer); ok {
							s.ShareBuffers(nil, nil)
						}
					}
				}
				x, y := randomBatch(m, 6, 11)
				for range 4 {
					m.TrainStep(x, y)
					if release {
						m.ReleaseBackward()
						for k, b := range m.plan.lent {
							if b.Cap() != 0 {
								t.Fatalf("lent buffer %d holds %d values after ReleaseBackward", k, b.Cap())
							}
						}
					}
				}
				g := m.InputGradient(x, 1)
				// The first backward pass grew each buffer to what the
				// batch needs, and no layer asked for more.
				for k, b := range m.plan.lent {
					if share && b.Cap() != 6*m.plan.lentSize[k] {
						t.Errorf("lent buffer %d holds %d values, want 6 × %d reserved", k, b.Cap(), m.plan.lentSize[k])
					}
				}
				return weights(m), g
			}
			w0, g0 := run(false, false)
			for _, c := range []struct {
				name           string
				share, release bool
			}{{"lent buffers", true, false}, {"lent buffers released after each step", true, true}, {"own buffers released after each step", false, true}} {
				w1, g1 := run(c.share, c.release)
				if !equalWeights(w0, w1) {
					t.Errorf("the weights after training with %s differ from those with the layers' own", c.name)
				}
				for i := range g0.Data {
					if math.Float32bits(g0.Data[i]) != math.Float32bits(g1.Data[i]) {
						t.Fatalf("input gradient [%d] = %v with %s, %v with the layers' own", i, g1.Data[i], c.name, g0.Data[i])
					}
				}
			}
		})
	}
}

// TestLentBuffersOfAStack checks the pool of a stack of layers: two
// buffers (the gradient being read, which also takes the temporary values,
// and the one being written), each as large as the largest activation.
func TestLentBuffersOfAStack(t *testing.T) {
	m, err := Preset("tutorial")
	compile(t, m, err)
	x, y := randomBatch(m, 4, 1)
	m.TrainStep(x, y)
	if len(m.plan.lent) != 2 {
		t.Fatalf("%d buffers lent, want 2", len(m.plan.lent))
	}
	const largest = 4 * 32 * 32 * 32 // the first convolutions' outputs
	for k, b := range m.plan.lent {
		if b.Cap() != largest {
			t.Errorf("buffer %d holds %d values, want %d", k, b.Cap(), largest)
		}
	}
}

// twoChains returns a graph of two chains of convolutions with ReLU, of
// three and two, added. Keras's order (by depth) interleaves them, so that
// a convolution of one chain runs backward while a gradient of the other
// waits in a lent buffer for the layer that consumes it.
func twoChains(t *testing.T) *Model {
	conv := func(x *Node) *Node {
		return Call(&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: "relu"}, x)
	}
	in := Input(6, 6, 2)
	long := conv(conv(conv(in)))
	short := conv(conv(in))
	m, err := NewGraph(in, Call(&nn.Dense{Units: 5, Activation: "softmax"}, Call(&nn.Flatten{}, Call(&nn.Add{}, long, short))))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
