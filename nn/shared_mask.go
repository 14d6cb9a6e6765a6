package nn

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// sharedMask is a dropout mask of one draw per cell of a noise shape,
// broadcast over the axes where that shape is 1 (Keras's noise_shape):
// SpatialDropout2D's (None, 1, 1, C), or a Dropout's NoiseShape. The cells
// are drawn from the layer's source, one number per cell in row-major order
// of the noise shape; a cell is dropped when the number's high 32 bits, as
// an integer, are below ceil(rate·2^32). The mask is the same whatever the
// number of cores.
type sharedMask struct {
	// dims is a sample's shape with neighbouring axes of the same kind
	// merged, shared[a] whether one draw covers the whole of axis a (it
	// alternates), batch whether one draw covers every sample.
	dims   []int
	shared []bool
	batch  bool
	cells  int // draws per sample
	rowsPS int // rows (the last merged axis) per sample

	scale  []float32 // per cell of the last training Forward: 0 or 1/(1-rate)
	x, out []float32 // the pass's input and output, during a call
	split  split
}

// setup lays the mask out for samples of shape in, one draw covering the
// batch when batch is set and covering axis a when shared[a] is.
func (m *sharedMask) setup(batch bool, in []int, shared []bool) {
	m.dims, m.shared, m.batch = m.dims[:0], m.shared[:0], batch
	for a, d := range in {
		if k := len(m.dims) - 1; k >= 0 && m.shared[k] == shared[a] {
			m.dims[k] *= d
			continue
		}
		m.dims, m.shared = append(m.dims, d), append(m.shared, shared[a])
	}
	m.cells, m.rowsPS = 1, 1
	for a, d := range m.dims {
		if !m.shared[a] {
			m.cells *= d
		}
		if a < len(m.dims)-1 {
			m.rowsPS *= d
		}
	}
	m.scale = nil
}

// draw draws the mask of a batch of n samples.
func (m *sharedMask) draw(n int, rate float64, rng *rand.Rand) {
	cells := m.cells
	if !m.batch {
		cells *= n
	}
	if cap(m.scale) < cells {
		m.scale = make([]float32, cells)
	}
	m.scale = m.scale[:cells]
	drop, keep := dropThreshold(rate), float32(1/(1-rate))
	for i := range m.scale {
		m.scale[i] = 0
		if rng.Uint64()>>32 >= drop {
			m.scale[i] = keep
		}
	}
}

// apply sets out to x times the mask, a row (the last merged axis) of a
// sample at a time, on the cores.
func (m *sharedMask) apply(x, out []float32) {
	last := m.dims[len(m.dims)-1]
	m.x, m.out = x, out
	m.split.rows(m, 0, len(x)/last, last)
	m.x, m.out = nil, nil
}

// do multiplies the rows lo..hi-1 (of all samples) by their cells' scales.
func (m *sharedMask) do(_, lo, hi int) {
	k := len(m.dims) - 1
	n := m.dims[k]
	for r := lo; r < hi; r++ {
		sample, rest := r/m.rowsPS, r%m.rowsPS
		at, stride := 0, 1
		if !m.batch {
			at = sample * m.cells
		}
		if !m.shared[k] {
			stride = n
		}
		for a := k - 1; a >= 0; a-- {
			c := rest % m.dims[a]
			rest /= m.dims[a]
			if !m.shared[a] {
				at += c * stride
				stride *= m.dims[a]
			}
		}
		x, out := m.x[r*n:r*n+n], m.out[r*n:r*n+n]
		if m.shared[k] {
			s := m.scale[at]
			for j, v := range x {
				out[j] = v * s
			}
			continue
		}
		s := m.scale[at : at+n]
		for j, v := range x {
			out[j] = v * s[j]
		}
	}
}

// noiseShared checks a Dropout's noise shape (the batch axis first, 0 for
// Keras's None) against the input shape in and returns whether one draw
// covers the batch and each axis of in.
func noiseShared(l Layer, noise, in []int) (batch bool, shared []bool, err error) {
	if len(noise) != len(in)+1 {
		return false, nil, errorf(l, "noise_shape %s: want %d sizes, the batch's and those of the input %v", noiseText(noise), len(in)+1, in)
	}
	shared = make([]bool, len(in))
	for a, d := range noise {
		switch {
		case d == 1 && a == 0:
			batch = true
		case d == 1:
			shared[a-1] = true
		case d == 0, a > 0 && d == in[a-1]:
		case a == 0:
			return false, nil, errorf(l, "noise_shape %s: batch size %d: want None (draws for each sample) or 1 (the same for the batch)", noiseText(noise), d)
		default:
			return false, nil, errorf(l, "noise_shape %s: size %d of axis %d: want None, 1 or the input's %d", noiseText(noise), d, a, in[a-1])
		}
	}
	return batch, shared, nil
}

// noiseText writes a noise shape as Keras's tuple, 0 as None.
func noiseText(noise []int) string {
	parts := make([]string, len(noise))
	for i, d := range noise {
		parts[i] = "None"
		if d != 0 {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
