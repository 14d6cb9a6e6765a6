package nntest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// LossCase is one loss configuration to check on random logits [N,C].
type LossCase struct {
	Loss    nn.CrossEntropy
	N, C    int
	Seed    uint64
	Scale   float64 // standard deviation of the logits; 0 means 2
	Eps     float64 // 0 means 1e-2
	Tol     float64 // 0 means 1e-2
	Perturb func(dLogits []float32)
	// ClassWeight, when set, weighs each sample by its class's weight
	// (see nn.CrossEntropy.WeightedFromLogits).
	ClassWeight []float64
}

// RunLoss runs [CheckLoss] and reports every problem as a test error.
func RunLoss(t *testing.T, c LossCase) {
	t.Helper()
	for _, err := range CheckLoss(c) {
		t.Error(err)
	}
}

// CheckLoss checks a loss the way [Check] checks a layer: the config
// round-trips through JSON and nn.LossFromConfig, the loss is finite and
// non-negative, dL/dlogits matches central finite differences in float64,
// writing the gradient over the logits (aliasing) gives the same result,
// and one gradient step on the logits lowers the loss.
func CheckLoss(c LossCase) (errs []error) {
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, fmt.Errorf("panic: %v", r))
		}
	}()
	if c.Scale == 0 {
		c.Scale = 2
	}
	if c.Eps == 0 {
		c.Eps = 1e-2
	}
	if c.Tol == 0 {
		c.Tol = 1e-2
	}
	name := c.Loss.Name()
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	rng := rand.New(rand.NewPCG(c.Seed, 7))
	logits := tensor.New(c.N, c.C)
	for i := range logits.Data {
		logits.Data[i] = float32(rng.NormFloat64() * c.Scale)
	}
	var target *tensor.Tensor
	if c.Loss.Sparse {
		target = tensor.New(c.N)
		for i := range target.Data {
			target.Data[i] = float32(rng.IntN(c.C))
		}
	} else {
		target = tensor.New(c.N, c.C)
		for i := range c.N {
			target.Data[i*c.C+rng.IntN(c.C)] = 1
		}
	}

	b1, _ := json.Marshal(c.Loss.Config())
	var m map[string]any
	if err := json.Unmarshal(b1, &m); err != nil {
		fail("decoding config %s: %v", b1, err)
	} else if l2, err := nn.LossFromConfig(m); err != nil {
		fail("LossFromConfig(%s): %v", b1, err)
	} else if l2 != c.Loss {
		fail("config round trip gives %+v, want %+v", l2, c.Loss)
	}

	grad := tensor.New(c.N, c.C)
	l0 := c.Loss.WeightedFromLogits(grad, logits, target, c.ClassWeight)
	if c.Perturb != nil {
		c.Perturb(grad.Data)
	}
	if math.IsNaN(l0) || math.IsInf(l0, 0) || l0 < 0 {
		fail("loss %v: want finite and non-negative", l0)
	}
	if l := c.Loss.WeightedFromLogits(nil, logits, target, c.ClassWeight); l != l0 {
		fail("loss without gradient %v, with gradient %v", l, l0)
	}
	alias := logits.Clone()
	c.Loss.WeightedFromLogits(alias, alias, target, c.ClassWeight)
	if c.Perturb == nil && !slices.Equal(alias.Data, grad.Data) {
		fail("gradient written over the logits differs from a separate gradient")
	}

	bad := 0
	for i, orig := range logits.Data {
		logits.Data[i] = float32(float64(orig) + c.Eps)
		hp := float64(logits.Data[i]) - float64(orig)
		lp := c.Loss.WeightedFromLogits(nil, logits, target, c.ClassWeight)
		logits.Data[i] = float32(float64(orig) - c.Eps)
		hm := float64(orig) - float64(logits.Data[i])
		lm := c.Loss.WeightedFromLogits(nil, logits, target, c.ClassWeight)
		logits.Data[i] = orig
		num, a := (lp-lm)/(hp+hm), float64(grad.Data[i])
		if math.Abs(a-num) > c.Tol*math.Max(1e-1, math.Max(math.Abs(a), math.Abs(num))) {
			if bad++; bad <= 3 {
				fail("gradient of logit %d: FromLogits gives %.6g, finite difference %.6g", i, a, num)
			}
		}
	}
	if bad > 3 {
		fail("%d more gradient mismatches", bad-3)
	}

	var norm float64
	for _, g := range grad.Data {
		norm += float64(g) * float64(g)
	}
	lr := 1e-2 / math.Sqrt(norm)
	for i, g := range grad.Data {
		logits.Data[i] -= float32(lr * float64(g))
	}
	if l1 := c.Loss.WeightedFromLogits(nil, logits, target, c.ClassWeight); !(l1 < l0) {
		fail("one gradient step did not lower the loss: %v -> %v", l0, l1)
	}
	return errs
}
