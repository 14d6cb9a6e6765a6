package nn

import (
	"math/rand/v2"
	"runtime"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// Conv2D is a 2-D convolution over NHWC images (Keras Conv2D):
//
//	y[n,oy,ox,f] = act(b[f] + Σ_{ky,kx,c} x[n, oy*sh-pt+ky, ox*sw-pl+kx, c] · kernel[ky,kx,c,f])
//
// with cells outside the image read as 0. Input [N,H,W,C], output
// [N,OH,OW,Filters], parameters "kernel" [kh,kw,C,Filters] (HWIO) and "bias"
// [Filters]. It runs as im2col + GEMM, one image at a time, images spread
// over cores; 1×1 stride-1 "valid" convolutions skip im2col.
type Conv2D struct {
	Filters    int
	KernelSize [2]int // height, width
	Strides    [2]int // zero means 1, 1
	Padding    string // "valid" (default) or "same"
	NoBias     bool
	Activation string // one of ActivationNames; "" is linear
	KernelInit string // one of InitializerNames; "" is glorot_uniform

	named
	act        activation
	g          kernels.ConvGeom
	in, out    []int
	pointwise  bool
	kernel     *Param
	bias       *Param
	x          *tensor.Tensor
	z, y       *tensor.Tensor // z is the pre-activation (y itself unless softmax)
	zbuf       *tensor.Tensor
	dz, dx     *tensor.Tensor // dz is owned; grad is the dL/dz being used
	grad       *tensor.Tensor
	cols       [][]float32 // per-worker im2col buffers
	partial    []float32   // per-group kernel and bias gradients
	fwdFn      func(worker, n int)
	bwdFn      func(worker, group int)
	softmaxOut bool
	skipDx     bool
}

// convGroups is the number of fixed sample groups whose weight gradients are
// summed separately then added in order, so that the result does not depend
// on the number of cores.
const convGroups = 8

func (l *Conv2D) Type() string { return "Conv2D" }

func (l *Conv2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if l.Filters < 1 {
		return nil, errorf(l, "filters = %d: must be positive", l.Filters)
	}
	g, err := windowGeom(l, in, "kernel", l.KernelSize, orOne(l.Strides), l.Padding)
	if err != nil {
		return nil, err
	}
	act, err := parseActivation(l, l.Activation)
	if err != nil {
		return nil, err
	}
	if err := checkInitializer(l, l.KernelInit); err != nil {
		return nil, err
	}
	if err := checkSize(l, "kernel", g.KH, g.KW, g.C, l.Filters); err != nil {
		return nil, err
	}
	if err := checkSize(l, "im2col matrix", g.OH*g.OW, g.ColWidth()); err != nil {
		return nil, err
	}
	if err := checkSize(l, "output", g.OH, g.OW, l.Filters); err != nil {
		return nil, err
	}
	l.g, l.act, l.softmaxOut = g, act, act.kind == actSoftmax
	l.in = append([]int(nil), in...)
	l.out = []int{g.OH, g.OW, l.Filters}
	l.pointwise = g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PadTop == 0 && g.PadLeft == 0
	k := g.ColWidth()
	l.kernel = newParam("kernel", true, g.KH, g.KW, g.C, l.Filters)
	initialize(l.KernelInit, l.kernel.Value.Data, k, g.KH*g.KW*l.Filters, rng)
	l.bias = nil
	if !l.NoBias {
		l.bias = newParam("bias", true, l.Filters)
	}
	l.partial = make([]float32, convGroups*(k+1)*l.Filters)
	l.fwdFn, l.bwdFn = l.forwardImage, l.backwardGroup
	l.zbuf, l.x, l.y, l.z, l.dz, l.dx, l.grad, l.cols = nil, nil, nil, nil, nil, nil, nil, nil
	return append([]int(nil), l.out...), nil
}

func (l *Conv2D) OutputShape() []int { return l.out }

func (l *Conv2D) Params() []*Param {
	if l.bias == nil {
		return []*Param{l.kernel}
	}
	return []*Param{l.kernel, l.bias}
}

// workers makes sure there is an im2col buffer for every worker that may run
// on n items and returns their number.
func (l *Conv2D) workers(n int) int {
	w := min(n, runtime.GOMAXPROCS(0))
	if l.pointwise {
		return w
	}
	size := l.g.OH * l.g.OW * l.g.ColWidth()
	for len(l.cols) < w {
		l.cols = append(l.cols, make([]float32, size))
	}
	return w
}

func (l *Conv2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n := x.Shape[0]
	l.x = x
	l.y = resize(l.y, n, l.g.OH, l.g.OW, l.Filters)
	l.z = l.y
	if l.softmaxOut {
		l.zbuf = resize(l.zbuf, n, l.g.OH, l.g.OW, l.Filters)
		l.z = l.zbuf
	}
	if l.pointwise {
		kernels.Gemm(false, false, n*l.g.H*l.g.W, l.Filters, l.g.C, 1, x.Data, l.g.C, l.kernel.Value.Data, l.Filters, 0, l.z.Data, l.Filters)
	}
	kernels.ParallelFor(n, l.workers(n), l.fwdFn)
	return l.y
}

// forwardImage computes image i of the batch.
func (l *Conv2D) forwardImage(worker, i int) {
	g := &l.g
	rows, f := g.OH*g.OW, l.Filters
	z := l.z.Data[i*rows*f : (i+1)*rows*f]
	if !l.pointwise {
		cols := l.cols[worker]
		kernels.Im2col(cols, l.x.Data[i*g.H*g.W*g.C:(i+1)*g.H*g.W*g.C], g)
		kernels.Gemm(false, false, rows, f, g.ColWidth(), 1, cols, g.ColWidth(), l.kernel.Value.Data, f, 0, z, f)
	}
	y := l.y.Data[i*rows*f : (i+1)*rows*f]
	biasActivate(l.act, y, z, l.bias, f)
}

// biasActivate sets y = act(z + b) row by row (rows of length f); y may
// alias z.
func biasActivate(act activation, y, z []float32, bias *Param, f int) {
	if bias != nil {
		b := bias.Value.Data
		for r := 0; r < len(z); r += f {
			zr := z[r : r+f]
			for j := range zr {
				zr[j] += b[j]
			}
		}
	}
	act.forward(y, z, f)
}

func (l *Conv2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dz = resize(l.dz, dy.Shape...)
	l.act.backward(l.dz.Data, dy.Data, l.y.Data, l.Filters)
	return l.backwardFrom(l.dz)
}

// Logits returns the pre-activation output of the last Forward when the
// activation is softmax (nil otherwise).
func (l *Conv2D) Logits() *tensor.Tensor {
	if !l.softmaxOut {
		return nil
	}
	return l.z
}

// BackwardLogits is Backward for a softmax Conv2D given dL/dlogits.
func (l *Conv2D) BackwardLogits(dz *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dz, l.y)
	return l.backwardFrom(dz)
}

