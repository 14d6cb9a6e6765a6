package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// depthwiseDilated holds a dilated DepthwiseConv2D's work, as
// convDilated does a Conv2D's: the input's phases (see [phases]) gathered
// into sub-images, over which undilated DepthwiseConv2Ds of stride 1 (one
// per phase geometry, reading the layer's own kernel and bias and adding
// into their gradients) compute the phases' outputs, moved into place
// afterwards.
type depthwiseDilated struct {
	ps     *phases
	layers []*DepthwiseConv2D // per phase; nil for a phase whose taps all fall outside
	x      []float32          // every phase's sub-images of the batch: phase ph's at n·ph.off
	y      []float32          // one phase's output: the layers' outputs share it
	dz     []float32          // one phase's dL/dz
	xv, dv tensor.Tensor      // views of one phase's sub-images and of its dL/dz
	dx     Buffer             // the layers' input gradient, moved into place after each
	temp   Buffer             // the layers' temporary values (none: they are linear)
}

// planDilated plans the phases of the layer, built with dilation d.
func (l *DepthwiseConv2D) planDilated(d [2]int) *depthwiseDilated {
	g, k := l.g, [2]int{l.g.KH, l.g.KW}
	ds := &depthwiseDilated{ps: planPhases([2]int{g.H, g.W}, g.C, [2]int{g.OH, g.OW}, k, d, [2]int{g.PadTop, g.PadLeft})}
	planned := map[kernels.ConvGeom]*DepthwiseConv2D{}
	for _, ph := range ds.ps.list {
		if ph.empty() {
			ds.layers = append(ds.layers, nil)
			continue
		}
		pg := ph.geom(g.C, k)
		p := planned[pg]
		if p == nil {
			p = &DepthwiseConv2D{DepthMultiplier: l.m, NoBias: l.NoBias}
			p.SetName(l.Name())
			p.setGeom(pg, l.m, activation{kind: actLinear})
			p.kernel, p.bias = l.kernel, l.bias
			p.flip, p.y = l.flip, &tensor.Tensor{Shape: make([]int, 4)}
			p.ShareBuffers(&ds.dx, &ds.temp)
			planned[pg] = p
		}
		ds.layers = append(ds.layers, p)
	}
	ds.xv.Shape, ds.dv.Shape = make([]int, 4), make([]int, 4)
	return ds
}

// view points t at the first values of data, with shape n×a×b×c.
func view(t *tensor.Tensor, data []float32, n, a, b, c int) *tensor.Tensor {
	t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3] = n, a, b, c
	t.Data = data[:n*a*b*c]
	return t
}

// forwardDilated computes the layer's output for the n images of x: each
// phase's sub-images gathered, convolved with the bias added and moved
// into the output; then the activation.
func (l *DepthwiseConv2D) forwardDilated(x *tensor.Tensor, keep bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	ds, n, f := l.dilated, x.Shape[0], l.f
	l.x = x
	l.y = resize(l.y, n, l.out[0], l.out[1], f)
	l.z = l.act.input(&l.zs, keep, n, l.out[0], l.out[1], f)
	out := pre(l.y, l.z)
	ds.x = grow(ds.x, n*ds.ps.size)
	for i := range ds.ps.list {
		ph := &ds.ps.list[i]
		ds.y = grow(ds.y, n*ph.out[0]*ph.out[1]*f)
		if p := ds.layers[i]; p == nil {
			for c := 0; c < len(ds.y); c += f {
				copy(ds.y[c:c+f], l.biasOrZeros())
			}
		} else {
			sub := view(&ds.xv, ds.x[n*ph.off:], n, ph.in[0], ph.in[1], l.g.C)
			ds.ps.move(x.Data, sub.Data, n, ph, true)
			p.y.Data = ds.y // the layer's output goes there (see resize)
			p.forward(sub, keep)
		}
		ds.ps.interleave(out, ds.y, n, f, ph, true)
	}
	if !l.act.identity() {
		l.act.apply(l.y.Data, data(l.z), f)
	}
	return l.y
}

// backwardDilated is Backward for a dilated layer, dz its output's
// gradient through the activation: each phase's share of it gives the
// phase's part of the kernel and bias gradients and its sub-images' input
// gradient, moved onto the input cells they came from.
func (l *DepthwiseConv2D) backwardDilated(dz *tensor.Tensor) *tensor.Tensor {
	ds, n, f := l.dilated, dz.Shape[0], l.f
	if !l.skipDx {
		l.dx = l.grad(l.dx, n, l.in[0], l.in[1], l.in[2])
		clear(l.dx.Data) // cells no tap reads
	}
	for i := range ds.ps.list {
		ph := &ds.ps.list[i]
		ds.dz = grow(ds.dz, n*ph.out[0]*ph.out[1]*f)
		ds.ps.interleave(dz.Data, ds.dz, n, f, ph, false)
		p := ds.layers[i]
		if p == nil {
			if l.bias != nil && !l.skipDw {
				kernels.AddColumnSums(l.bias.Grad.Data, ds.dz)
			}
			continue
		}
		p.x = view(&ds.xv, ds.x[n*ph.off:], n, ph.in[0], ph.in[1], l.g.C)
		p.skipDx, p.skipDw = l.skipDx, l.skipDw
		if dx := p.Backward(view(&ds.dv, ds.dz, n, ph.out[0], ph.out[1], f)); dx != nil {
			ds.ps.move(l.dx.Data, dx.Data, n, ph, false)
		}
	}
	if l.skipDx {
		return nil
	}
	return l.dx
}

// ReleaseBackward implements [BackwardReleaser], for the phases' layers
// too.
func (l *DepthwiseConv2D) ReleaseBackward() {
	l.buffers.ReleaseBackward()
	if ds := l.dilated; ds != nil {
		for _, p := range ds.layers {
			if p != nil {
				p.buffers.ReleaseBackward()
			}
		}
		ds.dx.Release()
		ds.temp.Release()
		ds.dz = nil
	}
}
