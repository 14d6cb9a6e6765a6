package optim

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// BenchmarkStep times one update of the tutorial model's 1,203,708
// weights (the sizes of its four convolutions and three Dense layers, with
// their biases) by each optimizer with its defaults, and by RMSprop with
// momentum and centered.
func BenchmarkStep(b *testing.B) {
	sizes := []int{800, 32, 25600, 32, 18432, 64, 36864, 64, 1048576, 256, 65536, 256, 7168, 28}
	var ps []*nn.Param
	for _, n := range sizes {
		p := &nn.Param{Name: "w", Value: tensor.New(n), Grad: tensor.New(n), Trainable: true}
		for i := range p.Grad.Data {
			p.Grad.Data[i] = float32(i%7) - 3
		}
		ps = append(ps, p)
	}
	type run struct {
		name string
		cfg  map[string]any
	}
	var runs []run
	for _, name := range Names() {
		runs = append(runs, run{name, nil})
	}
	runs = append(runs, run{"rmsprop-momentum", map[string]any{"momentum": 0.9}},
		run{"rmsprop-centered", map[string]any{"centered": true}},
		run{"sgd-momentum", map[string]any{"momentum": 0.9}},
		run{"sgd-nesterov", map[string]any{"momentum": 0.9, "nesterov": true}})
	for _, r := range runs {
		b.Run(r.name, func(b *testing.B) {
			name, _, _ := strings.Cut(r.name, "-")
			o, err := New(name, r.cfg)
			if err != nil {
				b.Fatal(err)
			}
			o.Step(ps)
			for b.Loop() {
				o.Step(ps)
			}
		})
	}
}
