package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// DepthwiseConv2D convolves each input channel with kernels of its own
// (Keras DepthwiseConv2D): input channel c gives the DepthMultiplier
// output channels c·M .. c·M+M-1,
//
//	y[n,oy,ox,c·M+m] = act(b[c·M+m] + Σ_{ky,kx} x[n, oy*sh-pt+ky, ox*sw-pl+kx, c] · kernel[ky,kx,c,m])
//
// with cells outside the image read as 0. Input [N,H,W,C], output
// [N,OH,OW,C·M], parameters "depthwise_kernel" [kh,kw,C,M] and "bias"
// [C·M]. Channels do not mix: it is the first half of a depthwise
// separable convolution (MobileNet's), a 1x1 Conv2D being the second, and
// what ONNX and PyTorch write as a convolution with one group per input
// channel.
type DepthwiseConv2D struct {
	KernelSize      [2]int // height, width
	Strides         [2]int // zero means 1, 1
	Padding         string // "valid" (default) or "same"
	DepthMultiplier int    // output channels per input channel; zero means 1
	NoBias          bool
	Activation      string // one of ActivationNames; "" is linear
	KernelInit      string // one of InitializerNames; "" is glorot_uniform

	named
	buffers
	g         kernels.ConvGeom
	m, f      int       // depth multiplier and output channels C·M
	inner     [2]int    // the output columns [lo, hi) whose windows lie inside the image
	zeros     []float32 // C·M zeros: the bias of a layer without one
	flip      []float32 // the kernel turned by 180°, for gatherRow
	act       activation
	in, out   []int
	kernel    *Param
	bias      *Param
	x, y      *tensor.Tensor
	dz, dx    *tensor.Tensor
	skipDx    bool
	forwardFn func(worker, i int)
	dataFn    func(worker, i int)
	filterFn  func(worker, i int)
	gatherFn  func(worker, i int)
	n         int            // the batch size of the running Backward
	dzRun     *tensor.Tensor // its dL/dz
}

func (l *DepthwiseConv2D) Type() string { return "DepthwiseConv2D" }

func (l *DepthwiseConv2D) multiplier() int {
	if l.DepthMultiplier == 0 {
		return 1
	}
	return l.DepthMultiplier
}

