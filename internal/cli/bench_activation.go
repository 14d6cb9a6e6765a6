package cli

import (
	"fmt"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// hiddenActivations are the functions --activation takes: those of
// nn.ActivationNames but linear and softmax, and prelu.
func hiddenActivations() []string {
	var names []string
	for _, fn := range nn.ActivationNames {
		if fn != "linear" && fn != "softmax" {
			names = append(names, fn)
		}
	}
	return append(names, "prelu")
}

// replaceReLU gives the convolutions and dense layers of m whose activation
// is relu the function fn instead; for prelu, a linear one and a PReLU
// layer after them (a slope per channel after a convolution, per unit
// after a dense layer, as PyTorch's nn.PReLU(channels)), in a stack of
// layers.
func replaceReLU(m *model.Sequential, fn string) (*model.Sequential, error) {
	if fn == "relu" {
		return m, nil
	}
	if fn == "prelu" && m.IsGraph() {
		return nil, usagef("--activation prelu: only for a stack of layers, not a graph")
	}
	n := 0
	var layers []nn.Layer
	for _, l := range m.Layers {
		layers = append(layers, l)
		var act *string
		switch l := l.(type) {
		case *nn.Conv2D:
			act = &l.Activation
		case *nn.DepthwiseConv2D:
			act = &l.Activation
		case *nn.Dense:
			act = &l.Activation
		}
		if act == nil || *act != "relu" {
			continue
		}
		n++
		*act = fn
		if fn == "prelu" {
			*act = "linear"
			p := &nn.PReLU{}
			if _, dense := l.(*nn.Dense); !dense {
				p.SharedAxes = []int{1, 2}
			}
			layers = append(layers, p)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("--activation %s: the model has no convolution or dense layer with relu to change", fn)
	}
	if fn == "prelu" {
		return model.New(layers...), nil
	}
	return m, nil
}
