package model

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// plan is how Build arranges the layers to run: the one forward and backward
// scheduler of stacks and graphs alike. Nodes are numbered as in
// Model.inbound: 0 is the model's input, i+1 the output of Layers[i]. Layers
// run in order, each after the layers it is called on.
type plan struct {
	inbound [][]int            // per layer, the nodes it is called on
	multi   []nn.MultiInput    // per layer, non-nil for a layer with several inputs
	xs      [][]*tensor.Tensor // per layer with several inputs, the slice of its inputs
	skipper []nn.InputGradientSkipper
	// paramSkipper, the layers that can leave out their parameters'
	// gradients (they do when only the input's gradient is wanted).
	paramSkipper []nn.ParamGradientSkipper
	// fused[i] is the ZeroPadding2D layer whose padding Layers[i] takes in
	// when the model only predicts (see nn.PaddingFuser), or -1; skipped[z]
	// reports whether Layers[z] is such a ZeroPadding2D, then left out.
	fused   []int
	skipped []bool
	// frozen[i] reports whether Layers[i] is frozen (see SetTrainable):
	// it leaves out its parameters' gradients; inference[i], whether it
	// also runs as in inference while training (a frozen
	// BatchNormalization, as in Keras, or a layer called with training
	// false).
	frozen, inference []bool
	// trains[j] reports whether node j is, or depends on, the output of a
	// layer with trainable parameters: the parameter gradients need dL/d(node
	// j) only then.
	trains []bool

	outs  []*tensor.Tensor // per node, the output of the last forward pass
	grads []*tensor.Tensor // per node, dL/d(node) during a backward pass
	sums  []*tensor.Tensor // per node, the buffer summing dL/d(node) over several users
	// lent holds the buffers lent to the layers' Backward (see lend);
	// lentSize the values per sample each must hold, and reserved the batch
	// they have been grown for (see reserve).
	lent     []*nn.Buffer
	lentSize []int
	reserved int
}

func newPlan(m *Model) plan {
	n := len(m.Layers)
	p := plan{
		inbound:      make([][]int, n),
		multi:        make([]nn.MultiInput, n),
		xs:           make([][]*tensor.Tensor, n),
		skipper:      make([]nn.InputGradientSkipper, n),
		paramSkipper: make([]nn.ParamGradientSkipper, n),
		fused:        make([]int, n),
		skipped:      make([]bool, n),
		frozen:       make([]bool, n),
		inference:    make([]bool, n),
		trains:       make([]bool, n+1),
		outs:         make([]*tensor.Tensor, n+1),
		grads:        make([]*tensor.Tensor, n+1),
		sums:         make([]*tensor.Tensor, n+1),
	}
	for i, l := range m.Layers {
		p.inbound[i] = m.inbound(i)
		if mi, ok := l.(nn.MultiInput); ok {
			p.multi[i] = mi
			p.xs[i] = make([]*tensor.Tensor, len(p.inbound[i]))
		}
		p.skipper[i], _ = l.(nn.InputGradientSkipper)
		p.paramSkipper[i], _ = l.(nn.ParamGradientSkipper)
		p.frozen[i], p.inference[i] = m.frozen[l], m.InferenceInTraining(l)
		for _, q := range l.Params() {
			p.trains[i+1] = p.trains[i+1] || q.Trainable && q.Grad != nil
		}
		for _, j := range p.inbound[i] {
			p.trains[i+1] = p.trains[i+1] || p.trains[j]
		}
	}
	sizes := []int{tensor.Size(m.input)} // values per sample of each node
	for _, l := range m.Layers {
		sizes = append(sizes, tensor.Size(l.OutputShape()))
	}
	p.lend(m.Layers, sizes)
	p.fusePadding(m.Layers)
	return p
}

// fusePadding finds the ZeroPadding2D layers whose output only one layer
// reads, a layer that can take the padding into its own window
// (nn.PaddingFuser): predictions then skip the copy.
func (p *plan) fusePadding(layers []nn.Layer) {
	readers := make([]int, len(layers)+1)
	for i := range layers {
		p.fused[i] = -1
		for _, j := range p.inbound[i] {
			readers[j]++
		}
	}
	for i, l := range layers {
		f, ok := l.(nn.PaddingFuser)
		z := p.inbound[i][0] - 1 // the layer before, or -1 for the model's input
		if !ok || p.multi[i] != nil || z < 0 || readers[z+1] != 1 {
			continue
		}
		if zp, ok := layers[z].(*nn.ZeroPadding2D); ok && f.FusePadding(zp.Padding) {
			p.fused[i], p.skipped[z] = z, true
		}
	}
}