func (l *Conv2D) endsInSoftmax() bool { return l.softmaxOut }

// SkipInputGradient makes Backward leave out dL/dx (and return nil) while
// still accumulating the parameter gradients; see [InputGradientSkipper].
func (l *Conv2D) SkipInputGradient(skip bool) { l.skipDx = skip }

// backwardFrom accumulates dW = colsᵀ·dz and db = Σ dz per fixed group of
// images, computes dx = col2im(dz·Wᵀ), then adds the group sums in order.
func (l *Conv2D) backwardFrom(dz *tensor.Tensor) *tensor.Tensor {
	n := dz.Shape[0]
	l.grad = dz
	if !l.skipDx {
		l.dx = resize(l.dx, n, l.g.H, l.g.W, l.g.C)
	}
	groups := min(n, convGroups)
	kernels.ParallelFor(groups, l.workers(groups), l.bwdFn)
	kf := l.g.ColWidth() * l.Filters
	dw := l.kernel.Grad.Data
	for gi := range groups {
		p := l.partial[gi*(kf+l.Filters):]
		kernels.AddTo(dw, p[:kf])
		if l.bias != nil {
			kernels.AddTo(l.bias.Grad.Data, p[kf:kf+l.Filters])
		}
	}
	if l.skipDx {
		return nil
	}
	return l.dx
}

// backwardGroup handles the images of group gi.
func (l *Conv2D) backwardGroup(worker, gi int) {
	g := &l.g
	n, f, k := l.grad.Shape[0], l.Filters, g.ColWidth()
	groups := min(n, convGroups)
	rows, size := g.OH*g.OW, g.H*g.W*g.C
	p := l.partial[gi*(k+1)*f : (gi+1)*(k+1)*f]
	pw, pb := p[:k*f], p[k*f:]
	clear(p)
	w := l.kernel.Value.Data
	for i := gi * n / groups; i < (gi+1)*n/groups; i++ {
		dz := l.grad.Data[i*rows*f : (i+1)*rows*f]
		x := l.x.Data[i*size : (i+1)*size]
		for r := 0; r < len(dz); r += f {
			kernels.AddTo(pb, dz[r:r+f])
		}
		if l.pointwise {
			kernels.Gemm(true, false, k, f, rows, 1, x, k, dz, f, 1, pw, f)
			if !l.skipDx {
				kernels.Gemm(false, true, rows, k, f, 1, dz, f, w, f, 0, l.dx.Data[i*size:(i+1)*size], k)
			}
			continue
		}
		cols := l.cols[worker]
		kernels.Im2col(cols, x, g)
		kernels.Gemm(true, false, k, f, rows, 1, cols, k, dz, f, 1, pw, f)
		if l.skipDx {
			continue
		}
		dx := l.dx.Data[i*size : (i+1)*size]
		kernels.Gemm(false, true, rows, k, f, 1, dz, f, w, f, 0, cols, k)
		clear(dx)
		kernels.Col2im(dx, cols, g)
	}
}

func (l *Conv2D) Config() map[string]any {
	return map[string]any{
		"name":               l.Name(),
		"filters":            l.Filters,
		"kernel_size":        pairValue(l.KernelSize),
		"strides":            pairValue(orOne(l.Strides)),
		"padding":            paddingName(l.Padding),
		"use_bias":           !l.NoBias,
		"activation":         activationName(l.Activation),
		"kernel_initializer": initializerName(l.KernelInit),
	}
}

func conv2DFromConfig(f *fields) *Conv2D {
	return &Conv2D{
		Filters:    f.int("filters"),
		KernelSize: f.pair("kernel_size"),
		Strides:    f.pair("strides"),
		Padding:    f.str("padding"),
		NoBias:     !f.bool("use_bias", true),
		Activation: f.str("activation"),
		KernelInit: f.str("kernel_initializer"),
	}
}
