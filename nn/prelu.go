package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// PReLU is x for x > 0 and alpha·x otherwise, with alpha learned (Keras
// PReLU, PyTorch's PReLU; He et al. 2015, https://arxiv.org/abs/1502.01852).
// alpha has one slope per value of the input, or one shared along the
// SharedAxes: counted from 1 as in Keras (the batch axis is 0), [1, 2] on
// an image gives one slope per channel, as PyTorch's nn.PReLU(channels).
// Each slope starts at AlphaInit: zero, Keras's default, makes the layer a
// ReLU at first; PyTorch's is 0.25. Its parameter is "alpha", of the
// input's shape with 1 along the shared axes.
//
// The derivatives are PyTorch's: dx = dy for x > 0, alpha·dy otherwise;
// dalpha sums x·dy over the values with x ≤ 0 that share it.
type PReLU struct {
	AlphaInit  float64
	SharedAxes []int

	named
	buffers
	in     []int
	alpha  *Param
	rowA   []int32 // the offset in alpha of each row of one sample
	rowLen int     // values per row: the last run of axes shared alike
	shared bool    // a row shares one slope (else its slopes are consecutive)
	skipDw bool    // see SkipParamGradients

	x, y, dx *tensor.Tensor
	dy       *tensor.Tensor // during Backward
	// Backward cuts the batch into pieces of perPiece samples, each of
	// which sums dalpha into its row of partial (through acc, running sums
	// in float32); the rows are then added in piece order, the same sums
	// on any number of cores.
	pieces, perPiece int
	partial          []float64
	acc              []float32
	split            split
}

func (l *PReLU) Type() string { return "PReLU" }

// alphaShape returns alpha's shape for input in, or an error naming the
// axis that does not fit.
func (l *PReLU) alphaShape(in []int) ([]int, error) {
	s := slices.Clone(in)
	for _, a := range l.SharedAxes {
		if a < 1 || a > len(in) {
			return nil, fmt.Errorf("shared_axes %v: axis %d is not an axis of the input %v (1 to %d, the batch axis is 0)", l.SharedAxes, a, in, len(in))
		}
		if s[a-1] == 0 {
			return nil, fmt.Errorf("shared_axes %v: axis %d is listed twice", l.SharedAxes, a)
		}
		s[a-1] = 0
	}
	for i := range s {
		s[i] = max(s[i], 1)
	}
	return s, nil
}

func (l *PReLU) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	if !finite32(l.AlphaInit) {
		return nil, errorf(l, "alpha initializer %v: must be a finite number", l.AlphaInit)
	}
	shape, err := l.alphaShape(in)
	if err != nil {
		return nil, errorf(l, "%v", err)
	}
	l.in = slices.Clone(in)
	l.alpha = newParam("alpha", true, shape...)
	for i := range l.alpha.Value.Data {
		l.alpha.Value.Data[i] = float32(l.AlphaInit)
	}
	l.rows(shape)
	l.x, l.y, l.dx, l.partial, l.acc = nil, nil, nil, nil, nil
	return slices.Clone(in), nil
}

// rows cuts a sample into rows, the last run of axes along which alpha is
// all shared or all not (axes of size 1 go either way): a row then reads one
// slope, or consecutive ones. It records each row's offset in alpha.
func (l *PReLU) rows(shape []int) {
	in := l.in
	kind := func(a int) int { // 0: size 1, 1: shared, 2: a slope per value
		switch {
		case in[a] == 1:
			return 0
		case shape[a] == 1:
			return 1
		}
		return 2
	}
	k, last := len(in), 0
	for ; k > 0; k-- {
		c := kind(k - 1)
		if c != 0 && last != 0 && c != last {
			break
		}
		last = max(last, c)
	}
	l.shared, l.rowLen = last == 1, tensor.Size(in[k:])
	strides := make([]int, len(in))
	for a, s := len(in)-1, 1; a >= 0; a-- {
		strides[a], s = s, s*shape[a]
	}
	l.rowA = make([]int32, tensor.Size(in[:k]))
	for r := range l.rowA {
		off, rest := 0, r
		for a := k - 1; a >= 0; a-- {
			if shape[a] > 1 {
				off += rest % in[a] * strides[a]
			}
			rest /= in[a]
		}
		l.rowA[r] = int32(off)
	}
}

func (l *PReLU) OutputShape() []int { return l.in }
func (l *PReLU) Params() []*Param   { return []*Param{l.alpha} }

// Cost counts the slopes; applying them is elementwise work.
func (l *PReLU) Cost(in []int) Cost {
	n := int64(1)
	for a, d := range in {
		if !slices.Contains(l.SharedAxes, a+1) {
			n = mulSat(n, int64(d))
		}
	}
	return Cost{Params: n}
}

