package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
)

// trainingOnly returns the module of a layer that changes values in
// training only, element by element, and what it does.
func (w *walker) trainingOnly(l nn.Layer, in []int) (init, what string) {
	switch l := l.(type) {
	case *nn.Dropout:
		if l.NoiseShape != nil {
			w.helpers.NoiseShapeDropout = true
			noise := l.NoiseShape
			if len(in) == 3 { // (n, h, w, c) to PyTorch's (n, c, h, w)
				noise = []int{noise[0], noise[3], noise[1], noise[2]}
			}
			shape := pySizes(noise)
			return fmt.Sprintf("NoiseShapeDropout(%s, %s)", pyFloat(l.Rate), shape),
				fmt.Sprintf("rate %s, one draw per cell of %s", pyFloat(l.Rate), shape)
		}
		return fmt.Sprintf("nn.Dropout(%s)", pyFloat(l.Rate)), "rate " + pyFloat(l.Rate)
	case *nn.AlphaDropout:
		return fmt.Sprintf("nn.AlphaDropout(%s)", pyFloat(l.Rate)), "selu's dropout at rate " + pyFloat(l.Rate)
	case *nn.GaussianNoise:
		w.helpers.GaussianNoise = true
		return fmt.Sprintf("GaussianNoise(%s)", pyFloat(l.Stddev)), "noise of standard deviation " + pyFloat(l.Stddev) + " added"
	case *nn.GaussianDropout:
		w.helpers.GaussianDropout = true
		return fmt.Sprintf("GaussianDropout(%s)", pyFloat(l.Rate)), "times noise of mean 1 at rate " + pyFloat(l.Rate)
	}
	panic("torchexport: trainingOnly(" + l.Type() + ")")
}