func (l *DepthwiseConv2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	m := l.multiplier()
	if m < 1 {
		return nil, errorf(l, "depth_multiplier = %d: must be positive", l.DepthMultiplier)
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
	if err := checkSize(l, "kernel", g.KH, g.KW, g.C, m); err != nil {
		return nil, err
	}
	if err := checkSize(l, "output", g.OH, g.OW, g.C, m); err != nil {
		return nil, err
	}
	l.g, l.m, l.f, l.act = g, m, g.C*m, act
	lo := (g.PadLeft + g.SW - 1) / g.SW
	l.inner = [2]int{lo, max(lo, min(g.OW, (g.W-g.KW+g.PadLeft)/g.SW+1))}
	l.in, l.out = append([]int(nil), in...), []int{g.OH, g.OW, g.C * m}
	l.kernel = newParam("depthwise_kernel", true, g.KH, g.KW, g.C, m)
	// Keras's fans for a [kh,kw,C,M] kernel: kh·kw·C in, kh·kw·M out.
	initialize(l.KernelInit, l.kernel.Value.Data, g.KH*g.KW*g.C, g.KH*g.KW*m, rng)
	l.bias, l.zeros, l.flip = nil, make([]float32, l.f), nil
	if !l.NoBias {
		l.bias = newParam("bias", true, l.f)
	}
	if l.gather() {
		l.flip = make([]float32, len(l.kernel.Value.Data))
	}
	l.forwardFn, l.dataFn, l.filterFn, l.gatherFn = l.forwardRow, l.dataImage, l.filterBlock, l.gatherRow
	l.x, l.y, l.dz, l.dx = nil, nil, nil, nil
	return append([]int(nil), l.out...), nil
}

func (l *DepthwiseConv2D) OutputShape() []int { return l.out }

func (l *DepthwiseConv2D) Params() []*Param { return weights(l.kernel, l.bias) }

// Cost counts the kernel and bias, and one multiply-add per kernel weight
// and output cell.
func (l *DepthwiseConv2D) Cost(in []int) Cost {
	if len(in) != 3 {
		return Cost{}
	}
	m := l.multiplier()
	return convCost(in, l.KernelSize, orOne(l.Strides), l.Padding, mulSat(int64(in[2]), int64(m)), in[2]*m, l.NoBias)
}

// taps returns the kernel rows [ky0, ky1) and columns [kx0, kx1) of output
// cell (oy, ox) that fall inside the image, and the input cell of tap (0, 0).
func (l *DepthwiseConv2D) taps(oy, ox int) (ky0, ky1, kx0, kx1, iy, ix int) {
	g := &l.g
	iy, ix = oy*g.SH-g.PadTop, ox*g.SW-g.PadLeft
	return max(0, -iy), min(g.KH, g.H-iy), max(0, -ix), min(g.KW, g.W-ix), iy, ix
}

func (l *DepthwiseConv2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n := x.Shape[0]
	l.x = x
	l.y = resize(l.y, n, l.out[0], l.out[1], l.out[2])
	rows := n * l.g.OH
	kernels.ParallelFor(rows, rows, l.forwardFn)
	return l.y
}

// forwardRow computes output row r of the batch: row r%OH of image r/OH.
func (l *DepthwiseConv2D) forwardRow(_, r int) {
	g, c, m, f := &l.g, l.g.C, l.m, l.f
	i, oy := r/g.OH, r%g.OH
	x := l.x.Data[i*g.H*g.W*c : (i+1)*g.H*g.W*c]
	y := l.y.Data[r*g.OW*f : (r+1)*g.OW*f]
	w := l.kernel.Value.Data
	// The cells whose windows lie inside the image, when there is one
	// kernel per channel, go to kernels.DepthwiseCells; the others here.
	lo, hi := 0, 0
	if iy := oy*g.SH - g.PadTop; m == 1 && iy >= 0 && iy+g.KH <= g.H {
		lo, hi = l.inner[0], l.inner[1]
	}
	for ox := range g.OW {
		if ox >= lo && ox < hi {
			continue
		}
		out := y[ox*f : (ox+1)*f]
		if l.bias != nil {
			copy(out, l.bias.Value.Data)
		} else {
			clear(out)
		}
		ky0, ky1, kx0, kx1, iy, ix := l.taps(oy, ox)
		for ky := ky0; ky < ky1; ky++ {
			for kx := kx0; kx < kx1; kx++ {
				in := x[((iy+ky)*g.W+ix+kx)*c:][:c]
				k := w[(ky*g.KW+kx)*f:][:f]
				if m == 1 {
					mulAdd(out, in, k)
					continue
				}
				for ci, v := range in {
					mulAddScalar(out[ci*m:(ci+1)*m], v, k[ci*m:(ci+1)*m])
				}
			}
		}
	}
	if hi > lo {
		_, _, _, _, iy, ix := l.taps(oy, lo)
		b := l.zeros
		if l.bias != nil {
			b = l.bias.Value.Data
		}
		kernels.DepthwiseCells(y[lo*f:hi*f], b, x[(iy*g.W+ix)*c:], w, hi-lo, c, g.SW*c, g.KH, g.KW, g.W*c)
	}
	if !l.act.identity() {
		l.act.forward(y, y, f)
	}
}

// mulAdd sets y[i] += a[i]·b[i].
func mulAdd(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] += a[i] * b[i]
	}
}

// mulAddScalar sets y[i] += v·b[i].
func mulAddScalar(y []float32, v float32, b []float32) {
	b = b[:len(y)]
	for i := range y {
		y[i] += v * b[i]
	}
}

// filterChannels is how many output channels one item of the kernel
// gradient takes: items split the channels, so that each weight's sum runs
// in one fixed order whatever the number of workers. Blocks of 64 keep
// four sums of 16 in flight; narrower layers take 16, to share the work.
func (l *DepthwiseConv2D) filterChannels() int {
	if l.f >= 128 {
		return 64
	}
	return 16
}

