package optim

import (
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// BenchmarkStep times one update of the tutorial model's 1,203,708
// weights (the sizes of its four convolutions and three Dense layers, with
// their biases) by each optimizer.
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
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			o, err := New(name, nil)
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
