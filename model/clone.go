package model

import (
	"encoding/json"
	"slices"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
)

// Clone returns an independent copy of a built model: same architecture,
// names, frozen layers, weights, class names, preprocessing, metadata and
// random state, sharing no memory with m. The copy is not compiled.
func (m *Model) Clone() *Model {
	c := m.rebuild("Clone")
	for i, p := range m.params {
		c.params[i].Value.CopyFrom(p.Value)
	}
	return c
}

// replica returns a copy of m to predict in parallel with it: its own
// buffers, and m's weights (the same tensors) and packed kernels (see
// [nn.PackKeeper]). Neither may be trained, nor its weights written, while
// the other is in use. It takes m's gradient tensors too, in place of a
// copy's worth of its own: predicting and the input's gradient
// (saliency, CAM) never write them (see [nn.ParamGradientSkipper]).
func (m *Model) replica() *Model {
	c := m.rebuild("replica")
	for i, p := range m.params {
		c.params[i].Value, c.params[i].Grad = p.Value, p.Grad
	}
	c.KeepPacked(m.keep)
	for i, l := range c.Layers {
		if k, ok := l.(nn.PackKeeper); ok {
			k.SharePacked(m.Layers[i])
		}
	}
	return c
}

// rebuild returns a model built as m is, with the same names, frozen
// layers, class names, preprocessing, metadata and random state, its
// weights newly initialized.
func (m *Model) rebuild(op string) *Model {
	m.mustBeBuilt(op)
	c := &Model{
		Name:       m.Name,
		ClassNames: slices.Clone(m.ClassNames),
		Meta:       cloneMap(m.Meta),
	}
	if m.Standardizer != nil {
		// A JSON round trip: the standardizer is saved as JSON anyway.
		b, err := json.Marshal(m.Standardizer)
		if err == nil {
			c.Standardizer = new(data.Standardizer)
			err = json.Unmarshal(b, c.Standardizer)
		}
		if err != nil {
			panic("model: " + op + ": " + err.Error())
		}
	}
	for _, l := range m.Layers {
		cl, err := nn.FromConfig(l.Type(), l.Config())
		if err != nil {
			panic("model: " + op + ": " + err.Error())
		}
		cl.SetName(l.Name())
		c.Layers = append(c.Layers, cl)
		if m.frozen[l] {
			c.frozen.add(cl)
		}
		if m.inference[l] {
			c.inference.add(cl)
		}
	}
	if m.graph != nil {
		c.graph = &graph{inputName: m.graph.inputName, layers: slices.Clone(c.Layers), inbound: make([][]int, len(m.graph.inbound))}
		for i, in := range m.graph.inbound {
			c.graph.inbound[i] = slices.Clone(in)
		}
	}
	if err := c.Build(m.input, 0); err != nil {
		panic("model: " + op + ": " + err.Error())
	}
	c.UseBF16(m.bf16)
	state, err := m.pcg.MarshalBinary()
	if err == nil {
		err = c.pcg.UnmarshalBinary(state)
	}
	if err != nil {
		panic("model: " + op + ": " + err.Error())
	}
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
