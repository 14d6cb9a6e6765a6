package kernels

import "math"

// The updates of the less common optimizers, Keras 3's rules in float32,
// each operation rounded in the order written (products converted to
// float32 before they are added, so that no compiler fuses them). They are
// Go loops: SGD, RMSprop and Adam have AVX-512 ones.

// Adagrad applies Adagrad's update (Duchi et al., 2011) to w from g and
// updates acc, the sum of the squared gradients:
//
//	for i: acc[i] += g[i]*g[i]
//		w[i] -= (lr*g[i]) / sqrt(acc[i] + eps)
func Adagrad(w, g, acc []float32, lr, eps float32) {
	g, acc = g[:len(w)], acc[:len(w)]
	for i, gi := range g {
		acc[i] += float32(gi * gi)
		w[i] -= float32(lr*gi) / sqrt32(acc[i]+eps)
	}
}

// Adadelta applies Adadelta's update (Zeiler, 2012) to w from g, with ag
// and ad the moving averages of the squared gradients and of the squared
// steps (c = 1-rho):
//
//	for i: ag[i] = rho*ag[i] + c*(g[i]*g[i])
//		d := -(sqrt(ad[i] + eps)*g[i]) / sqrt(ag[i] + eps)
//		ad[i] = rho*ad[i] + c*(d*d)
//		w[i] += lr*d
func Adadelta(w, g, ag, ad []float32, lr, rho, eps float32) {
	g, ag, ad = g[:len(w)], ag[:len(w)], ad[:len(w)]
	c := 1 - rho
	for i, gi := range g {
		ag[i] = float32(rho*ag[i]) + float32(c*float32(gi*gi))
		d := -float32(sqrt32(ad[i]+eps)*gi) / sqrt32(ag[i]+eps)
		ad[i] = float32(rho*ad[i]) + float32(c*float32(d*d))
		w[i] += float32(lr * d)
	}
}

// Adamax applies Adamax's update (Kingma and Ba, 2014, section 7) to w from
// g, with m the moving average of the gradients and u the decaying maximum
// of their magnitudes (c1 = 1-beta1, k = 1-beta1^t):
//
//	for i: m[i] += (g[i] - m[i])*c1
//		u[i] = max(beta2*u[i], |g[i]|)
//		w[i] -= (lr*m[i]) / (k*(u[i] + eps))
func Adamax(w, g, m, u []float32, lr, c1, beta2, k, eps float32) {
	g, m, u = g[:len(w)], m[:len(w)], u[:len(w)]
	for i, gi := range g {
		m[i] += float32((gi - m[i]) * c1)
		u[i] = max(float32(beta2*u[i]), abs32(gi))
		w[i] -= float32(lr*m[i]) / float32(k*(u[i]+eps))
	}
}

// Nadam applies Nadam's update (Dozat, 2016, Keras's form) to w from g,
// with m and v the moving averages of the gradients and of their squares
// (c1 = 1-beta1, c2 = 1-beta2). The step's factors come from the momentum
// schedule: a = u(t+1)/(1 - Π u(1..t+1)), b = (1 - u(t))/(1 - Π u(1..t)),
// k = 1 - beta2^t:
//
//	for i: m[i] += (g[i] - m[i])*c1
//		v[i] += (g[i]*g[i] - v[i])*c2
//		w[i] -= ((a*m[i] + b*g[i])*lr) / (sqrt(v[i]/k) + eps)
func Nadam(w, g, m, v []float32, lr, c1, c2, a, b, k, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		m[i] += float32((gi - m[i]) * c1)
		v[i] += float32((float32(gi*gi) - v[i]) * c2)
		mhat := float32(a*m[i]) + float32(b*gi)
		w[i] -= float32(mhat*lr) / (sqrt32(v[i]/k) + eps)
	}
}

// Lion applies Lion's update (Chen et al., 2023, arXiv:2302.06675) to w
// from g, with m its momentum:
//
//	for i: w[i] -= lr*sign(beta1*m[i] + (1-beta1)*g[i])
//		m[i] = beta2*m[i] + (1-beta2)*g[i]
func Lion(w, g, m []float32, lr, beta1, beta2 float32) {
	g, m = g[:len(w)], m[:len(w)]
	c1, c2 := 1-beta1, 1-beta2
	for i, gi := range g {
		switch d := float32(beta1*m[i]) + float32(c1*gi); {
		case d > 0:
			w[i] -= lr
		case d < 0:
			w[i] += lr
		case d != d: // NaN, whose sign is NaN
			w[i] = d
		}
		m[i] = float32(beta2*m[i]) + float32(c2*gi)
	}
}

// abs32 is |x|.
func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }
