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
// [Filters].
//
// It runs as GEMMs over blocks of output rows, the blocks of every image
// spread over cores: from the row windows of the input when the vertical
// stride is 1 and the kernel is at least 3 high (see rowPlan), else from an
// im2col block still in cache when the GEMM reads it; 1×1 stride-1 "valid"
// convolutions need neither. The input gradient of a stride-1 convolution
// is itself a convolution of dL/dz with the flipped kernel, computed the
// same way; otherwise it is col2im(dL/dz · kernelᵀ). Kernel and bias
// gradients are summed per fixed group of images, then the groups in order,
// so every result is the same whatever GOMAXPROCS is.
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
	dz, dx     *tensor.Tensor // dz is owned
	grad       *tensor.Tensor // the gradient being propagated: dL/dy, or dL/dz once known
	cols       [][]float32    // per-worker im2col buffers, one block of rows each
	block      int            // im2col rows per block, forward and weight gradient
	tg         kernels.ConvGeom
	tblock     int       // rows per block of the input gradient (stride 1)
	rows       *rowPlan  // forward and weight gradient by rows, or nil
	trows      *rowPlan  // input gradient by rows, or nil
	flip       []float32 // the kernel for the input gradient, see kernels.FlipKernel
	flipDx     bool      // the input gradient is a convolution with flip
	partial    []float32 // per-group kernel and bias gradients
	fwdFn      func(worker, item int)
	bwdFn      func(worker, group int)
	dxFn       func(worker, item int)
	softmaxOut bool
	skipDx     bool
	dzReady    bool // grad is already dL/dz (BackwardLogits)
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
	// Scratch buffers (partial sums, flipped kernel, im2col) are made on
	// first use: building a model, to load weights into it, allocates its
	// parameters only.
	l.partial = nil
	l.block = blockRows(g.OH*g.OW, k, l.Filters)
	l.flip, l.flipDx, l.rows, l.trows = nil, false, nil, nil
	if !l.pointwise && useRows(&g) {
		l.rows = newRowPlan(g, l.Filters)
	}
	if g.SH == 1 && g.SW == 1 && !l.pointwise && g.C >= minFlipChannels {
		l.tg = g.Transposed(l.Filters)
		l.tblock = blockRows(g.H*g.W, l.tg.ColWidth(), g.C)
		l.flipDx = true
		if useRows(&l.tg) {
			l.trows = newRowPlan(l.tg, g.C)
		}
	}
	l.fwdFn, l.bwdFn, l.dxFn = l.forwardBlock, l.backwardGroup, l.inputGradBlock
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

// blockBytes is the size of one block of im2col rows: it stays in the L2
// cache between im2col writing it and the GEMM reading it.
const blockBytes = 192 << 10

// serialFlops bounds the work of one GEMM call made from inside a parallel
// loop, below the size at which kernels.Gemm would split it across
// goroutines itself (the loop already keeps every core busy).
const serialFlops = 4 << 20

// minFlipChannels is the fewest input channels for which the input gradient
// is computed as a convolution with the flipped kernel: that GEMM has one
// column per channel, too few below this for the micro-kernels.
const minFlipChannels = 8

// blockRows returns how many im2col rows of width k (of rows in all) to
// process at once, for a GEMM with n columns: about blockBytes, a multiple
// of 12 rows (a multiple of the tile height of every GEMM micro-kernel),
// and no more work than serialFlops.
func blockRows(rows, k, n int) int {
	r := min(blockBytes/(4*k), serialFlops/(2*k*n))
	r = max(r/12*12, 12)
	return min(r, rows)
}

// workers makes sure there is an im2col buffer for every worker that may run
// on n items and returns their number.
func (l *Conv2D) workers(n int) int {
	w := min(n, runtime.GOMAXPROCS(0))
	if l.pointwise {
		return w
	}
	size := l.block * l.g.ColWidth() // im2col
	if l.rows != nil {
		size = l.rows.bufSize()
	}
	if !l.flipDx {
		size = max(size, l.block*l.g.ColWidth()) // the col2im input gradient
	}
	if l.trows != nil {
		size = max(size, l.trows.bufSize())
	} else if l.flipDx {
		size = max(size, l.tblock*l.tg.ColWidth())
	}
	for len(l.cols) < w {
		l.cols = append(l.cols, make([]float32, size))
	}
	return w
}

