package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// convGroups holds a grouped Conv2D's work: each group's input channels,
// kernel, output and gradients copied into buffers of their own, where the
// layer's kernels.Conv (planned for one group: C/g channels, Filters/g
// filters) computes them one group after the other.
type convGroups struct {
	n  int       // groups
	x  []float32 // the input, group by group: [g][N,H,W,C/g]
	w  []float32 // the kernel, group by group: [g][kh,kw,C/g,F/g]
	y  []float32 // one group's output or dL/dz: [N,OH,OW,F/g]
	dw []float32 // one group's kernel gradient
	dx []float32 // one group's input gradient: [N,H,W,C/g]
}

// gather copies the columns [lo, lo+width) of the rows of src (rows of
// stride ld) into dst, row after row.
func gather(dst, src []float32, ld, lo, width int) {
	for r := 0; r*width < len(dst); r++ {
		copy(dst[r*width:(r+1)*width], src[r*ld+lo:r*ld+lo+width])
	}
}

// scatter copies the rows of src (width values each) into the columns
// [lo, lo+width) of the rows of dst (stride ld).
func scatter(dst, src []float32, ld, lo, width int) {
	for r := 0; r*width < len(src); r++ {
		copy(dst[r*ld+lo:r*ld+lo+width], src[r*width:(r+1)*width])
	}
}

// grow returns s resized to n values, reusing its storage when it can.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// forwardGroups computes a grouped convolution's output for n images:
// each group's channels and kernel columns into buffers, its convolution,
// its filters back into the output; then the bias and the activation.
func (l *Conv2D) forwardGroups(conv *kernels.Conv, n int) {
	gs, g := l.groups, conv.Geom()
	c, f := g.C, l.Filters/gs.n // per group
	pixels, cells, taps := n*g.H*g.W, n*g.OH*g.OW, g.KH*g.KW*c
	gs.x = grow(gs.x, gs.n*pixels*c)
	gs.w = grow(gs.w, gs.n*taps*f)
	gs.y = grow(gs.y, cells*f)
	out := pre(l.y, l.z)
	for k := range gs.n {
		x, w := gs.x[k*pixels*c:(k+1)*pixels*c], gs.w[k*taps*f:(k+1)*taps*f]
		gather(x, l.x.Data, gs.n*c, k*c, c)
		gather(w, l.kernel.Value.Data, l.Filters, k*f, f)
		conv.Forward(gs.y, x, w, n, kernels.ConvEpilogue{}, nil)
		scatter(out, gs.y, l.Filters, k*f, f)
	}
	biasActivate(l.act, l.y.Data, data(l.z), l.bias, l.Filters)
}

// backwardGroups is Backward for a grouped convolution: dL/dz through the
// activation and the bias gradient over all filters, then each group's
// kernel gradient and input gradient from the buffers of its forward pass.
func (l *Conv2D) backwardGroups(dy *tensor.Tensor, db []float32) *tensor.Tensor {
	gs, g := l.groups, l.conv.Geom()
	n, c, f := dy.Shape[0], g.C, l.Filters/gs.n
	pixels, taps := n*g.H*g.W, g.KH*g.KW*c
	dz := dy.Data
	if !l.act.identity() {
		l.dz = l.temp(l.dz, dy.Shape...)
		l.act.backward(l.dz.Data, dy.Data, l.y.Data, data(l.z), l.Filters)
		dz = l.dz.Data
	}
	if db != nil {
		kernels.AddColumnSums(db, dz)
	}
	if !l.skipDw {
		gs.dw = grow(gs.dw, taps*f)
	}
	if !l.skipDx {
		l.dx = l.grad(l.dx, n, l.in[0], l.in[1], l.in[2])
		gs.dx = grow(gs.dx, pixels*c)
	}
	for k := range gs.n {
		x, w := gs.x[k*pixels*c:(k+1)*pixels*c], gs.w[k*taps*f:(k+1)*taps*f]
		gather(gs.y, dz, l.Filters, k*f, f)
		if !l.skipDw {
			clear(gs.dw)
			l.conv.BackwardFilter(gs.dw, nil, x, gs.y, n, nil)
			addColumns(l.kernel.Grad.Data, gs.dw, l.Filters, k*f, f)
		}
		if !l.skipDx {
			l.conv.BackwardData(gs.dx, gs.y, w, n)
			scatter(l.dx.Data, gs.dx, gs.n*c, k*c, c)
		}
	}
	if l.skipDx {
		return nil
	}
	return l.dx
}

// addColumns adds the rows of src (width values each) to the columns
// [lo, lo+width) of the rows of dst (stride ld).
func addColumns(dst, src []float32, ld, lo, width int) {
	for r := 0; r*width < len(src); r++ {
		kernels.AddTo(dst[r*ld+lo:r*ld+lo+width], src[r*width:(r+1)*width])
	}
}
