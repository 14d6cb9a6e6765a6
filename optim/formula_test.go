package optim

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// reference is a float64 update rule: it updates w in place from g at step t
// (0-based), keeping its state in st.
type reference func(w, g []float64, t int, st map[string][]float64)

func slot(st map[string][]float64, name string, n int) []float64 {
	if st[name] == nil {
		st[name] = make([]float64, n)
	}
	return st[name]
}

func sgdRef(lr, mu float64, nesterov bool, wd float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m := slot(st, "m", len(w))
		for i := range w {
			w[i] -= w[i] * wd * lr
			if mu == 0 {
				w[i] -= lr * g[i]
				continue
			}
			m[i] = mu*m[i] - lr*g[i]
			if nesterov {
				w[i] += mu*m[i] - lr*g[i]
			} else {
				w[i] += m[i]
			}
		}
	}
}

func rmspropRef(lr, rho, eps, mu float64, centered, inside bool) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		a, m, ag := slot(st, "a", len(w)), slot(st, "m", len(w)), slot(st, "ag", len(w))
		for i := range w {
			a[i] = rho*a[i] + (1-rho)*g[i]*g[i]
			den := a[i]
			if centered {
				ag[i] = rho*ag[i] + (1-rho)*g[i]
				den -= ag[i] * ag[i]
			}
			if inside {
				den = math.Sqrt(den + eps)
			} else {
				den = math.Sqrt(den) + eps
			}
			step := lr * g[i] / den
			if mu != 0 {
				m[i] = mu*m[i] + step
				step = m[i]
			}
			w[i] -= step
		}
	}
}

func adamRef(lr, b1, b2, eps, wd float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m, v := slot(st, "m", len(w)), slot(st, "v", len(w))
		// The textbook form with bias-corrected moments; Keras folds the
		// corrections into the step size, which is the same up to where
		// epsilon sits: eps_hat = eps*sqrt(1-b2^t).
		tt := float64(t + 1)
		for i := range w {
			w[i] -= w[i] * wd * lr
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			mhat := m[i] / (1 - math.Pow(b1, tt))
			vhat := v[i] / (1 - math.Pow(b2, tt))
			w[i] -= lr * mhat / (math.Sqrt(vhat) + eps/math.Sqrt(1-math.Pow(b2, tt)))
		}
	}
}

func adagradRef(lr, init, eps float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		acc := slot(st, "acc", len(w))
		for i := range w {
			if t == 0 {
				acc[i] = init
			}
			acc[i] += g[i] * g[i]
			w[i] -= lr * g[i] / math.Sqrt(acc[i]+eps)
		}
	}
}

func adadeltaRef(lr, rho, eps float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		ag, ad := slot(st, "ag", len(w)), slot(st, "ad", len(w))
		for i := range w {
			ag[i] = rho*ag[i] + (1-rho)*g[i]*g[i]
			d := -math.Sqrt(ad[i]+eps) * g[i] / math.Sqrt(ag[i]+eps)
			ad[i] = rho*ad[i] + (1-rho)*d*d
			w[i] += lr * d
		}
	}
}

func adamaxRef(lr, b1, b2, eps float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m, u := slot(st, "m", len(w)), slot(st, "u", len(w))
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			u[i] = math.Max(b2*u[i], math.Abs(g[i]))
			w[i] -= lr / (1 - math.Pow(b1, float64(t+1))) * m[i] / (u[i] + eps)
		}
	}
}

// nadamRef is Keras's Nadam, its momentum schedule's product kept as
// Keras keeps it, step by step.
func nadamRef(lr, b1, b2, eps float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m, v, p := slot(st, "m", len(w)), slot(st, "v", len(w)), slot(st, "p", 1)
		u := func(s float64) float64 { return b1 * (1 - 0.5*math.Pow(0.96, s)) }
		if t == 0 {
			p[0] = 1
		}
		s := float64(t + 1)
		p[0] *= u(s)
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			mhat := u(s+1)*m[i]/(1-p[0]*u(s+1)) + (1-u(s))*g[i]/(1-p[0])
			vhat := v[i] / (1 - math.Pow(b2, s))
			w[i] -= lr * mhat / (math.Sqrt(vhat) + eps)
		}
	}
}

func lionRef(lr, b1, b2, wd float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m := slot(st, "m", len(w))
		for i := range w {
			w[i] -= w[i] * wd * lr
			c := b1*m[i] + (1-b1)*g[i]
			if c > 0 {
				w[i] -= lr
			} else if c < 0 {
				w[i] += lr
			}
			m[i] = b2*m[i] + (1-b2)*g[i]
		}
	}
}

