package nn

import (
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// channelPass is what ChannelShuffle and ChannelSlice share: their
// input shape, buffers and passes over positions (rows of the last axis),
// cut into pieces on the cores.
type channelPass struct {
	buffers
	in, out []int
	x, dy   *tensor.Tensor // the input of the running Forward or Backward
	y, dx   *tensor.Tensor
	dims    []int // scratch for shapes
	split   split
}

// The phases of a pass, cut into positions.
const (
	channelsForward = iota
	channelsBackward
)

// build checks the input shape [..., C] and keeps it with the output's.
func (p *channelPass) build(l Layer, in, out []int) error {
	if len(in) == 0 || !positive(in) {
		return errorf(l, "input shape %v: want at least one positive axis, channels last", in)
	}
	p.in, p.out = slices.Clone(in), slices.Clone(out)
	p.y, p.dx = nil, nil
	return nil
}

func (p *channelPass) OutputShape() []int { return slices.Clone(p.out) }
func (p *channelPass) Params() []*Param   { return nil }

// Cost is zero: the layer has no weights.
func (p *channelPass) Cost(in []int) Cost { return Cost{} }

// forward runs body's forward phase from x into y, of the output's shape.
func (p *channelPass) forward(l Layer, body splitBody, x *tensor.Tensor) *tensor.Tensor {
	checkInput(l, "Forward", x, p.in)
	p.dims = batchShape(p.dims, x.Shape[0], p.out)
	p.y = resize(p.y, p.dims...)
	p.run(body, channelsForward, x)
	return p.y
}

// backward runs body's backward phase from dy into dx, of the input's
// shape.
func (p *channelPass) backward(l Layer, body splitBody, dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, p.y)
	p.dims = batchShape(p.dims, dy.Shape[0], p.in)
	p.dx = p.grad(p.dx, p.dims...)
	p.run(body, channelsBackward, dy)
	return p.dx
}

// run holds t as the pass's input (x or dy) while body's phase runs over
// its positions.
func (p *channelPass) run(body splitBody, phase int, t *tensor.Tensor) {
	if phase == channelsForward {
		p.x = t
	} else {
		p.dy = t
	}
	c := p.in[len(p.in)-1]
	p.split.rows(body, phase, p.dims[0]*tensor.Size(p.in)/c, c)
	p.x, p.dy = nil, nil
}

// ChannelShuffle interleaves the channel groups of each position, as
// ShuffleNet does between its blocks (PyTorch nn.ChannelShuffle, on the
// last axis here): the C channels, seen as Groups groups of C/Groups,
// become C/Groups groups of Groups, so that output channel i·Groups + k is
// input channel k·C/Groups + i. Input and output [N, ..., C]; it has no
// weights.
type ChannelShuffle struct {
	named
	channelPass
	Groups int
}

func (l *ChannelShuffle) Type() string { return "ChannelShuffle" }

func (l *ChannelShuffle) Build(in []int, rng *rand.Rand) ([]int, error) {
	if err := l.build(l, in, in); err != nil {
		return nil, err
	}
	if c := in[len(in)-1]; l.Groups < 1 || c%l.Groups != 0 {
		return nil, errorf(l, "groups = %d: want a positive divisor of the %d channels", l.Groups, c)
	}
	return slices.Clone(in), nil
}

// do shuffles the positions lo to hi-1 of x into y, or of dy back into dx.
func (l *ChannelShuffle) do(phase, lo, hi int) {
	c := l.in[len(l.in)-1]
	g, per := l.Groups, c/l.Groups
	for p := lo * c; p < hi*c; p += c {
		if phase == channelsForward {
			d, s := l.y.Data[p:p+c], l.x.Data[p:p+c]
			if g == 2 { // ShuffleNet's
				interleave(d, s[:per], s[per:])
				continue
			}
			for i := range per {
				for k := range g {
					d[i*g+k] = s[k*per+i]
				}
			}
		} else {
			d, s := l.dx.Data[p:p+c], l.dy.Data[p:p+c]
			if g == 2 {
				deinterleave(d[:per], d[per:], s)
				continue
			}
			for k := range g {
				for i := range per {
					d[k*per+i] = s[i*g+k]
				}
			}
		}
	}
}

func (l *ChannelShuffle) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(l, l, x)
}

func (l *ChannelShuffle) Backward(dy *tensor.Tensor) *tensor.Tensor { return l.backward(l, l, dy) }

func (l *ChannelShuffle) Config() map[string]any {
	return map[string]any{"name": l.Name(), "groups": l.Groups}
}

// ChannelSlice keeps the channels Start to End-1 of each position (PyTorch's
// x[:, start:end], or one of the pieces of torch.chunk along the channels;
// the last axis here). Input [N, ..., C], output [N, ..., End-Start]; it
// has no weights.
type ChannelSlice struct {
	named
	channelPass
	Start, End int
}

func (l *ChannelSlice) Type() string { return "ChannelSlice" }

func (l *ChannelSlice) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 {
		return nil, errorf(l, "input shape %v: want at least one positive axis, channels last", in)
	}
	out := append(slices.Clone(in[:len(in)-1]), l.End-l.Start)
	if err := l.build(l, in, out); err != nil {
		return nil, err
	}
	if c := in[len(in)-1]; l.Start < 0 || l.End <= l.Start || l.End > c {
		return nil, errorf(l, "channels %d to %d: want 0 <= start < end <= %d, the input's channels", l.Start, l.End, c)
	}
	return slices.Clone(out), nil
}

func (l *ChannelSlice) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(l, l, x)
}

func (l *ChannelSlice) Backward(dy *tensor.Tensor) *tensor.Tensor { return l.backward(l, l, dy) }

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

// interleave sets d to a[0], b[0], a[1], b[1], ... (a and b of one length).
func interleave(d, a, b []float32) {
	b, d = b[:len(a)], d[:2*len(a)]
	for i, v := range a {
		pair := d[2*i : 2*i+2 : 2*i+2]
		pair[0], pair[1] = v, b[i]
	}
}

// deinterleave undoes interleave: a and b from d.
func deinterleave(a, b, d []float32) {
	b, d = b[:len(a)], d[:2*len(a)]
	for i := range a {
		pair := d[2*i : 2*i+2 : 2*i+2]
		a[i], b[i] = pair[0], pair[1]
	}
}
