package model

import "github.com/convnet-go/convnet/nn"

// scaledAdd appends the nodes of a ScaledAdd called on the tensors x and
// up: up times the scale, then x plus that, as PyTorch exports x + up *
// scale (a Mul by a scalar, then an Add). The importer reads them back as
// a Rescaling and an Add, which compute the same values: the product
// rounded, then the sum.
func (e *onnxWriter) scaledAdd(l *nn.ScaledAdd, x, up string) {
	name := l.Name()
	e.cur = up
	e.apply("Mul", name+"/mul", []string{e.weight(name+"/scale", nil, []float32{float32(l.Scale)})})
	scaled := e.cur
	e.cur = x
	e.apply("Add", name, []string{scaled})
}
