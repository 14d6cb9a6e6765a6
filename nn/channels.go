package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// ChannelShuffle interleaves the channel groups of each position, as
// ShuffleNet does between its blocks (PyTorch nn.ChannelShuffle, on the
// last axis here): the C channels, seen as Groups groups of C/Groups,
// become C/Groups groups of Groups, so that output channel i·Groups + k is
// input channel k·C/Groups + i. Input and output [N, ..., C]; it has no
// weights.
type ChannelShuffle struct {
	named
	buffers
	Groups int
	in     []int
	y, dx  *tensor.Tensor
	dims   []int // the shape of dx
}

func (l *ChannelShuffle) Type() string { return "ChannelShuffle" }

func (l *ChannelShuffle) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis, channels last", in)
	}
	c := in[len(in)-1]
	if l.Groups < 1 || c%l.Groups != 0 {
		return nil, errorf(l, "groups = %d: want a positive divisor of the %d channels", l.Groups, c)
	}
	l.in = append([]int(nil), in...)
	l.y, l.dx = nil, nil
	return append([]int(nil), in...), nil
}

func (l *ChannelShuffle) OutputShape() []int { return append([]int(nil), l.in...) }
func (l *ChannelShuffle) Params() []*Param   { return nil }

// Cost is zero: the shuffle has no weights.
func (l *ChannelShuffle) Cost(in []int) Cost { return Cost{} }

// shuffle writes src's channels to dst in the shuffled order, or back to
// the original order with inverse.
func (l *ChannelShuffle) shuffle(dst, src []float32, inverse bool) {
	c := l.in[len(l.in)-1]
	g, per := l.Groups, c/l.Groups
	for p := 0; p+c <= len(src); p += c {
		d, s := dst[p:p+c], src[p:p+c]
		for k := range g {
			group := s[k*per : (k+1)*per]
			if inverse {
				group = d[k*per : (k+1)*per]
			}
			for i := range group {
				if inverse {
					group[i] = s[i*g+k]
				} else {
					d[i*g+k] = group[i]
				}
			}
		}
	}
}

func (l *ChannelShuffle) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.y = resize(l.y, x.Shape...)
	l.shuffle(l.y.Data, x.Data, false)
	return l.y
}

func (l *ChannelShuffle) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dims = batchShape(l.dims, dy.Shape[0], l.in)
	l.dx = l.grad(l.dx, l.dims...)
	l.shuffle(l.dx.Data, dy.Data, true)
	return l.dx
}

func (l *ChannelShuffle) Config() map[string]any {
	return map[string]any{"name": l.Name(), "groups": l.Groups}
}

// ChannelSlice keeps the channels Start to End-1 of each position (PyTorch's
// x[:, start:end], or one of the pieces of torch.chunk along the channels;
// the last axis here). Input [N, ..., C], output [N, ..., End-Start]; it
// has no weights.
type ChannelSlice struct {
	named
	buffers
	Start, End int
	in, out    []int
	y, dx      *tensor.Tensor
	dims, ydim []int // the shapes of dx and y
}

func (l *ChannelSlice) Type() string { return "ChannelSlice" }

func (l *ChannelSlice) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis, channels last", in)
	}
	c := in[len(in)-1]
	if l.Start < 0 || l.End <= l.Start || l.End > c {
		return nil, errorf(l, "channels %d to %d: want 0 <= start < end <= %d, the input's channels", l.Start, l.End, c)
	}
	l.in = append([]int(nil), in...)
	l.out = append(append([]int(nil), in[:len(in)-1]...), l.End-l.Start)
	l.y, l.dx = nil, nil
	return append([]int(nil), l.out...), nil
}

func (l *ChannelSlice) OutputShape() []int { return append([]int(nil), l.out...) }
func (l *ChannelSlice) Params() []*Param   { return nil }

// Cost is zero: the slice has no weights.
func (l *ChannelSlice) Cost(in []int) Cost { return Cost{} }

func (l *ChannelSlice) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.ydim = batchShape(l.ydim, x.Shape[0], l.out)
	l.y = resize(l.y, l.ydim...)
	c, k := l.in[len(l.in)-1], l.End-l.Start
	for p, q := 0, 0; q < len(l.y.Data); p, q = p+c, q+k {
		copy(l.y.Data[q:q+k], x.Data[p+l.Start:p+l.End])
	}
	return l.y
}

func (l *ChannelSlice) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dims = batchShape(l.dims, dy.Shape[0], l.in)
	l.dx = l.grad(l.dx, l.dims...)
	clear(l.dx.Data)
	c, k := l.in[len(l.in)-1], l.End-l.Start
	for p, q := 0, 0; q < len(dy.Data); p, q = p+c, q+k {
		copy(l.dx.Data[p+l.Start:p+l.End], dy.Data[q:q+k])
	}
	return l.dx
}

func (l *ChannelSlice) Config() map[string]any {
	return map[string]any{"name": l.Name(), "start": l.Start, "end": l.End}
}
