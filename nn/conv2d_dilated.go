package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// convDilated holds a dilated Conv2D's work: the input's phases (see
// [phases]) gathered into sub-images, where one undilated kernels.Conv per
// phase computes the phase's outputs, moved into place afterwards.
type convDilated struct {
	ps    *phases
	k     [2]int          // the kernel's size, undilated
	pad   [2]int          // the padding before the first row and column
	convs []*kernels.Conv // per phase; phases of the same size share one
	x     []float32       // every phase's sub-images of the batch: phase ph's at n·ph.off
	y     []float32       // one phase's output or dL/dz
	dx    []float32       // one phase's input gradient
}

// planDilated plans the phases of a dilated convolution of geometry g
// (the kernel undilated, the padding and output sizes of the dilated one)
// with f filters per group.
func planDilated(g kernels.ConvGeom, f int, d [2]int) *convDilated {
	k := [2]int{g.KH, g.KW}
	ds := &convDilated{k: k, pad: [2]int{g.PadTop, g.PadLeft}, ps: planPhases([2]int{g.H, g.W}, g.C, [2]int{g.OH, g.OW}, k, d, [2]int{g.PadTop, g.PadLeft})}
	planned := map[kernels.ConvGeom]*kernels.Conv{}
	for _, ph := range ds.ps.list {
		if ph.empty() {
			ds.convs = append(ds.convs, nil)
			continue
		}
		pg := ph.geom(g.C, k)
		c := planned[pg]
		if c == nil {
			c = kernels.NewConv(pg, f)
			planned[pg] = c
		}
		ds.convs = append(ds.convs, c)
	}
	return ds
}

// each calls fn for every phase with its convolution (nil for a phase
// whose taps all fall outside the input), its sub-images of n images in
// ds.x, and ds.y sized for its output.
func (ds *convDilated) each(n, f int, fn func(ph *phase, conv *kernels.Conv, x, y []float32)) {
	c := ds.ps.c
	for i := range ds.ps.list {
		ph := &ds.ps.list[i]
		x := ds.x[n*ph.off : n*(ph.off+ph.in[0]*ph.in[1]*c)]
		ds.y = grow(ds.y, n*ph.out[0]*ph.out[1]*f)
		fn(ph, ds.convs[i], x, ds.y)
	}
}

// forwardDilated computes a dilated convolution's output for n images:
// each phase's sub-images gathered, convolved and moved into the output.
// The bias and a ReLU are added by the phases' tiles; any other activation
// is applied to the whole output afterwards.
func (l *Conv2D) forwardDilated(n int, training bool) {
	ds := l.dilated
	ds.x = grow(ds.x, n*ds.ps.size)
	out := pre(l.y, l.z)
	fused := l.act.kind == actReLU || l.act.identity()
	var e kernels.ConvEpilogue
	if fused {
		e.ReLU = l.act.kind == actReLU
		if l.bias != nil {
			e.Bias = l.bias.Value.Data
		}
	}
	ds.each(n, l.Filters, func(ph *phase, conv *kernels.Conv, x, y []float32) {
		if conv == nil {
			clear(y)
			if fused {
				biasActivate(l.act, y, nil, l.bias, l.Filters)
			}
		} else {
			conv.KeepPacked(l.keep && !training)
			ds.ps.move(l.x.Data, x, n, ph, true)
			conv.Forward(y, x, l.kernel.Value.Data, n, e, nil)
		}
		ds.ps.interleave(out, y, n, l.Filters, ph, true)
	})
	if !fused {
		biasActivate(l.act, l.y.Data, data(l.z), l.bias, l.Filters)
	}
}

// backwardDilated is Backward for a dilated convolution: dL/dz through the
// activation, then each phase's share of it gives the phase's part of the
// kernel and bias gradients and its sub-images' input gradient, copied
// back onto the input cells they came from.
func (l *Conv2D) backwardDilated(dy *tensor.Tensor, db []float32) *tensor.Tensor {
	ds, n := l.dilated, dy.Shape[0]
	dz := dy.Data
	if !l.act.identity() {
		l.dz = l.temp(l.dz, dy.Shape...)
		l.act.backward(l.dz.Data, dy.Data, l.y.Data, data(l.z), l.Filters)
		dz = l.dz.Data
	}
	if !l.skipDx {
		l.dx = l.grad(l.dx, n, l.in[0], l.in[1], l.in[2])
		clear(l.dx.Data) // cells no tap reads
	}
	ds.each(n, l.Filters, func(ph *phase, conv *kernels.Conv, x, y []float32) {
		ds.ps.interleave(dz, y, n, l.Filters, ph, false)
		if conv == nil {
			if db != nil {
				kernels.AddColumnSums(db, y)
			}
			return
		}
		if !l.skipDw {
			conv.BackwardFilter(l.kernel.Grad.Data, db, x, y, n, nil)
		}
		if !l.skipDx {
			ds.dx = grow(ds.dx, len(x))
			conv.BackwardData(ds.dx, y, l.kernel.Value.Data, n)
			ds.ps.move(l.dx.Data, ds.dx, n, ph, false)
		}
	})
	if l.skipDx {
		return nil
	}
	return l.dx
}

// convs lists the layer's planned convolutions: its own, or its phases',
// and that of ForwardPadded.
func (l *Conv2D) convs() []*kernels.Conv {
	var cs []*kernels.Conv
	if l.dilated != nil {
		for _, c := range l.dilated.convs {
			if c != nil {
				cs = append(cs, c)
			}
		}
	}
	for _, c := range []*kernels.Conv{l.conv, l.padded.conv} {
		if c != nil {
			cs = append(cs, c)
		}
	}
	return cs
}
