package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

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
	checkKept(l, l.x)
	n := dy.Shape[0]
	dz := dy
	if !l.act.identity() {
		l.dz = l.temp(l.dz, dy.Shape...)
		l.act.backward(l.dz.Data, dy.Data, l.y.Data, data(l.z), l.f)
		dz = l.dz
	}
	l.dzRun = dz
	defer func() { l.dzRun = nil }()
	if !l.skipDw {
		blocks := (l.f + l.filterChannels() - 1) / l.filterChannels()
		kernels.ParallelFor(blocks, blocks, l.filterFn)
	}
	if l.skipDx {
		return nil
	}
	l.dx = l.grad(l.dx, n, l.in[0], l.in[1], l.in[2])
	if l.gather() {
		l.flipKernel()
		rows := n * l.g.H
		kernels.ParallelFor(rows, rows, l.gatherFn)
	} else {
		kernels.ParallelFor(n, n, l.dataFn)
	}
	return l.dx
}

// filterBlock adds the kernel and bias gradients of the output channels
// [b·w, (b+1)·w), w = filterChannels(); with one kernel per channel,
// through kernels.DepthwiseFilterCells (filterRow).
func (l *DepthwiseConv2D) filterBlock(_, b int) {
	g, c, m, f := &l.g, l.g.C, l.m, l.f
	o0, o1 := b*l.filterChannels(), min((b+1)*l.filterChannels(), f)
	dw := l.kernel.Grad.Data
	for i := range l.dzRun.Shape[0] {
		x := l.x.Data[i*g.H*g.W*c : (i+1)*g.H*g.W*c]
		dz := l.dzRun.Data[i*g.OH*g.OW*f : (i+1)*g.OH*g.OW*f]
		for oy := range g.OH {
			if l.bias != nil {
				for ox := range g.OW {
					kernels.AddTo(l.bias.Grad.Data[o0:o1], dz[(oy*g.OW+ox)*f:][o0:o1])
				}
			}
			if m == 1 {
				l.filterRow(dw, x, dz, oy, o0, o1)
				continue
			}
			for ox := range g.OW {
				d := dz[(oy*g.OW+ox)*f:][o0:o1]
				ky0, ky1, kx0, kx1, iy, ix := l.taps(oy, ox)
				for ky := ky0; ky < ky1; ky++ {
					for kx := kx0; kx < kx1; kx++ {
						in := x[((iy+ky*l.d[0])*g.W+ix+kx*l.d[1])*c:][:c]
						k := dw[(ky*g.KW+kx)*f:][o0:o1]
						for o := range k {
							k[o] += in[(o0+o)/m] * d[o]
						}
					}
				}
			}
		}
	}
}

// filterRow adds the kernel gradient of output row oy of one image (x its
// input, dz its output's gradient), for the channels [o0, o1) of a layer
// with one kernel per channel, through kernels.DepthwiseFilterCells, run by
// run (see cellRuns).
func (l *DepthwiseConv2D) filterRow(dw, x, dz []float32, oy, o0, o1 int) {
	g, c := &l.g, l.g.C
	l.cellRuns(oy, func(ox, n, kh, kw, kernel, image int) {
		if kh > 0 {
			kernels.DepthwiseFilterCells(dw[kernel+o0:], x[image+o0:], dz[(oy*g.OW+ox)*c+o0:], n, c, o1-o0, g.SW*c, l.d[1]*c, kh, kw, l.d[0]*g.W*c, g.KW*c)
		}
	})
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
// gather holds (d the taps' distance):
//
//	dx[iy,ix,c] = Σ_{ky,kx} dz[iy+pt-ky·d[0], ix+pl-kx·d[1], c] · kernel[ky,kx,c] (cells of dz that exist)
//
// Every cell goes to kernels.DepthwiseCells with the part of the flipped
// kernel whose cells of dz exist: the cells whose windows' columns lie
// inside dz in one call, the others one by one.
func (l *DepthwiseConv2D) gatherRow(_, r int) {
	g, c := &l.g, l.g.C
	i, iy := r/g.H, r%g.H
	dx := l.dx.Data[r*g.W*c : (r+1)*g.W*c]
	dz := l.dzRun.Data[i*g.OH*g.OW*c : (i+1)*g.OH*g.OW*c]
	d, row, krow := l.d, g.OW*c, g.KW*c
	oy0 := iy + g.PadTop - (g.KH-1)*d[0] // the output row of the flipped window's first row
	fy0, fy1 := inside(oy0, d[0], g.KH, g.OH)
	lo := max(0, (g.KW-1)*d[1]-g.PadLeft)
	hi := max(lo, min(g.W, g.OW-g.PadLeft))
	for ix := range g.W {
		ox0 := ix + g.PadLeft - (g.KW-1)*d[1] // likewise, its first column
		fx0, fx1 := inside(ox0, d[1], g.KW, g.OW)
		switch {
		case fy1 <= fy0 || fx1 <= fx0: // read by no output cell
			clear(dx[ix*c : (ix+1)*c])
		case ix == lo && hi > lo:
			kernels.DepthwiseCells(dx[lo*c:hi*c], l.zeros, dz[(oy0+fy0*d[0])*row+ox0*c:], l.flip[fy0*krow:], hi-lo, c, c, d[1]*c, fy1-fy0, g.KW, d[0]*row, krow)
		case ix < lo || ix >= hi:
			kernels.DepthwiseCells(dx[ix*c:(ix+1)*c], l.zeros, dz[(oy0+fy0*d[0])*row+(ox0+fx0*d[1])*c:], l.flip[fy0*krow+fx0*c:], 1, c, 0, d[1]*c, fy1-fy0, fx1-fx0, d[0]*row, krow)
		}
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
					out := dx[((iy+ky*l.d[0])*g.W+ix+kx*l.d[1])*c:][:c]
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
