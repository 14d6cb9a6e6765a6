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
	x, dy  *tensor.Tensor // the inputs of the running Forward or Backward
	y, dx  *tensor.Tensor
	dims   []int // the shape of dx
	split  split
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

// The phases of a channel layer's pass, cut into positions (rows of the
// last axis).
const (
	channelsForward = iota
	channelsBackward
)

// do shuffles the positions lo to hi-1 of x into y, or of dy back into dx.
func (l *ChannelShuffle) do(phase, lo, hi int) {
	c := l.in[len(l.in)-1]
	g, per := l.Groups, c/l.Groups
	for p := lo * c; p < hi*c; p += c {
		if phase == channelsForward {
			d, s := l.y.Data[p:p+c], l.x.Data[p:p+c]
			for i := range per {
				for k := range g {
					d[i*g+k] = s[k*per+i]
				}
			}
		} else {
			d, s := l.dx.Data[p:p+c], l.dy.Data[p:p+c]
			for k := range g {
				for i := range per {
					d[k*per+i] = s[i*g+k]
				}
			}
		}
	}
}

func (l *ChannelShuffle) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.y = resize(l.y, x.Shape...)
	c := l.in[len(l.in)-1]
	l.x = x
	l.split.rows(l, channelsForward, len(x.Data)/c, c)
	l.x = nil
	return l.y
}

func (l *ChannelShuffle) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dims = batchShape(l.dims, dy.Shape[0], l.in)
	l.dx = l.grad(l.dx, l.dims...)
	c := l.in[len(l.in)-1]
	l.dy = dy
	l.split.rows(l, channelsBackward, len(dy.Data)/c, c)
	l.dy = nil
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
	x, dy      *tensor.Tensor // the inputs of the running Forward or Backward
	y, dx      *tensor.Tensor
	dims, ydim []int // the shapes of dx and y
	split      split
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
	c := l.in[len(l.in)-1]
	l.x = x
	l.split.rows(l, channelsForward, len(x.Data)/c, c)
	l.x = nil
	return l.y
}

func (l *ChannelSlice) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dims = batchShape(l.dims, dy.Shape[0], l.in)
	l.dx = l.grad(l.dx, l.dims...)
	c := l.in[len(l.in)-1]
	l.dy = dy
	l.split.rows(l, channelsBackward, len(l.dx.Data)/c, c)
	l.dy = nil
	return l.dx
}

// do copies the kept channels of the positions lo to hi-1 of x into y, or
// of dy into dx, whose other channels it clears.
func (l *ChannelSlice) do(phase, lo, hi int) {
	c, k := l.in[len(l.in)-1], l.End-l.Start
	for p, q := lo*c, lo*k; p < hi*c; p, q = p+c, q+k {
		if phase == channelsForward {
			copy(l.y.Data[q:q+k], l.x.Data[p+l.Start:p+l.End])
			continue
		}
		dx := l.dx.Data[p : p+c]
		clear(dx[:l.Start])
		copy(dx[l.Start:l.End], l.dy.Data[q:q+k])
		clear(dx[l.End:])
	}
}

func (l *ChannelSlice) Config() map[string]any {
	return map[string]any{"name": l.Name(), "start": l.Start, "end": l.End}
}
