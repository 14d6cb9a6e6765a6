package nn

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/tensor"
)

// CrossEntropy is the softmax cross-entropy loss (Keras
// categorical_crossentropy and sparse_categorical_crossentropy with
// from_logits=True), averaged over the batch:
//
//	loss = 1/N Σ_n Σ_c t[n,c] · (logsumexp(z[n]) - z[n,c])
//
// The target t is one-hot [N,C] (categorical) or, when Sparse, [N] class
// indices stored as float32. With LabelSmoothing s the target becomes
// t·(1-s) + s/C, as in Keras. The log-sum-exp is shifted by the row maximum
// and summed in float64, so huge logits (±1e30) give finite losses.
type CrossEntropy struct {
	Sparse         bool
	LabelSmoothing float64 // in [0, 1]
}

// Name returns the Keras name of the loss.
func (l CrossEntropy) Name() string {
	if l.Sparse {
		return "sparse_categorical_crossentropy"
	}
	return "categorical_crossentropy"
}

// Check returns an error if target does not fit logits [N,C]: wrong shape,
// class index not an integer in [0,C), negative or non-finite one-hot
// entries, or a label smoothing outside [0,1]. FromLogits panics on what
// Check reports, so check user-supplied targets first.
func (l CrossEntropy) Check(logits, target *tensor.Tensor) error {
	if !(l.LabelSmoothing >= 0 && l.LabelSmoothing <= 1) {
		return fmt.Errorf("nn: %s: label smoothing %v: must be in [0, 1]", l.Name(), l.LabelSmoothing)
	}
	if len(logits.Shape) != 2 || logits.Shape[1] < 1 {
		return fmt.Errorf("nn: %s: logits shape %v: want [N, classes]", l.Name(), logits.Shape)
	}
	n, c := logits.Shape[0], logits.Shape[1]
	if l.Sparse {
		if len(target.Shape) != 1 || target.Shape[0] != n {
			return fmt.Errorf("nn: %s: target shape %v, want [%d] class indices", l.Name(), target.Shape, n)
		}
		for i, v := range target.Data {
			if v != float32(math.Trunc(float64(v))) || v < 0 || int(v) >= c {
				return fmt.Errorf("nn: %s: target %d is %v: want a class index in [0, %d)", l.Name(), i, v, c)
			}
		}
		return nil
	}
	if !tensor.SameShape(target.Shape, logits.Shape) {
		return fmt.Errorf("nn: %s: target shape %v, want %v (one-hot)", l.Name(), target.Shape, logits.Shape)
	}
	for i, v := range target.Data {
		if !(v >= 0 && v <= math.MaxFloat32) {
			return fmt.Errorf("nn: %s: target row %d column %d is %v: want a probability", l.Name(), i/c, i%c, v)
		}
	}
	return nil
}

// FromLogits returns the mean loss of logits [N,C] against target and, when
// dLogits is non-nil (shape [N,C]), writes dL/dlogits into it:
//
//	dL/dz[n,c] = (softmax(z[n])[c] · Σ_c' t[n,c'] - t[n,c]) / N
//
// dLogits may alias logits. Targets must pass [CrossEntropy.Check].
func (l CrossEntropy) FromLogits(dLogits, logits, target *tensor.Tensor) float64 {
	return l.WeightedFromLogits(dLogits, logits, target, nil)
}

// WeightedFromLogits is FromLogits with each sample's loss, and its row of
// the gradient, weighted by its class's weight (Keras's class_weight turned
// into sample weights: the class of a one-hot target is its largest entry,
// the first of equals); the weighted sum is divided by N, as Keras's
// "sum_over_batch_size" reduction divides it. classWeight has one weight
// per class, or is nil for weights of 1.
func (l CrossEntropy) WeightedFromLogits(dLogits, logits, target *tensor.Tensor, classWeight []float64) float64 {
	if err := l.Check(logits, target); err != nil {
		panic(err.Error())
	}
	n, c := logits.Shape[0], logits.Shape[1]
	if dLogits != nil && !tensor.SameShape(dLogits.Shape, logits.Shape) {
		panic(fmt.Sprintf("nn: %s: gradient shape %v, want %v", l.Name(), dLogits.Shape, logits.Shape))
	}
	if classWeight != nil && len(classWeight) != c {
		panic(fmt.Sprintf("nn: %s: %d class weights for %d classes", l.Name(), len(classWeight), c))
	}
	s := l.LabelSmoothing
	inv := 1 / float64(n)
	var total float64
	for i := range n {
		w := 1.0 // times w: the same bits when w is 1
		if classWeight != nil {
			w = classWeight[l.Class(target, i)]
		}
		z := logits.Data[i*c : (i+1)*c]
		m := z[0]
		for _, v := range z[1:] {
			m = max(m, v)
		}
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v) - float64(m))
		}
		lse := float64(m) + math.Log(sum)
		// t(j) is the smoothed target of class j.
		t := func(j int) float64 {
			var y float64
			if l.Sparse {
				if j == int(target.Data[i]) {
					y = 1
				}
			} else {
				y = float64(target.Data[i*c+j])
			}
			return y*(1-s) + s/float64(c)
		}
		var tsum float64
		for j, v := range z {
			tj := t(j)
			if tj != 0 {
				total += w * tj * (lse - float64(v))
			}
			tsum += tj
		}
		if dLogits != nil {
			d := dLogits.Data[i*c : (i+1)*c]
			for j, v := range z {
				p := math.Exp(float64(v) - lse)
				d[j] = float32((p*tsum - t(j)) * (inv * w))
			}
		}
	}
	return total * inv
}

// Class returns the class of row i of a target that passes Check: its
// index, or the largest entry of a one-hot row (the first of equals).
func (l CrossEntropy) Class(target *tensor.Tensor, i int) int {
	if l.Sparse {
		return int(target.Data[i])
	}
	c := target.Shape[1]
	return tensor.ArgMax(target.Data[i*c : (i+1)*c])
}

// Config returns the loss's configuration: its Keras name and label_smoothing.
func (l CrossEntropy) Config() map[string]any {
	return map[string]any{"name": l.Name(), "label_smoothing": l.LabelSmoothing}
}

// LossFromConfig is the inverse of [CrossEntropy.Config].
func LossFromConfig(cfg map[string]any) (CrossEntropy, error) {
	f := &fields{typ: "loss", m: cfg}
	var l CrossEntropy
	switch name := f.str("name"); name {
	case "categorical_crossentropy":
	case "sparse_categorical_crossentropy":
		l.Sparse = true
	default:
		if f.err == nil {
			f.err = fmt.Errorf("nn: unknown loss %q (valid: categorical_crossentropy, sparse_categorical_crossentropy)", name)
		}
	}
	l.LabelSmoothing = f.float("label_smoothing")
	if err := f.finish(); err != nil {
		return CrossEntropy{}, err
	}
	return l, nil
}