// lend gives the layers that can share buffers (nn.BufferSharer) a few
// buffers from a pool for their input gradients and Backward's temporary
// values, instead of one pair of their own each: the backward pass then
// holds a couple of activation-sized buffers rather than one per layer.
//
// Backward visits the layers from the last to the first; call step i the
// visit of Layers[i]. Its input gradient, dL/d(node j), is written at step
// i and read until step j-1, where Layers[j-1] consumes it (added by then
// into any sum over several users, see add; step -1 is the caller reading
// the model's input gradient). Its temporary values are used during step i
// only. They go into the buffer lent for the input gradient of the layer
// its output feeds, which is dy itself, needed no more after step i; when
// the output feeds several layers, into that of the first visited, whose
// gradient is dy itself or has been added into dy's sum by step i. Failing
// a lent buffer there (the last layer, a layer after one that does not
// share), they get one of their own. A buffer is lent again only once every
// use of it has ended, the lowest-numbered free buffer first, so the
// assignment is fixed by the graph. A layer that does not share keeps
// its own buffers and only reads lent ones (its dy), so it needs nothing
// here. sizes gives the values per sample of each node: a buffer must hold
// the largest input gradient lent in it, and the temporary values, which
// are the size of the layer's output, dy's.
func (p *plan) lend(layers []nn.Layer, sizes []int) {
	n := len(layers)
	user := make([]int, n+1) // per node, the last layer it feeds
	for i := range layers {
		for _, j := range p.inbound[i] {
			user[j] = i
		}
	}
	dxOf := make([]*nn.Buffer, n) // per layer, the buffer lent for its dx
	var last []int                // per buffer, the step at which its last use ends
	take := func(first, end, size int) *nn.Buffer {
		for k, e := range last {
			if e > first {
				last[k], p.lentSize[k] = end, max(p.lentSize[k], size)
				return p.lent[k]
			}
		}
		last = append(last, end)
		p.lent = append(p.lent, new(nn.Buffer))
		p.lentSize = append(p.lentSize, size)
		return p.lent[len(p.lent)-1]
	}
	for i := n - 1; i >= 0; i-- {
		s, ok := layers[i].(nn.BufferSharer)
		if !ok || p.multi[i] != nil {
			continue
		}
		var scratch *nn.Buffer
		if i < n-1 {
			scratch = dxOf[user[i+1]]
		}
		if scratch == nil {
			scratch = take(i, i, sizes[i+1])
		}
		dxOf[i] = take(i, p.inbound[i][0]-1, sizes[p.inbound[i][0]])
		s.ShareBuffers(dxOf[i], scratch)
	}
}

// pass is what a forward pass is for.
type pass uint8

const (
	// inferencePass: the layers keep what a backward pass needs (an
	// input gradient, a saliency map) and every layer's output.
	inferencePass pass = iota
	trainingPass
	// predictionPass: the output alone. A layer that takes in the padding
	// of the ZeroPadding2D before it reads that layer's input instead, and
	// the ZeroPadding2D does not run (its output is then nil); a layer that
	// keeps less when it only predicts (nn.Predictor) does.
	predictionPass
)

// run runs every layer on the batch x and returns the model's output, the
// last layer's.
func (m *Model) run(x *tensor.Tensor, ps pass) *tensor.Tensor {
	kernels.BeginRun()
	defer kernels.EndRun()
	p := &m.plan
	p.outs[0] = x
	training, predict := ps == trainingPass, ps == predictionPass
	for i, l := range m.Layers {
		in := p.inbound[i]
		if predict && p.skipped[i] {
			p.outs[i+1] = nil
			continue
		}
		if z := p.fused[i]; predict && z >= 0 {
			p.outs[i+1] = l.(nn.PaddingFuser).ForwardPadded(p.outs[p.inbound[z][0]])
			continue
		}
		if mi := p.multi[i]; mi != nil {
			xs := p.xs[i]
			for k, j := range in {
				xs[k] = p.outs[j]
			}
			p.outs[i+1] = mi.ForwardInputs(xs, training && !p.inference[i])
		} else if pr, ok := l.(nn.Predictor); ok && predict {
			p.outs[i+1] = pr.Predict(p.outs[in[0]])
		} else {
			p.outs[i+1] = l.Forward(p.outs[in[0]], training && !p.inference[i])
		}
	}
	return p.outs[len(p.outs)-1]
}

// forward runs every layer and returns the logits: the last layer's output,
// before the softmax that the loss applies (see nn.FinalSoftmax).
func (m *Model) forward(x *tensor.Tensor, ps pass) (logits *tensor.Tensor) {
	return m.run(x, ps)
}

// gradients says what a backward pass computes: the parameters' gradients,
// the input's, or both.
type gradients int

const (
	paramGradients gradients = 1 << iota // added into the parameters' Grad
	inputGradient                        // dL/dx, returned
	// preActivation: the gradient backwardSpan starts from is that of
	// its layer's values before the layer's own activation (an
	// nn.PreActivation), whose derivative is left out.
	preActivation
)

