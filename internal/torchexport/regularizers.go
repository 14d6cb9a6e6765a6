package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// eachWeight calls f for every parameter of m's layers that wants (one
// with a regularizer, say) with its tensor in Net; a parameter the
// PyTorch network has no tensor for is an error, what saying why it was
// wanted.
func eachWeight(m *model.Model, layers []pyLayer, what string, wants func(*nn.Param) bool, f func(*nn.Param, torchWeight)) error {
	for i, l := range m.Layers {
		for _, p := range l.Params() {
			if !wants(p) {
				continue
			}
			t, ok := layers[i].torch[l.Name()+"/"+p.Name]
			if !ok {
				return unsupported(fmt.Sprintf("layer %s (%s)", l.Name(), l.Type()), "%s %s, which the PyTorch network has no tensor for", what, p.Name)
			}
			f(p, t)
		}
	}
	return nil
}

// penalties returns the terms of model.py's regularization(net): for each
// trainable weight with a regularizer (those of frozen layers count not, as
// in convnet and Keras 3), l1·Σ|w| and l2·Σw² of its tensor in Net, which
// the order of PyTorch's layouts does not change.
func penalties(m *model.Model, layers []pyLayer) ([]string, error) {
	var terms []string
	err := eachWeight(m, layers, "a regularizer of", func(p *nn.Param) bool { return p.Trainable && !p.Regularizer.IsZero() }, func(p *nn.Param, t torchWeight) {
		if r := p.Regularizer; r.L1 != 0 {
			terms = append(terms, fmt.Sprintf("%s * net.%s.abs().sum()", pyFloat(r.L1), t.dst))
		}
		if r := p.Regularizer; r.L2 != 0 {
			terms = append(terms, fmt.Sprintf("%s * net.%s.pow(2).sum()", pyFloat(r.L2), t.dst))
		}
	})
	return terms, err
}

// constraints returns the statements of model.py's constrain(net): each
// constrained trainable weight turned into convnet's layout (where Keras's axes
// name its axes), constrained and copied back.
func constraints(m *model.Model, layers []pyLayer) ([]string, error) {
	var lines []string
	err := eachWeight(m, layers, "a constraint on", func(p *nn.Param) bool { return p.Trainable && !p.Constraint.IsZero() }, func(p *nn.Param, t torchWeight) {
		c, w := p.Constraint, fmt.Sprintf(t.toConvnet, "net."+t.dst)
		var call string
		switch c.Kind {
		case "max_norm":
			call = fmt.Sprintf("norm_constraint(%s, %s, 0.0, %s, 1.0)", w, pyInts(c.Axis), pyFloat(c.Max))
		case "min_max_norm":
			call = fmt.Sprintf("norm_constraint(%s, %s, %s, %s, %s)", w, pyInts(c.Axis), pyFloat(c.Min), pyFloat(c.Max), pyFloat(c.Rate))
		case "unit_norm":
			call = fmt.Sprintf("norm_constraint(%s, %s, 1.0, 1.0, 1.0)", w, pyInts(c.Axis))
		default: // non_neg
			call = fmt.Sprintf("%s.clamp(min=0)", w)
		}
		lines = append(lines, fmt.Sprintf("net.%s.copy_(%s)", t.dst, fmt.Sprintf(t.toTorch, call)))
	})
	return lines, err
}

// frozen returns the tensors of Net that hold the weights of frozen layers
// (see model.SetTrainable), which Net sets not to train.
func frozen(m *model.Model, layers []pyLayer) ([]string, error) {
	var names []string
	err := eachWeight(m, layers, "the frozen layer's", func(p *nn.Param) bool { return p.Grad != nil && !p.Trainable }, func(_ *nn.Param, t torchWeight) {
		names = append(names, t.dst)
	})
	return names, err
}

// noDecay returns the tensors of Net that hold the trainable weights whose
// names match the optimizer's exclude_from_weight_decay, which train.py's
// weight decay leaves alone.
func noDecay(m *model.Model, layers []pyLayer, config map[string]any) ([]string, error) {
	names, _ := config["exclude_from_weight_decay"].([]string)
	excluded, err := optim.DecayExclusion{ExcludeFromWeightDecay: names}.Excluded()
	if err != nil {
		return nil, fmt.Errorf("torchexport: exclude_from_weight_decay: %w", err)
	}
	var out []string
	err = eachWeight(m, layers, "the weight decay's exclusion of", func(p *nn.Param) bool { return trainable(p) && excluded(p.Name) }, func(_ *nn.Param, t torchWeight) {
		out = append(out, t.dst)
	})
	return out, err
}

// trainable reports whether p is a weight that trains.
func trainable(p *nn.Param) bool { return p.Trainable && p.Grad != nil }
