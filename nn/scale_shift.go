package nn

import "github.com/convnet-go/convnet/tensor"

// scaleShift is a normalization's gamma and beta (Keras's scale and
// center), either of which may be left out: fixed ones or zeros then.
type scaleShift struct {
	gamma, beta *Param
	fixed       [2][]float32 // ones and zeros, for a gamma or beta left out
}

// build makes gamma (ones) and beta (zeros) of the given shape, each unless
// left out, and the fixed values of their size.
func (a *scaleShift) build(noScale, noCenter bool, shape ...int) {
	n := tensor.Size(shape)
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	a.gamma, a.beta, a.fixed = nil, nil, [2][]float32{ones, make([]float32, n)}
	if !noScale {
		a.gamma = newParam("gamma", true, shape...)
		a.gamma.Value.Fill(1)
	}
	if !noCenter {
		a.beta = newParam("beta", true, shape...)
	}
}

// params returns gamma then beta, Keras's order, each unless left out.
func (a *scaleShift) params() []*Param {
	var ps []*Param
	for _, p := range []*Param{a.gamma, a.beta} {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// values returns the gamma and beta a normalization applies: its
// parameters' values, read at each pass (a replica's are swapped in after
// Build), or the fixed ones and zeros of those left out.
func (a *scaleShift) values() (g, b []float32) {
	g, b = a.fixed[0], a.fixed[1]
	if a.gamma != nil {
		g = a.gamma.Value.Data
	}
	if a.beta != nil {
		b = a.beta.Value.Data
	}
	return g, b
}

// scaleShiftCost counts the parameters of a gamma and a beta of n values
// each, unless left out.
func scaleShiftCost(n int64, noScale, noCenter bool) Cost {
	var c Cost
	if !noScale {
		c.Params = n
	}
	if !noCenter {
		c.Params = addSat(c.Params, n)
	}
	return c
}

// positiveEpsilon reads a normalization's epsilon field, 0 when absent (the
// layer's default); a 0 given is refused.
func positiveEpsilon(f *fields) float64 {
	v, ok := f.m["epsilon"]
	if !ok {
		return 0
	}
	e := f.float("epsilon")
	if e == 0 {
		f.fail("epsilon", "a positive number", v)
	}
	return e
}
