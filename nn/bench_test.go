package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

func benchInput(b *testing.B, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

// The convolutions of the tutorial model at batch 100, and two of them
// dilated.
func BenchmarkConv2D(b *testing.B) {
	for _, bc := range []struct {
		h, c, f, k, d int
	}{
		{32, 1, 32, 5, 1},
		{32, 32, 32, 5, 1},
		{16, 32, 64, 3, 1},
		{16, 64, 64, 3, 1},
		{32, 32, 32, 5, 2}, // dilated: taps 2 apart
		{16, 64, 64, 3, 2},
	} {
		l := &nn.Conv2D{Filters: bc.f, KernelSize: [2]int{bc.k, bc.k}, DilationRate: [2]int{bc.d, bc.d}, Padding: "same", Activation: "relu"}
		if _, err := l.Build([]int{bc.h, bc.h, bc.c}, rand.New(rand.NewPCG(1, 2))); err != nil {
			b.Fatal(err)
		}
		x := benchInput(b, 100, bc.h, bc.h, bc.c)
		name := fmt.Sprintf("%dx%dx%d-%d-%dx%d", bc.h, bc.h, bc.c, bc.f, bc.k, bc.k)
		if bc.d > 1 {
			name += fmt.Sprintf("-dilated%d", bc.d)
		}
		forwardBackward(b, name, l, x, 2*float64(100*bc.h*bc.h*bc.f*bc.k*bc.k*bc.c))
	}
}

// forwardBackward times l's Forward and Backward on x as two benchmarks,
// reporting GFLOP/s for a forward pass of flops (the backward pass counts
// twice as many).
func forwardBackward(b *testing.B, name string, l nn.Layer, x *tensor.Tensor, flops float64) {
	b.Run(name+"/forward", func(b *testing.B) {
		for b.Loop() {
			l.Forward(x, true)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	y := l.Forward(x, true).Clone()
	b.Run(name+"/backward", func(b *testing.B) {
		for b.Loop() {
			l.Backward(y)
		}
		b.ReportMetric(2*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

func BenchmarkDense(b *testing.B) {
	l := &nn.Dense{Units: 256, Activation: "relu"}
	if _, err := l.Build([]int{4096}, rand.New(rand.NewPCG(1, 2))); err != nil {
		b.Fatal(err)
	}
	x := benchInput(b, 100, 4096)
	b.Run("4096-256/forward", func(b *testing.B) {
		for b.Loop() {
			l.Forward(x, true)
		}
	})
	y := l.Forward(x, true).Clone()
	b.Run("4096-256/backward", func(b *testing.B) {
		for b.Loop() {
			l.Backward(y)
		}
	})
}

func BenchmarkMaxPool2D(b *testing.B) {
	l := &nn.MaxPool2D{}
	if _, err := l.Build([]int{32, 32, 32}, rand.New(rand.NewPCG(1, 2))); err != nil {
		b.Fatal(err)
	}
	x := benchInput(b, 100, 32, 32, 32)
	for b.Loop() {
		y := l.Forward(x, true)
		l.Backward(y)
	}
}

// BenchmarkDropout is a training pass of the tutorial model's first
// dropout (rate 0.25, after the first pooling) at batch 100.
func BenchmarkDropout(b *testing.B) {
	l := &nn.Dropout{Rate: 0.25}
	if _, err := l.Build([]int{16, 16, 32}, rand.New(rand.NewPCG(1, 2))); err != nil {
		b.Fatal(err)
	}
	x := benchInput(b, 100, 16, 16, 32)
	for b.Loop() {
		y := l.Forward(x, true)
		l.Backward(y)
	}
}

// BenchmarkBatchNormReLU is a training pass of batch normalisation and ReLU
// over the output of the resnet preset's first convolution at batch 64.
func BenchmarkBatchNormReLU(b *testing.B) {
	bn, relu := &nn.BatchNormalization{}, &nn.ReLU{}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range []nn.Layer{bn, relu} {
		if _, err := l.Build([]int{32, 32, 32}, rng); err != nil {
			b.Fatal(err)
		}
	}
	x := tensor.New(64, 32, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	dy := x.Clone()
	b.SetBytes(int64(4 * len(x.Data)))
	for b.Loop() {
		relu.Forward(bn.Forward(x, true), true)
		bn.Backward(relu.Backward(dy))
	}
}

// The depthwise convolutions of a MobileNet block on 32x32 and 16x16
// maps, and two dilated (DeepLab's atrous separable convolutions), at
// batch 100.
func BenchmarkDepthwiseConv2D(b *testing.B) {
	for _, bc := range []struct{ h, c, s, d int }{{32, 32, 1, 1}, {16, 64, 1, 1}, {16, 128, 1, 1}, {16, 128, 2, 1}, {32, 32, 1, 2}, {16, 128, 1, 2}} {
		l := &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Strides: [2]int{bc.s, bc.s}, DilationRate: [2]int{bc.d, bc.d}, Padding: "same", Activation: "relu"}
		out, err := l.Build([]int{bc.h, bc.h, bc.c}, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			b.Fatal(err)
		}
		x := benchInput(b, 100, bc.h, bc.h, bc.c)
		name := fmt.Sprintf("%dx%dx%d-3x3-s%d", bc.h, bc.h, bc.c, bc.s)
		if bc.d > 1 {
			name = fmt.Sprintf("%dx%dx%d-3x3-dilated%d", bc.h, bc.h, bc.c, bc.d)
		}
		forwardBackward(b, name, l, x, 2*float64(100*out[0]*out[1]*out[2]*9))
	}
}

// BenchmarkChannelShuffle is ShuffleNet's shuffle of two groups on the
// maps of torchvision's shufflenet_v2_x1_0 (28x28x116, 14x14x232,
// 7x7x464), one image and 32.
func BenchmarkChannelShuffle(b *testing.B) {
	for _, in := range [][]int{{28, 28, 116}, {14, 14, 232}, {7, 7, 464}} {
		for _, n := range []int{1, 32} {
			b.Run(fmt.Sprintf("%dx%dx%d/n=%d", in[0], in[1], in[2], n), func(b *testing.B) {
				l := &nn.ChannelShuffle{Groups: 2}
				if _, err := l.Build(in, nil); err != nil {
					b.Fatal(err)
				}
				x := benchInput(b, append([]int{n}, in...)...)
				b.SetBytes(int64(4 * len(x.Data)))
				for b.Loop() {
					l.Forward(x, false)
				}
			})
		}
	}
}

// BenchmarkActivation is a training pass (Forward, then Backward) of each
// activation function over the output of the tutorial model's first
// convolution at batch 100, 3.3 million values.
func BenchmarkActivation(b *testing.B) {
	x := benchInput(b, 100, 32, 32, 32)
	for _, fn := range nn.ActivationNames {
		if fn == "softmax" {
			continue
		}
		b.Run("fn="+fn, func(b *testing.B) { benchPass(b, &nn.Activation{Func: fn}, x) })
	}
}

// BenchmarkPReLU is a training pass of a PReLU over the tutorial's first
// maps ([100, 32, 32, 32]): a slope per channel, per value and one in all.
func BenchmarkPReLU(b *testing.B) {
	x := benchInput(b, 100, 32, 32, 32)
	for _, c := range []struct {
		name   string
		shared []int
	}{{"channels", []int{1, 2}}, {"values", nil}, {"one", []int{1, 2, 3}}} {
		b.Run("slopes="+c.name, func(b *testing.B) { benchPass(b, &nn.PReLU{SharedAxes: c.shared, AlphaInit: 0.25}, x) })
	}
}

// BenchmarkNormalization measures a training pass (Forward and Backward) of
// a Normalization over [100, 32, 32, 32] per channel, per value and
// inverted, and over the tutorial's input, [100, 32, 32, 1], per channel.
func BenchmarkNormalization(b *testing.B) {
	for _, c := range []struct {
		name string
		in   []int
		l    *nn.Normalization
	}{
		{"channels", []int{32, 32, 32}, &nn.Normalization{}},
		{"values", []int{32, 32, 32}, &nn.Normalization{Axis: []int{1, 2, 3}}},
		{"invert", []int{32, 32, 32}, &nn.Normalization{Invert: true}},
		{"pixels", []int{32, 32, 1}, &nn.Normalization{}},
	} {
		b.Run("stats="+c.name, func(b *testing.B) { benchPass(b, c.l, benchInput(b, append([]int{100}, c.in...)...)) })
	}
}

// benchPass builds l for the samples of x and measures its training pass,
// Forward and Backward, in bytes of x per second.
func benchPass(b *testing.B, l nn.Layer, x *tensor.Tensor) {
	if _, err := l.Build(x.Shape[1:], nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * len(x.Data)))
	for b.Loop() {
		l.Backward(l.Forward(x, true))
	}
}

// BenchmarkLayerNormalization: ConvNeXt's layer norms over each pixel's
// channels (8x8x128 and 2x2x512 maps) and one over the whole image, at
// batch 100.
func BenchmarkLayerNormalization(b *testing.B) {
	for _, bc := range []struct {
		in   []int
		axis []int
	}{{[]int{8, 8, 128}, nil}, {[]int{2, 2, 512}, nil}, {[]int{8, 8, 128}, []int{1, 2, 3}}} {
		l := &nn.LayerNormalization{Axis: bc.axis}
		if _, err := l.Build(bc.in, rand.New(rand.NewPCG(1, 2))); err != nil {
			b.Fatal(err)
		}
		x := benchInput(b, append([]int{100}, bc.in...)...)
		name := fmt.Sprintf("%dx%dx%d-axis%v", bc.in[0], bc.in[1], bc.in[2], l.Axes())
		forwardBackward(b, name, l, x, float64(len(x.Data)))
	}
}

// BenchmarkGroupNormalization: group normalizations of the strong recipe's
// maps with the batch norms made groups of 4 channels (32x32x32 and
// 16x16x64), and of one channel each (instance normalization), at batch
// 64.
func BenchmarkGroupNormalization(b *testing.B) {
	for _, bc := range []struct {
		in     []int
		groups int
	}{{[]int{32, 32, 32}, 8}, {[]int{16, 16, 64}, 16}, {[]int{16, 16, 64}, -1}} {
		l := &nn.GroupNormalization{Groups: bc.groups}
		if _, err := l.Build(bc.in, rand.New(rand.NewPCG(1, 2))); err != nil {
			b.Fatal(err)
		}
		x := benchInput(b, append([]int{64}, bc.in...)...)
		name := fmt.Sprintf("%dx%dx%d-groups%d", bc.in[0], bc.in[1], bc.in[2], l.GroupCount())
		forwardBackward(b, name, l, x, float64(len(x.Data)))
	}
}

// BenchmarkResample: the forward and backward passes of a U-Net decoder's
// 2×2 upsampling of 16×16×64 maps at batch 32, and of a Resizing of
// 64×64×3 images to 32×32 (GFLOP/s counting an output value as one).
func BenchmarkResample(b *testing.B) {
	for _, bc := range []struct {
		name string
		l    nn.Layer
		in   []int
	}{
		{"up-nearest", &nn.UpSampling2D{}, []int{16, 16, 64}},
		{"up-bilinear", &nn.UpSampling2D{Interpolation: "bilinear"}, []int{16, 16, 64}},
		{"resize-bilinear", &nn.Resizing{Height: 32, Width: 32}, []int{64, 64, 3}},
	} {
		if _, err := bc.l.Build(bc.in, nil); err != nil {
			b.Fatal(err)
		}
		x := benchInput(b, append([]int{32}, bc.in...)...)
		forwardBackward(b, bc.name, bc.l, x, float64(32*tensor.Size(bc.l.OutputShape())))
	}
}
