package kernels

// PReLU sets y = x where x > 0, else a·x (a NaN x gives NaN), each value
// with its own slope in a; y may alias x.
func PReLU(y, x, a []float32) {
	y, a = y[:len(x)], a[:len(x)]
	n := vectorPart(len(x))
	switch vecLanes {
	case 16:
		if n > 0 {
			preluAVX512(&y[0], &x[0], &a[0], n)
		}
	case 8:
		if n > 0 {
			preluAVX2(&y[0], &x[0], &a[0], n)
		}
	}
	for i, v := range x[n:] {
		y[n+i] = pick(v, v, a[n+i]*v)
	}
}

// PReLUGrad sets dx = dy where x > 0, else a·dy, and adds the slopes'
// gradients into g: 0 where x > 0, else x·dy (each rounded to float32, as
// the vector loops do).
func PReLUGrad(dx, g, dy, x, a []float32) {
	dx, g, dy, a = dx[:len(x)], g[:len(x)], dy[:len(x)], a[:len(x)]
	n := vectorPart(len(x))
	switch vecLanes {
	case 16:
		if n > 0 {
			preluGradAVX512(&dx[0], &g[0], &dy[0], &x[0], &a[0], n)
		}
	case 8:
		if n > 0 {
			preluGradAVX2(&dx[0], &g[0], &dy[0], &x[0], &a[0], n)
		}
	}
	for i, v := range x[n:] {
		d := dy[n+i]
		g[n+i] += pick(v, 0, float32(v*d)) // the product rounded on its own, as the loops do
		dx[n+i] = pick(v, d, a[n+i]*d)
	}
}

// preluChunk is the most values PReLUShared and PReLUGradShared give the
// loops of PReLU and PReLUGrad at a time, with their slope repeated.
const preluChunk = 256

// PReLUShared is PReLU with one slope a for every value.
func PReLUShared(y, x []float32, a float32) {
	var rep [preluChunk]float32
	for i := range rep[:min(len(x), preluChunk)] {
		rep[i] = a
	}
	for lo := 0; lo < len(x); lo += preluChunk {
		hi := min(lo+preluChunk, len(x))
		PReLU(y[lo:hi], x[lo:hi], rep[:hi-lo])
	}
}

// PReLUGradShared is PReLUGrad with one slope a for every value; it returns
// the slope's gradient, summed in float32 in preluChunk running sums, then
// those in float64.
func PReLUGradShared(dx, dy, x []float32, a float32) float64 {
	var rep, g [preluChunk]float32
	for i := range rep[:min(len(x), preluChunk)] {
		rep[i] = a
	}
	for lo := 0; lo < len(x); lo += preluChunk {
		hi := min(lo+preluChunk, len(x))
		PReLUGrad(dx[lo:hi], g[:hi-lo], dy[lo:hi], x[lo:hi], rep[:hi-lo])
	}
	s := 0.0
	for _, v := range g {
		s += float64(v)
	}
	return s
}
