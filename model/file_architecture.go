package model

import (
	"fmt"
	"math"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// The "architecture" entry of a model file, Keras's to_json() of the model
// (see keras.go), rebuilt before any weight is read, with the weights each
// layer needs checked against those the file holds for it.

// decodeArchitecture rebuilds the layers. A layer's weights can only come
// from the tensors named after it ("<layer>/..."), so before building a
// layer it checks that the weights the layer would allocate fit in those
// tensors: a header declaring a large architecture over missing or tiny
// tensors fails before anything large is allocated, and the weights of all
// layers together never exceed the data section. Building allocates only
// the weights (and their gradients); layers allocate their working buffers
// at the first Forward or Backward.
func decodeArchitecture(s string, h *header) (*Sequential, error) {
	if s == "" {
		return nil, formatErr("no architecture in the metadata")
	}
	m, err := parseArchitecture([]byte(s))
	if err != nil {
		return nil, formatErr("architecture: %v", err)
	}
	if err := checkInputShape(m.input); err != nil {
		return nil, formatErr("architecture: %v", err)
	}
	held := h.layerSizes()
	err = m.build(m.input, 0, func(l nn.Layer, in []int, built bool) error {
		if built {
			return checkBuilt(l, held)
		}
		if n := paramEstimate(l, in); n > held[l.Name()] {
			return fmt.Errorf("%s (%s) needs %d weights, the file holds %d for it", l.Name(), l.Type(), n, held[l.Name()])
		}
		return nil
	})
	if err != nil {
		return nil, formatErr("architecture: %v", err)
	}
	return m, nil
}

// layerSizes returns, per layer name, the number of values in the tensors
// named "<layer>/...".
func (h *header) layerSizes() map[string]int64 {
	held := map[string]int64{}
	for name, e := range h.tensors {
		if i := strings.IndexByte(name, '/'); i > 0 {
			held[name[:i]] += (e.DataOffsets[1] - e.DataOffsets[0]) / 4
		}
	}
	return held
}

// checkBuilt checks the weights a built layer allocated against the values
// the file holds for it. It catches what paramEstimate does not foresee.
func checkBuilt(l nn.Layer, held map[string]int64) error {
	var n int64
	for _, p := range l.Params() {
		n += int64(p.Value.Len())
	}
	if n > held[l.Name()] {
		return fmt.Errorf("%s (%s) has %d weights, the file holds %d for it", l.Name(), l.Type(), n, held[l.Name()])
	}
	return nil
}

// paramEstimate returns the number of weights l will allocate when built
// for input shape in, from its configuration alone (nn.Layer.Cost).
// Counts saturate, so that absurd sizes compare as huge.
func paramEstimate(l nn.Layer, in []int) int64 { return l.Cost(in).Params }

// mulSat returns the product of non-negative factors, or math.MaxInt64 if
// it overflows.
func mulSat(factors ...int64) int64 {
	p := int64(1)
	for _, f := range factors {
		if f != 0 && p > math.MaxInt64/f {
			return math.MaxInt64
		}
		p *= f
	}
	return p
}

// addSat returns a+b for non-negative a and b, or math.MaxInt64 if it
// overflows.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
