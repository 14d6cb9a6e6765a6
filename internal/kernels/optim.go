package kernels

import "math"

// SGD applies SGD's update to the weights w from their gradients g; with
// m (momentum mu, nil otherwise) it updates m, the accumulated step, and
// with nesterov takes the step looked ahead:
//
//	plain:    for i: w[i] -= lr*g[i]
//	momentum: for i: m[i] = mu*m[i] - lr*g[i];  w[i] += m[i]
//	nesterov: for i: m[i] = mu*m[i] - lr*g[i];  w[i] += mu*m[i] - lr*g[i]
//
// Each product is rounded to float32 before it is added, on every path,
// as [RMSprop]'s are: the same values bit for bit from the vector loops
// and the Go one.
func SGD(w, g, m []float32, lr, mu float32, nesterov bool) {
	g = g[:len(w)]
	flags := 0
	if m != nil {
		m = m[:len(w)]
		flags |= sgdMomentum
		if nesterov {
			flags |= sgdNesterov
		}
	}
	vec := vectorPart(len(w))
	if vec > 0 {
		pickLoop(sgdAVX512, sgdAVX2)(&w[0], &g[0], first(m), vec, lr, mu, flags)
	}
	for i := vec; i < len(w); i++ {
		step := float32(lr * g[i])
		switch {
		case m == nil:
			w[i] -= step
		case nesterov:
			m[i] = float32(mu*m[i]) - step
			w[i] += float32(mu*m[i]) - step
		default:
			m[i] = float32(mu*m[i]) - step
			w[i] += m[i]
		}
	}
}

// RMSprop applies RMSprop's update (Keras 2's rule; with inside, Keras 3's
// epsilon inside the square root) to the weights w from their gradients g,
// and updates a, the moving average of the squared gradients; with ag (the
// centered form, nil otherwise) the moving average of the gradients, whose
// square leaves the denominator; with m (momentum mu, nil otherwise) the
// accumulated step:
//
//	for i: a[i] = rho*a[i] + ((1-rho)*g[i])*g[i]
//		ag[i] = rho*ag[i] + (1-rho)*g[i];  d := a[i] - ag[i]*ag[i]   (centered; else d := a[i])
//		step := (lr*g[i]) / (sqrt(d) + eps)                    (inside: sqrt(d + eps))
//		m[i] = mu*m[i] + step;  step = m[i]                     (momentum)
//		w[i] -= step
//
// Each operation is rounded to float32 in that order (the square root
// correctly rounded), on every path, so the vector loops and the Go one
// give the same values bit for bit, in every form. The Go loop converts
// each product to float32 before it is added: the Go specification lets the
// compiler fuse x*y + z into one fused multiply-add otherwise, as it does on
// amd64 for GOAMD64=v3 and above, and on arm64.
func RMSprop(w, g, a, m, ag []float32, rho, lr, eps, mu float32, inside bool) {
	g, a = g[:len(w)], a[:len(w)]
	c := 1 - rho
	flags := 0
	if inside {
		flags |= rmspropInside
	}
	if m != nil {
		m = m[:len(w)]
		flags |= rmspropMomentum
	}
	if ag != nil {
		ag = ag[:len(w)]
		flags |= rmspropCentered
	}
	vec := vectorPart(len(w))
	if vec > 0 {
		pickLoop(rmspropAVX512, rmspropAVX2)(&w[0], &g[0], &a[0], first(m), first(ag), vec, rho, c, lr, eps, mu, flags)
	}
	for i := vec; i < len(w); i++ {
		gi := g[i]
		a[i] = float32(rho*a[i]) + float32(c*gi*gi)
		den := a[i]
		if ag != nil {
			ag[i] = float32(rho*ag[i]) + float32(c*gi)
			den -= float32(ag[i] * ag[i])
		}
		if inside {
			den = sqrt32(den + eps)
		} else {
			den = sqrt32(den) + eps
		}
		step := lr * gi / den
		if m != nil {
			m[i] = float32(mu*m[i]) + step
			step = m[i]
		}
		w[i] -= step
	}
}

// Adam applies Adam's update to the weights w from their gradients g, and
// updates m and v, the moving averages of the gradients and of their
// squares (alpha folds in the learning rate and the bias corrections, c1 =
// 1-beta1, c2 = 1-beta2):
//
//	for i: m[i] += (g[i] - m[i]) * c1
//		v[i] += (g[i]*g[i] - v[i]) * c2
//		w[i] -= (alpha*m[i]) / (sqrt(v[i]) + eps)
//
// rounded as [RMSprop] is: the same values on every path.
func Adam(w, g, m, v []float32, alpha, c1, c2, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	vec := vectorPart(len(w))
	if vec > 0 {
		pickLoop(adamAVX512, adamAVX2)(&w[0], &g[0], &m[0], &v[0], vec, alpha, c1, c2, eps)
	}
	for i := vec; i < len(w); i++ {
		gi := g[i]
		m[i] += float32((gi - m[i]) * c1)
		v[i] += float32((float32(gi*gi) - v[i]) * c2)
		w[i] -= alpha * m[i] / (sqrt32(v[i]) + eps)
	}
}

// Decay applies decoupled weight decay (AdamW's, Keras 3's for every
// optimizer) with the factor f = weight_decay·lr, the product rounded
// before the subtraction on every path:
//
//	for i: w[i] -= w[i]*f
func Decay(w []float32, f float32) {
	vec := vectorPart(len(w))
	if vec > 0 {
		pickLoop(decayAVX512, decayAVX2)(&w[0], vec, f)
	}
	for i := vec; i < len(w); i++ {
		w[i] -= float32(w[i] * f)
	}
}

// SGD's forms, the bits of sgdAVX512's (and sgdAVX2's) flags.
const (
	sgdMomentum = 1 // m accumulates the steps
	sgdNesterov = 2 // with momentum, w takes the step looked ahead
)

// RMSprop's forms, the bits of rmspropAVX512's (and rmspropAVX2's) flags.
const (
	rmspropInside   = 1 // epsilon inside the square root
	rmspropMomentum = 2 // m accumulates the step
	rmspropCentered = 4 // ag averages the gradients
)

// first returns the address of s's first value, or nil for an empty s.
func first(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// sqrt32 is the correctly rounded float32 square root.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