// The phases of PReLU's passes.
const (
	preluForward  = iota // rows: y
	preluBackward        // pieces of samples: dx and the pieces' dalpha
)

func (l *PReLU) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.x = x
	l.y = resize(l.y, x.Shape...)
	l.split.rows(l, preluForward, len(x.Data)/l.rowLen, l.rowLen)
	return l.y
}

// Backward adds dalpha into alpha's gradient.
func (l *PReLU) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dx = l.grad(l.dx, dy.Shape...)
	l.dy = dy
	n, size, na := dy.Shape[0], len(dy.Data)/dy.Shape[0], len(l.alpha.Value.Data)
	// At most 8 pieces of at least splitGrain values each, and at most
	// preluPartial values of partial sums: the pieces are the same whatever
	// GOMAXPROCS is, and a slope per value of a large image does not make
	// the sums larger than a few of its maps.
	most := max(1, min(8, preluPartial/na))
	l.perPiece = max((splitGrain+size-1)/size, (n+most-1)/most)
	l.pieces = (n + l.perPiece - 1) / l.perPiece
	if cap(l.partial) < l.pieces*na {
		l.partial, l.acc = make([]float64, l.pieces*na), make([]float32, l.pieces*na)
	}
	l.split.items(l, preluBackward, l.pieces, 1)
	if !l.skipDw {
		g := l.alpha.Grad.Data
		for j := range g {
			s := 0.0
			for p := range l.pieces {
				s += l.partial[p*na+j]
			}
			g[j] += float32(s)
		}
	}
	l.dy = nil
	return l.dx
}

func (l *PReLU) do(phase, lo, hi int) {
	alpha, rl, nr := l.alpha.Value.Data, l.rowLen, len(l.rowA)
	if phase == preluForward {
		for r := lo; r < hi; r++ {
			off := int(l.rowA[r%nr])
			x, y := l.x.Data[r*rl:(r+1)*rl], l.y.Data[r*rl:(r+1)*rl]
			if l.shared {
				kernels.PReLUShared(y, x, alpha[off])
			} else {
				kernels.PReLU(y, x, alpha[off:off+rl])
			}
		}
		return
	}
	na := len(alpha)
	// The slopes' gradients are summed in float32 over about preluFlush
	// rows each, then in float64.
	flush := preluFlush * max(1, na/rl)
	for p := lo; p < hi; p++ {
		acc, part := l.acc[p*na:(p+1)*na], l.partial[p*na:(p+1)*na]
		clear(acc)
		clear(part)
		r0, r1 := p*l.perPiece*nr, min((p+1)*l.perPiece*nr, len(l.x.Data)/rl)
		for r := r0; r < r1; r++ {
			off := int(l.rowA[r%nr])
			x, dy, dx := l.x.Data[r*rl:(r+1)*rl], l.dy.Data[r*rl:(r+1)*rl], l.dx.Data[r*rl:(r+1)*rl]
			if l.shared {
				part[off] += kernels.PReLUGradShared(dx, dy, x, alpha[off])
				continue
			}
			kernels.PReLUGrad(dx, acc[off:off+rl], dy, x, alpha[off:off+rl])
			if (r-r0+1)%flush == 0 || r == r1-1 {
				for j, v := range acc {
					part[j] += float64(v)
				}
				clear(acc)
			}
		}
	}
}

// preluPartial bounds the partial sums of Backward: pieces × slopes.
const preluPartial = 1 << 20

// preluFlush is about the number of float32 terms a slope's gradient sums
// before they go into its float64 sum.
const preluFlush = 32

// SkipParamGradients makes Backward leave alpha's gradient as it is; see
// [ParamGradientSkipper].
func (l *PReLU) SkipParamGradients(skip bool) { l.skipDw = skip }

// ReleaseBackward implements [BackwardReleaser]; the partial sums go too.
func (l *PReLU) ReleaseBackward() {
	l.buffers.ReleaseBackward()
	l.partial, l.acc = nil, nil
}

// Config writes the initializer as Keras does: "zeros", "ones", or a
// Constant.
func (l *PReLU) Config() map[string]any {
	var shared any // Keras writes null for none
	if l.SharedAxes != nil {
		shared = slices.Clone(l.SharedAxes)
	}
	return map[string]any{"name": l.Name(), "alpha_initializer": constantInitializer(l.AlphaInit), "shared_axes": shared}
}

// constantInitializer is how Keras writes an initializer of one value.
func constantInitializer(v float64) any {
	switch v {
	case 0:
		return "zeros"
	case 1:
		return "ones"
	}
	return map[string]any{"class_name": "Constant", "config": map[string]any{"value": v}}
}

func preluFromConfig(f *fields) *PReLU {
	return &PReLU{AlphaInit: f.constant("alpha_initializer"), SharedAxes: f.ints("shared_axes")}
}
