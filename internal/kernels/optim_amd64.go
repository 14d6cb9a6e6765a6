//go:build !purego

package kernels

// sgdAVX512 and sgdAVX2 run SGD on n values, a multiple of 16 (8), in the
// form flags names: sgdMomentum (m is then read), sgdNesterov.
//
//go:noescape
func sgdAVX512(w, grad, m *float32, n int, lr, mu float32, flags int)

//go:noescape
func sgdAVX2(w, grad, m *float32, n int, lr, mu float32, flags int)

// rmspropAVX512 and rmspropAVX2 run RMSprop on n values, a multiple of 16
// (8), c = 1-rho, in the form flags names: rmspropInside, rmspropMomentum
// (m is then read), rmspropCentered (ag is then read).
//
//go:noescape
func rmspropAVX512(w, grad, a, m, ag *float32, n int, rho, c, lr, eps, mu float32, flags int)

//go:noescape
func rmspropAVX2(w, grad, a, m, ag *float32, n int, rho, c, lr, eps, mu float32, flags int)

// adamAVX512 and adamAVX2 run Adam on n values, a multiple of 16 (8).
//
//go:noescape
func adamAVX512(w, grad, m, v *float32, n int, alpha, c1, c2, eps float32)

//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, alpha, c1, c2, eps float32)

// decayAVX512 and decayAVX2 run the weight decay on n values, a multiple
// of 16 (8).
//
//go:noescape
func decayAVX512(w *float32, n int, f float32)

//go:noescape
func decayAVX2(w *float32, n int, f float32)