func (l *DepthwiseConv2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	n := dy.Shape[0]
	dz := dy
	if !l.act.identity() {
		l.dz = l.temp(l.dz, dy.Shape...)
		l.act.backward(l.dz.Data, dy.Data, l.y.Data, l.f)
		dz = l.dz
	}
	l.n, l.dzRun = n, dz
	blocks := (l.f + l.filterChannels() - 1) / l.filterChannels()
	kernels.ParallelFor(blocks, blocks, l.filterFn)
	if !l.skipDx {
		l.dx = l.grad(l.dx, n, l.in[0], l.in[1], l.in[2])
		if l.gather() {
			l.flipKernel()
			rows := n * l.g.H
			kernels.ParallelFor(rows, rows, l.gatherFn)
		} else {
			kernels.ParallelFor(n, n, l.dataFn)
		}
	}
	l.dzRun = nil
	if l.skipDx {
		return nil
	}
	return l.dx
}

// filterBlock adds the kernel and bias gradients of the output channels
// [b·w, (b+1)·w), w = filterChannels(). With one kernel per channel, the
// cells whose windows lie inside the image go to
// kernels.DepthwiseFilterCells, row by row after the others.
func (l *DepthwiseConv2D) filterBlock(_, b int) {
	g, c, m, f := &l.g, l.g.C, l.m, l.f
	o0, o1 := b*l.filterChannels(), min((b+1)*l.filterChannels(), f)
	dw := l.kernel.Grad.Data
	for i := range l.n {
		x := l.x.Data[i*g.H*g.W*c : (i+1)*g.H*g.W*c]
		dz := l.dzRun.Data[i*g.OH*g.OW*f : (i+1)*g.OH*g.OW*f]
		for oy := range g.OH {
			lo, hi := 0, 0
			if iy := oy*g.SH - g.PadTop; m == 1 && iy >= 0 && iy+g.KH <= g.H {
				lo, hi = l.inner[0], l.inner[1]
			}
			for ox := range g.OW {
				d := dz[(oy*g.OW+ox)*f:][o0:o1]
				if l.bias != nil {
					kernels.AddTo(l.bias.Grad.Data[o0:o1], d)
				}
				if ox >= lo && ox < hi {
					continue
				}
				ky0, ky1, kx0, kx1, iy, ix := l.taps(oy, ox)
				for ky := ky0; ky < ky1; ky++ {
					for kx := kx0; kx < kx1; kx++ {
						in := x[((iy+ky)*g.W+ix+kx)*c:][:c]
						k := dw[(ky*g.KW+kx)*f:][o0:o1]
						if m == 1 {
							mulAdd(k, in[o0:o1], d)
							continue
						}
						for o := range k {
							k[o] += in[(o0+o)/m] * d[o]
						}
					}
				}
			}
			if hi > lo {
				_, _, _, _, iy, ix := l.taps(oy, lo)
				kernels.DepthwiseFilterCells(dw[o0:], x[(iy*g.W+ix)*c+o0:], dz[(oy*g.OW+lo)*f+o0:], hi-lo, c, o1-o0, g.SW*c, g.KH, g.KW, g.W*c)
			}
		}
	}
}

// gather reports whether dL/dx is computed input row by input row, as a
// depthwise convolution of dL/dz with the kernel turned by 180°: with one
// kernel per channel and strides of 1, each input cell reads the output
// cells whose windows hold it, the cells of a window of dL/dz.
func (l *DepthwiseConv2D) gather() bool { return l.m == 1 && l.g.SH == 1 && l.g.SW == 1 }

// flipKernel sets l.flip to the kernel turned by 180°.
func (l *DepthwiseConv2D) flipKernel() {
	g, c, w := &l.g, l.g.C, l.kernel.Value.Data
	for ky := range g.KH {
		for kx := range g.KW {
			copy(l.flip[((g.KH-1-ky)*g.KW+g.KW-1-kx)*c:][:c], w[(ky*g.KW+kx)*c:][:c])
		}
	}
}

// gatherRow sets row r of dL/dx for the batch, row r%H of image r/H, when
// gather holds:
//
//	dx[iy,ix,c] = Σ_{ky,kx} dz[iy+pt-ky, ix+pl-kx, c] · kernel[ky,kx,c] (cells of dz that exist)
//
// The cells whose windows of dz lie inside it go to kernels.DepthwiseCells.
func (l *DepthwiseConv2D) gatherRow(_, r int) {
	g, c := &l.g, l.g.C
	i, iy := r/g.H, r%g.H
	dx := l.dx.Data[r*g.W*c : (r+1)*g.W*c]
	dz := l.dzRun.Data[i*g.OH*g.OW*c : (i+1)*g.OH*g.OW*c]
	w := l.kernel.Value.Data
	oy0 := iy + g.PadTop - g.KH + 1 // the output row of the flipped window's first row
	lo, hi := 0, 0
	if oy0 >= 0 && oy0+g.KH <= g.OH {
		lo = max(0, g.KW-1-g.PadLeft)
		hi = max(lo, min(g.W, g.OW-g.PadLeft))
	}
	for ix := range g.W {
		if ix >= lo && ix < hi {
			continue
		}
		out := dx[ix*c : (ix+1)*c]
		clear(out)
		for ky := range g.KH {
			oy := iy + g.PadTop - ky
			if oy < 0 || oy >= g.OH {
				continue
			}
			for kx := range g.KW {
				ox := ix + g.PadLeft - kx
				if ox < 0 || ox >= g.OW {
					continue
				}
				mulAdd(out, dz[(oy*g.OW+ox)*c:][:c], w[(ky*g.KW+kx)*c:][:c])
			}
		}
	}
	if hi > lo {
		ox0 := lo + g.PadLeft - g.KW + 1
		kernels.DepthwiseCells(dx[lo*c:hi*c], l.zeros, dz[(oy0*g.OW+ox0)*c:], l.flip, hi-lo, c, c, g.KH, g.KW, g.OW*c)
	}
}

// dataImage sets dL/dx of image i.
func (l *DepthwiseConv2D) dataImage(_, i int) {
	g, c, m, f := &l.g, l.g.C, l.m, l.f
	dx := l.dx.Data[i*g.H*g.W*c : (i+1)*g.H*g.W*c]
	dz := l.dzRun.Data[i*g.OH*g.OW*f : (i+1)*g.OH*g.OW*f]
	w := l.kernel.Value.Data
	clear(dx)
	for oy := range g.OH {
		for ox := range g.OW {
			d := dz[(oy*g.OW+ox)*f:][:f]
			ky0, ky1, kx0, kx1, iy, ix := l.taps(oy, ox)
			for ky := ky0; ky < ky1; ky++ {
				for kx := kx0; kx < kx1; kx++ {
					out := dx[((iy+ky)*g.W+ix+kx)*c:][:c]
					k := w[(ky*g.KW+kx)*f:][:f]
					if m == 1 {
						mulAdd(out, d, k)
						continue
					}
					for ci := range out {
						var s float32
						for j := ci * m; j < (ci+1)*m; j++ {
							s += d[j] * k[j]
						}
						out[ci] += s
					}
				}
			}
		}
	}
}

// SkipInputGradient makes Backward leave out dL/dx (and return nil) while
// still accumulating the parameter gradients; see [InputGradientSkipper].
func (l *DepthwiseConv2D) SkipInputGradient(skip bool) { l.skipDx = skip }

// OmitSoftmax leaves out a softmax activation; see [FinalSoftmax].
func (l *DepthwiseConv2D) OmitSoftmax(omit bool) bool { return l.act.omitSoftmax(omit) }

func (l *DepthwiseConv2D) Config() map[string]any {
	return map[string]any{
		"name":                  l.Name(),
		"kernel_size":           pairValue(l.KernelSize),
		"strides":               pairValue(orOne(l.Strides)),
		"padding":               paddingName(l.Padding),
		"depth_multiplier":      l.multiplier(),
		"use_bias":              !l.NoBias,
		"activation":            activationName(l.Activation),
		"depthwise_initializer": initializerName(l.KernelInit),
	}
}

func depthwiseFromConfig(f *fields) *DepthwiseConv2D {
	return &DepthwiseConv2D{
		KernelSize:      f.pair("kernel_size"),
		Strides:         f.pair("strides"),
		Padding:         f.str("padding"),
		DepthMultiplier: f.int("depth_multiplier"),
		NoBias:          !f.bool("use_bias", true),
		Activation:      f.str("activation"),
		KernelInit:      f.str("depthwise_initializer"),
	}
}