// blocks returns the number of blocks of rows rows per image.
func blocks(rows, block int) int { return (rows + block - 1) / block }

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
	items := n * blocks(l.g.OH*l.g.OW, l.block)
	if l.rows != nil {
		items = n * l.rows.blocks()
	}
	w := l.workers(items)
	if 2*n*len(l.kernel.Value.Data)*l.g.OH*l.g.OW < parallelConvFlops {
		w = 1
	}
	kernels.ParallelFor(items, w, l.fwdFn)
	return l.y
}

// parallelConvFlops is the work below which a forward pass runs on one
// goroutine: for one image of the tutorial model, waking a second core
// costs about what it saves on a quiet machine (0.52 ms a prediction either
// way) and adds delays on a busy one (0.67 ms median against 0.55 ms).
// Tests lower it to run small convolutions in parallel.
var parallelConvFlops = 64 << 20

// forwardBlock computes one block of output rows of one image: item counts
// the blocks of image 0, then those of image 1, and so on.
func (l *Conv2D) forwardBlock(worker, item int) {
	g := &l.g
	rows, f, k := g.OH*g.OW, l.Filters, g.ColWidth()
	x := l.x.Data
	if l.rows != nil {
		per := l.rows.blocks()
		i, b := item/per, item%per
		lo, hi := l.rows.span(b)
		z := l.z.Data[(i*rows+lo)*f : (i*rows+hi)*f]
		l.rows.forward(l.cols[worker], x[i*g.H*g.W*g.C:(i+1)*g.H*g.W*g.C], l.kernel.Value.Data, z, f, b)
		biasActivate(l.act, l.y.Data[(i*rows+lo)*f:(i*rows+hi)*f], z, l.bias, f)
		return
	}
	per := blocks(rows, l.block)
	i, lo := item/per, item%per*l.block
	hi := min(lo+l.block, rows)
	z := l.z.Data[(i*rows+lo)*f : (i*rows+hi)*f]
	if !l.pointwise {
		cols := l.cols[worker][:(hi-lo)*k]
		kernels.Im2colRows(cols, l.x.Data[i*g.H*g.W*g.C:(i+1)*g.H*g.W*g.C], g, lo, hi)
		kernels.Gemm(false, false, hi-lo, f, k, 1, cols, k, l.kernel.Value.Data, f, 0, z, f)
	}
	y := l.y.Data[(i*rows+lo)*f : (i*rows+hi)*f]
	biasActivate(l.act, y, z, l.bias, f)
}

// biasActivate sets y = act(z + b) row by row (rows of length f); y may
// alias z.
func biasActivate(act activation, y, z []float32, bias *Param, f int) {
	if act.kind == actReLU && y != nil && &y[0] == &z[0] {
		var b []float32
		if bias != nil {
			b = bias.Value.Data
		}
		kernels.BiasReLU(y, z, b)
		return
	}
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
	return l.backwardFrom(dy, false)
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
	return l.backwardFrom(dz, true)
}

func (l *Conv2D) endsInSoftmax() bool { return l.softmaxOut }

// SkipInputGradient makes Backward leave out dL/dx (and return nil) while
// still accumulating the parameter gradients; see [InputGradientSkipper].
func (l *Conv2D) SkipInputGradient(skip bool) { l.skipDx = skip }

// backwardFrom accumulates dW = colsᵀ·dz and db = Σ dz per fixed group of
// images and adds the group sums in order, then computes dx. With logits
// set, d is dL/dz; otherwise it is dL/dy and each group first sets its
// images' dz = act'(dy) into l.dz.
func (l *Conv2D) backwardFrom(d *tensor.Tensor, logits bool) *tensor.Tensor {
	n := d.Shape[0]
	l.grad, l.dzReady = d, logits
	groups := min(n, convGroups)
	if l.partial == nil {
		l.partial = make([]float32, convGroups*(l.g.ColWidth()+1)*l.Filters)
	}
	kernels.ParallelFor(groups, l.workers(groups), l.bwdFn)
	dz := d
	if !logits {
		dz = l.dz
	}
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
	l.grad = dz
	l.dx = resize(l.dx, n, l.g.H, l.g.W, l.g.C)
	if !l.flipDx {
		kernels.ParallelFor(n, l.workers(n), l.dxFn)
		return l.dx
	}
	g := &l.g
	if l.flip == nil {
		l.flip = make([]float32, len(l.kernel.Value.Data))
	}
	kernels.FlipKernel(l.flip, l.kernel.Value.Data, g.KH, g.KW, g.C, l.Filters)
	items := n * blocks(g.H*g.W, l.tblock)
	if l.trows != nil {
		items = n * l.trows.blocks()
	}
	kernels.ParallelFor(items, l.workers(items), l.dxFn)
	return l.dx
}