func TestOptimizersAgainstFormula(t *testing.T) {
	tests := []struct {
		name string
		opt  Optimizer
		ref  reference
	}{
		{"sgd", &SGD{}, sgdRef(0.01, 0, false, 0)},
		{"sgd lr", &SGD{LearningRate: 0.3}, sgdRef(0.3, 0, false, 0)},
		{"sgd momentum", &SGD{LearningRate: 0.1, Momentum: 0.9}, sgdRef(0.1, 0.9, false, 0)},
		{"sgd nesterov", &SGD{LearningRate: 0.1, Momentum: 0.9, Nesterov: true}, sgdRef(0.1, 0.9, true, 0)},
		{"sgd weight decay", &SGD{LearningRate: 0.1, Momentum: 0.5, WeightDecay: 0.01}, sgdRef(0.1, 0.5, false, 0.01)},
		{"rmsprop keras2", &RMSprop{}, rmspropRef(0.001, 0.9, 1e-8, 0, false, false)},
		{"rmsprop keras3", &RMSprop{Epsilon: 1e-7, EpsilonInsideSqrt: true}, rmspropRef(0.001, 0.9, 1e-7, 0, false, true)},
		{"rmsprop big eps", &RMSprop{LearningRate: 0.01, Rho: 0.8, Epsilon: 0.1}, rmspropRef(0.01, 0.8, 0.1, 0, false, false)},
		{"rmsprop momentum centered", &RMSprop{LearningRate: 0.01, Momentum: 0.5, Centered: true, Epsilon: 1e-3},
			rmspropRef(0.01, 0.9, 1e-3, 0.5, true, false)},
		{"adam", &Adam{}, adamRef(0.001, 0.9, 0.999, 1e-7, 0)},
		{"adam custom", &Adam{LearningRate: 0.1, Beta1: 0.5, Beta2: 0.75, Epsilon: 0.01}, adamRef(0.1, 0.5, 0.75, 0.01, 0)},
		{"adamw", &AdamW{}, adamRef(0.001, 0.9, 0.999, 1e-7, 0.004)},
		{"adamw decay", &AdamW{Adam{LearningRate: 0.1, WeightDecay: 0.5}}, adamRef(0.1, 0.9, 0.999, 1e-7, 0.5)},
		{"adagrad", &Adagrad{}, adagradRef(0.001, 0.1, 1e-7)},
		{"adagrad custom", &Adagrad{LearningRate: 0.5, InitialAccumulatorValue: 0.01, Epsilon: 1e-3}, adagradRef(0.5, 0.01, 1e-3)},
		{"adadelta", &Adadelta{}, adadeltaRef(0.001, 0.95, 1e-7)},
		{"adadelta pytorch", &Adadelta{LearningRate: 1, Rho: 0.9, Epsilon: 1e-6}, adadeltaRef(1, 0.9, 1e-6)},
		{"adamax", &Adamax{}, adamaxRef(0.001, 0.9, 0.999, 1e-7)},
		{"adamax custom", &Adamax{LearningRate: 0.1, Beta1: 0.5, Beta2: 0.75, Epsilon: 0.01}, adamaxRef(0.1, 0.5, 0.75, 0.01)},
		{"nadam", &Nadam{}, nadamRef(0.001, 0.9, 0.999, 1e-7)},
		{"nadam custom", &Nadam{LearningRate: 0.1, Beta1: 0.5, Beta2: 0.75, Epsilon: 0.01}, nadamRef(0.1, 0.5, 0.75, 0.01)},
		{"lion", &Lion{}, lionRef(0.001, 0.9, 0.99, 0)},
		{"lion custom", &Lion{LearningRate: 0.1, Beta1: 0.5, Beta2: 0.75, WeightDecay: 0.2}, lionRef(0.1, 0.5, 0.75, 0.2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newParam(w0)
			frozen := &nn.Param{Name: "frozen", Value: tensor.FromData([]float32{7}, 1)}
			want := append([]float64(nil), w0...)
			st := map[string][]float64{}
			for step, g := range grads {
				for i, v := range g {
					p.Grad.Data[i] = float32(v)
				}
				tt.opt.Step([]*nn.Param{frozen, p})
				tt.ref(want, g, step, st)
				for i := range want {
					got := float64(p.Value.Data[i])
					if d := math.Abs(got - want[i]); d > 1e-6*math.Max(1, math.Abs(want[i])) {
						t.Errorf("step %d: w[%d] = %.9g, want %.9g", step+1, i, got, want[i])
					}
				}
			}
			if got := tt.opt.Iterations(); got != len(grads) {
				t.Errorf("Iterations() = %d, want %d", got, len(grads))
			}
			if frozen.Value.Data[0] != 7 {
				t.Errorf("non-trainable parameter changed to %v", frozen.Value.Data[0])
			}
		})
	}
}

// TestRMSpropFirstStep checks Keras 2's rule on one value by hand: with a = 0,
// a becomes 0.1*g², and the step is lr*g/(sqrt(0.1)*|g| + eps).
func TestRMSpropFirstStep(t *testing.T) {
	p := newParam([]float64{1})
	p.Grad.Data[0] = 2
	(&RMSprop{}).Step([]*nn.Param{p})
	want := 1 - 0.001*2/(math.Sqrt(0.4)+1e-8)
	if got := float64(p.Value.Data[0]); math.Abs(got-want) > 1e-7 {
		t.Errorf("w after one RMSprop step = %.9g, want %.9g", got, want)
	}
}
