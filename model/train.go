package model

import (
	"errors"
	"fmt"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// Compile sets the optimizer and the loss used by TrainStep and
// EvaluateBatch. The model's output must be a vector of class scores: either
// probabilities from a final softmax (the usual case: the model then leaves
// that softmax to the loss, which takes the logits) or logits.
func (m *Model) Compile(opt optim.Optimizer, loss nn.CrossEntropy) error {
	if opt == nil {
		return errors.New("compile: no optimizer")
	}
	m.opt, m.loss = opt, loss
	if m.Built() && len(m.output) != 1 {
		return fmt.Errorf("compile: the model's output shape %v is not a vector of class scores: put a Flatten (or a GlobalAveragePooling2D) before the Dense layers, which apply at each pixel of an image", m.output)
	}
	return nil
}

// Optimizer returns the optimizer set by Compile (or restored by Load), or nil.
func (m *Model) Optimizer() optim.Optimizer { return m.opt }

// Loss returns the loss set by Compile.
func (m *Model) Loss() nn.CrossEntropy { return m.loss }

// Compiled reports whether the model has an optimizer.
func (m *Model) Compiled() bool { return m.opt != nil }

// reuse returns buf shaped like shape, reusing its storage when possible.
func reuse(buf *tensor.Tensor, shape []int) *tensor.Tensor {
	n := tensor.Size(shape)
	if buf == nil || cap(buf.Data) < n || len(buf.Shape) != len(shape) {
		return &tensor.Tensor{Shape: slices.Clone(shape), Data: make([]float32, n)}
	}
	copy(buf.Shape, shape)
	buf.Data = buf.Data[:n]
	return buf
}

func (m *Model) checkBatch(op string, x, y *tensor.Tensor) {
	m.mustBeBuilt(op)
	if err := m.batchShapeError(x, y); err != nil {
		panic(fmt.Sprintf("model: %s: %v", op, err))
	}
}

// batchShapeError reports inputs or targets of another shape than the
// model and its loss take.
func (m *Model) batchShapeError(x, y *tensor.Tensor) error {
	if len(x.Shape) != len(m.input)+1 || x.Shape[0] < 1 || !slices.Equal(x.Shape[1:], m.input) {
		return fmt.Errorf("input shape %v, want [N %v]", x.Shape, m.input)
	}
	n := x.Shape[0]
	if m.loss.Sparse {
		if len(y.Shape) != 1 || y.Shape[0] != n {
			return fmt.Errorf("sparse targets of shape %v, want [%d]", y.Shape, n)
		}
	} else if len(y.Shape) != 2 || y.Shape[0] != n || y.Shape[1] != m.NumClasses() {
		return fmt.Errorf("one-hot targets of shape %v, want [%d %d]", y.Shape, n, m.NumClasses())
	}
	return nil
}

// dataError reports a batch the model cannot take: inputs or targets of
// another shape, or targets the loss refuses (a class index outside the
// model's classes, such as an unlabelled image's -1, or a negative one-hot
// value). TrainStep and EvaluateBatch panic on these, the caller's
// mistake; Fit and Evaluate, whose batches come from data, return them.
func (m *Model) dataError(x, y *tensor.Tensor) error {
	if err := m.batchShapeError(x, y); err != nil {
		return err
	}
	// The logits' shape in the model, not in a new slice: a step of Fit
	// allocates nothing.
	m.logitsShape = [2]int{x.Shape[0], m.NumClasses()}
	return m.loss.Check(&tensor.Tensor{Shape: m.logitsShape[:]}, y)
}

// TrainStep runs one training step on the batch x (shape [N, input...]) with
// targets y (class indices [N] for a sparse loss, one-hot [N, classes]
// otherwise): it zeroes the gradients, runs the layers forward in training
// mode, computes the loss from the logits, propagates the gradients back
// and lets the optimizer update the weights. It returns the mean loss and
// the number of samples whose highest score was the target class, both
// measured before the update.
//
// After the first step with a given batch size, a step allocates nothing.
// It panics if the model is not built and compiled or the shapes are wrong.
func (m *Model) TrainStep(x, y *tensor.Tensor) (loss float64, correct int) {
	r := m.trainStep(x, y)
	return r.loss, r.correct
}

// trainStep is TrainStep, its samples weighted by m.classWeight.
func (m *Model) trainStep(x, y *tensor.Tensor) score {
	if m.opt == nil {
		panic("model: TrainStep before Compile")
	}
	m.checkBatch("TrainStep", x, y)
	for _, p := range m.params {
		if p.Trainable && p.Grad != nil { // a frozen layer's gradients are never written
			p.Grad.Zero()
		}
	}
	r := m.step(x, y, true)
	m.opt.Step(m.params)
	for _, p := range m.constrained { // as Keras's optimizers apply them
		m.norms = p.Constraint.Apply(p.Value.Data, p.Value.Shape, m.norms)
	}
	return r
}

// score is what a step measures, before any update.
type score struct {
	loss    float64
	correct int // samples whose highest score is their class
	// right and weight are the class weights of those samples and of the
	// batch's (correct and N without class weights).
	right, weight float64
}

// EvaluateBatch runs the model in inference mode on x and returns the mean
// loss against y (as in TrainStep) and the number of correct predictions.
// The model must be compiled (for its loss).
func (m *Model) EvaluateBatch(x, y *tensor.Tensor) (loss float64, correct int) {
	m.checkBatch("EvaluateBatch", x, y)
	r := m.step(x, y, false)
	return r.loss, r.correct
}

// step is the model's side of a training or evaluation step, whole: the
// network computes the logits of x, the loss compares them with y (its
// softmax included) and, in training, dL/dlogits flows back through the
// network into the parameters' gradients; the regularizers' penalties
// join the loss, and their gradients the parameters'. In training, the
// class weights of a Fit weigh the samples.
func (m *Model) step(x, y *tensor.Tensor, training bool) score {
	ps := predictionPass // an evaluation: nothing runs backward
	var dlogits *tensor.Tensor
	var weights []float64
	if training {
		ps, weights = trainingPass, m.classWeight
	}
	logits := m.forward(x, ps)
	if training {
		m.dlogits = reuse(m.dlogits, logits.Shape)
		dlogits = m.dlogits
	}
	r := m.count(logits, y, weights)
	r.loss = m.loss.WeightedFromLogits(dlogits, logits, y, weights)
	if training {
		m.backward(dlogits, paramGradients)
	}
	r.loss += m.Penalty()
	if training {
		for _, p := range m.penalized {
			if p.Grad != nil {
				p.Regularizer.AddGradient(p.Grad.Data, p.Value.Data)
			}
		}
	}
	return r
}

// Penalty returns the sum of the trainable parameters' regularizer
// penalties (a frozen layer's count not, as in Keras 3), which
// the losses of TrainStep and EvaluateBatch include, as Keras adds its
// regularization losses to every batch's loss: 0 without regularizers.
func (m *Model) Penalty() float64 {
	var sum float64
	for _, p := range m.penalized {
		sum += p.Regularizer.Penalty(p.Value.Data)
	}
	return sum
}

// count counts the rows whose largest logit is their class, and the class
// weights of those rows and of all (1 each when weights is nil).
func (m *Model) count(logits, y *tensor.Tensor, weights []float64) score {
	n, c := logits.Shape[0], logits.Len()/logits.Shape[0]
	var r score
	for i := range n {
		want, w := m.loss.Class(y, i), 1.0
		if weights != nil {
			w = weights[want]
		}
		r.weight += w
		if tensor.ArgMax(logits.Data[i*c:(i+1)*c]) == want {
			r.correct++
			r.right += w
		}
	}
	return r
}

// Predict writes the class probabilities for the batch x into dst, of shape
// [N, classes]: the softmax of the logits, whether the model's last layer
// says softmax (the model then leaves it to the loss and applies it here)
// or ends in logits.
func (m *Model) Predict(dst, x *tensor.Tensor) {
	m.mustBeBuilt("Predict")
	logits := m.forward(x, predictionPass)
	dst.MustShape("model.Predict", logits.Shape...)
	nn.SoftmaxRows(dst, logits)
}

// ForwardAll runs the model in inference mode on x and returns every layer's
// output, in the order of Layers; the last is the model's output,
// probabilities if its last layer says softmax. The tensors belong to the
// model and its layers and stay valid until the next call that runs the
// model. [Model.Inbound] tells which outputs each layer was called on.
func (m *Model) ForwardAll(x *tensor.Tensor) []*tensor.Tensor {
	m.mustBeBuilt("ForwardAll")
	m.run(x, inferencePass)
	outs := slices.Clone(m.plan.outs[1:])
	if m.softmax {
		h := outs[len(outs)-1]
		m.probs = reuse(m.probs, h.Shape)
		nn.SoftmaxRows(m.probs, h)
		outs[len(outs)-1] = m.probs
	}
	return outs
}

// InputGradient returns the saliency of class for each sample of x: the
// gradient of that class's logit (the score before the final softmax, which
// unlike the probability does not depend on the other classes' scores) with
// respect to the input, computed in inference mode. The result has x's shape
// and belongs to the caller. The parameters' gradients are not computed:
// the layers that have parameters leave them out.
func (m *Model) InputGradient(x *tensor.Tensor, class int) *tensor.Tensor {
	m.mustBeBuilt("InputGradient")
	if class < 0 || class >= m.NumClasses() {
		panic(fmt.Sprintf("model: InputGradient: class %d out of range [0, %d)", class, m.NumClasses()))
	}
	m.forward(x, inferencePass)
	return m.inputGradientAfterForward(class).Clone()
}

// inputGradientAfterForward is [Model.InputGradient] for the forward pass
// in inference mode the layers hold (forward or ForwardAll): it only runs
// backward. The result belongs to the model.
func (m *Model) inputGradientAfterForward(class int) *tensor.Tensor {
	logits := m.plan.outs[len(m.plan.outs)-1]
	m.onehot = reuse(m.onehot, logits.Shape)
	m.onehot.Zero()
	c := m.NumClasses()
	for i := range logits.Shape[0] {
		m.onehot.Data[i*c+class] = 1
	}
	return m.backward(m.onehot, inputGradient)
}