// backwardGroup accumulates the kernel and bias gradients of the images of
// group gi into the group's partial sums.
func (l *Conv2D) backwardGroup(worker, gi int) {
	g := &l.g
	n, f, k := l.grad.Shape[0], l.Filters, g.ColWidth()
	groups := min(n, convGroups)
	rows, size := g.OH*g.OW, g.H*g.W*g.C
	p := l.partial[gi*(k+1)*f : (gi+1)*(k+1)*f]
	pw, pb := p[:k*f], p[k*f:]
	clear(p)
	for i := gi * n / groups; i < (gi+1)*n/groups; i++ {
		dz := l.grad.Data[i*rows*f : (i+1)*rows*f]
		if !l.dzReady {
			dy := dz
			dz = l.dz.Data[i*rows*f : (i+1)*rows*f]
			y := l.y.Data[i*rows*f : (i+1)*rows*f]
			if l.act.kind == actReLU {
				kernels.ReLUGradSum(dz, dy, y, pb)
			} else {
				l.act.backward(dz, dy, y, f)
				kernels.AddColumnSums(pb, dz)
			}
		} else {
			kernels.AddColumnSums(pb, dz)
		}
		x := l.x.Data[i*size : (i+1)*size]
		if l.pointwise {
			kernels.Gemm(true, false, k, f, rows, 1, x, k, dz, f, 1, pw, f)
			continue
		}
		cols := l.cols[worker]
		if l.rows != nil {
			for b := range l.rows.blocks() {
				lo, hi := l.rows.span(b)
				l.rows.weightGrad(cols, x, dz[lo*f:hi*f], pw, f, b)
			}
			continue
		}
		for lo := 0; lo < rows; lo += l.block {
			hi := min(lo+l.block, rows)
			kernels.Im2colRows(cols[:(hi-lo)*k], x, g, lo, hi)
			kernels.Gemm(true, false, k, f, hi-lo, 1, cols, k, dz[lo*f:hi*f], f, 1, pw, f)
		}
	}
}

// inputGradBlock computes one item of dx = dL/dx from dz = l.grad. For a
// stride-1 convolution an item is a block of rows of one image's input
// gradient, a convolution of dz with the flipped kernel; otherwise it is a
// whole image, dx = col2im(dz·Wᵀ).
func (l *Conv2D) inputGradBlock(worker, item int) {
	g := &l.g
	f, size := l.Filters, g.H*g.W*g.C
	rows := g.OH * g.OW
	if l.pointwise || !l.flipDx {
		i := item
		dz := l.grad.Data[i*rows*f : (i+1)*rows*f]
		dx := l.dx.Data[i*size : (i+1)*size]
		if l.pointwise {
			kernels.Gemm(false, true, rows, g.C, f, 1, dz, f, l.kernel.Value.Data, f, 0, dx, g.C)
			return
		}
		k := g.ColWidth()
		cols := l.cols[worker]
		clear(dx)
		for lo := 0; lo < rows; lo += l.block {
			hi := min(lo+l.block, rows)
			kernels.Gemm(false, true, hi-lo, k, f, 1, dz[lo*f:hi*f], f, l.kernel.Value.Data, f, 0, cols, k)
			kernels.Col2imRows(dx, cols[:(hi-lo)*k], g, lo, hi)
		}
		return
	}
	t := &l.tg
	k, in := t.ColWidth(), g.H*g.W
	if l.trows != nil {
		per := l.trows.blocks()
		i, b := item/per, item%per
		lo, hi := l.trows.span(b)
		l.trows.forward(l.cols[worker], l.grad.Data[i*rows*f:(i+1)*rows*f], l.flip, l.dx.Data[i*size+lo*g.C:i*size+hi*g.C], g.C, b)
		return
	}
	per := blocks(in, l.tblock)
	i, lo := item/per, item%per*l.tblock
	hi := min(lo+l.tblock, in)
	cols := l.cols[worker][:(hi-lo)*k]
	kernels.Im2colRows(cols, l.grad.Data[i*rows*f:(i+1)*rows*f], t, lo, hi)
	kernels.Gemm(false, false, hi-lo, g.C, k, 1, cols, k, l.flip, g.C, 0, l.dx.Data[i*size+lo*g.C:i*size+hi*g.C], g.C)
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