// backward propagates dL/dlogits through the layers of the last forward pass
// in reverse order and returns dL/dx, or nil if want has no inputGradient.
// A node used by several layers gets the sum of their gradients, added in
// the order the layers are visited. For the parameters' gradients alone, it
// only computes what they need: layers that neither have trainable
// parameters nor depend on one are left out, as are the gradients of their
// outputs (the first layer's input gradient among them, see
// nn.InputGradientSkipper). For the input's alone, the layers leave out
// their parameters' gradients (see nn.ParamGradientSkipper). It is
// backwardTo the input.
func (m *Model) backward(dlogits *tensor.Tensor, want gradients) *tensor.Tensor {
	return m.backwardTo(dlogits, want, 0)
}

// backwardTo is backward that stops once the gradient of node slot (0 the
// input, i+1 layer i's output) is whole, when the layers that take it have
// run, and returns that gradient (the model's) when want has inputGradient.
func (m *Model) backwardTo(dlogits *tensor.Tensor, want gradients, slot int) *tensor.Tensor {
	return m.backwardSpan(len(m.Layers), dlogits, want, slot)
}

// backwardSpan is backwardTo from the gradient d of node from rather than
// of the logits: the layers after that node are left out, as are those it
// does not depend on (their outputs get no gradient).
func (m *Model) backwardSpan(from int, d *tensor.Tensor, want gradients, slot int) *tensor.Tensor {
	kernels.BeginRun()
	defer kernels.EndRun()
	p := &m.plan
	params := want&inputGradient == 0 // only the parameters' gradients
	wanted := func(j int) bool { return !params || p.trains[j] }
	for i, s := range p.skipper {
		if s != nil {
			s.SkipInputGradient(!wanted(p.inbound[i][0]))
		}
		if s := p.paramSkipper[i]; s != nil {
			s.SkipParamGradients(want&paramGradients == 0 || p.frozen[i])
		}
	}
	p.reserve(d.Shape[0])
	clear(p.grads)
	p.grads[from] = d
	for i := from - 1; i >= slot; i-- {
		dy := p.grads[i+1]
		if dy == nil {
			continue // nothing needs this layer's gradients
		}
		in := p.inbound[i]
		if mi := p.multi[i]; mi != nil {
			for k, dx := range mi.BackwardInputs(dy) {
				if wanted(in[k]) {
					p.add(in[k], dx)
				}
			}
			continue
		}
		var dx *tensor.Tensor
		if l, ok := m.Layers[i].(nn.PreActivation); ok && i == from-1 && want&preActivation != 0 {
			dx = l.BackwardPreActivation(dy)
		} else {
			dx = m.Layers[i].Backward(dy)
		}
		if wanted(in[0]) {
			p.add(in[0], dx)
		}
	}
	if params {
		return nil
	}
	return p.grads[slot]
}

// reserve grows the lent buffers at once to what a backward pass of batch
// samples needs, before the layers would grow them one size after another
// (leaving each smaller storage to the collector, which a training run that
// allocates nothing per step does not call for a long time).
func (p *plan) reserve(batch int) {
	if batch <= p.reserved {
		return
	}
	for k, b := range p.lent {
		b.Reserve(batch * p.lentSize[k])
	}
	p.reserved = batch
}

// ReleaseBackward lets go of the storage that only backward passes use: the
// buffers the model lends its layers, the sums of gradients, and what each
// layer keeps for its Backward (nn.BackwardReleaser: gradients, a max
// pool's chosen cells, a dropout mask), as PyTorch frees what autograd
// saved once a backward pass is done. The weights, the optimizer's state
// and the outputs of the last forward pass stay. The next training step
// grows that storage again, once, with the same results bit for bit. [Model.Fit]
// calls it when it returns: a tutorial model at batch 100 keeps 33 MB
// less for predicting afterwards.
func (m *Model) ReleaseBackward() {
	p := &m.plan
	for _, l := range m.Layers {
		if r, ok := l.(nn.BackwardReleaser); ok {
			r.ReleaseBackward()
		}
	}
	for _, b := range p.lent {
		b.Release()
	}
	p.reserved = 0
	clear(p.grads)
	clear(p.sums)
}

// add adds g to the gradient of node j. The first gradient is kept as it is
// (it stays valid until its layer's next Backward); the second starts a sum
// in the node's own buffer, where later ones are added.
func (p *plan) add(j int, g *tensor.Tensor) {
	cur := p.grads[j]
	if cur == nil {
		p.grads[j] = g
		return
	}
	if cur != p.sums[j] {
		p.sums[j] = reuse(p.sums[j], cur.Shape)
		s, a := p.sums[j].Data, cur.Data[:len(p.sums[j].Data)]
		for i, v := range g.Data[:len(s)] {
			s[i] = a[i] + v
		}
		p.grads[j] = p.sums[j]
		return
	}
	s := cur.Data
	for i, v := range g.Data[:len(s)] {
		s[i] += v
	}
}
