package nn

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// GroupNormalization normalises each sample's channels in groups (Keras
// GroupNormalization; Wu & He 2018, https://arxiv.org/abs/1803.08494):
//
//	y = (x - mean) / sqrt(var + Epsilon) · gamma[c] + beta[c]
//
// with mean and var (the biased variance) over the values of one sample
// whose channel c falls in the same group: the channels split into Groups
// runs of C/Groups, each taken over every pixel. The same in training and
// at inference. Groups 0 is Keras's default 32; -1 is one group per
// channel (instance normalization, PyTorch's InstanceNorm2d(affine=True));
// 1 normalises a whole sample with a gamma and beta per channel. The
// channels are the last axis (Keras's axis -1), of an image [H, W, C] or a
// vector [C]; C must be a multiple of Groups. Epsilon 0 means Keras's 1e-3.
//
// Its parameters are "gamma" (ones) and "beta" (zeros), [C] each; NoScale
// leaves out gamma, NoCenter beta (Keras's scale and center false).
// The statistics sum in float64, the variance from the deviations (two
// passes); Backward is
//
//	dx = inv · (dxhat - mean(dxhat) - xhat · mean(dxhat·xhat)),  dxhat = dy·gamma[c]
//
// over each group, as LayerNormalization's.
type GroupNormalization struct {
	Groups   int
	Axis     int // the channels' axis: 0 and -1 mean the last, the only one convnet normalises along
	Epsilon  float64
	NoCenter bool
	NoScale  bool

	named
	buffers
	in         []int
	groups, cg int // groups and channels per group
	c, pixels  int // channels, and values per channel of a sample
	scaleShift
	g, b []float32 // gamma and beta of the pass in progress (see scaleShift.values)
	// Per sample and channel: the statistics of the channel's group from
	// the last Forward, the sums of each pass (in Backward those of dy and
	// of dy·xhat, beta's and gamma's gradients), Backward's coefficients.
	mean, inv, sum, sumX, coef []float64
	skipDw                     bool // see SkipParamGradients

	x, y, dx *tensor.Tensor
	dy       *tensor.Tensor // during Backward
	split    split
}

func (l *GroupNormalization) Type() string { return "GroupNormalization" }

func (l *GroupNormalization) epsilon() float64 {
	if l.Epsilon == 0 {
		return 1e-3
	}
	return l.Epsilon
}

// groupsOf returns the number of groups of c channels: Groups, 32 for 0,
// c for -1.
func (l *GroupNormalization) groupsOf(c int) int {
	switch l.Groups {
	case 0:
		return 32
	case -1:
		return c
	}
	return l.Groups
}

func (l *GroupNormalization) Build(in []int, rng *rand.Rand) ([]int, error) {
	if e := l.epsilon(); !(e > 0) || math.IsInf(e, 1) {
		return nil, errorf(l, "epsilon = %v: must be a positive number", e)
	}
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	if l.Axis != 0 && l.Axis != -1 && l.Axis != len(in) {
		return nil, errorf(l, "axis %d: convnet normalises groups of the last axis, the channels (-1 or %d of the input %v)", l.Axis, len(in), in)
	}
	c := in[len(in)-1]
	g := l.groupsOf(c)
	if g <= 0 || g > c || c%g != 0 {
		dflt := ""
		if l.Groups == 0 {
			dflt = " (the default)"
		}
		return nil, errorf(l, "groups = %d%s: want a divisor of the input's %d channels, or -1 for one group per channel", g, dflt, c)
	}
	l.in, l.groups, l.cg, l.c, l.pixels = slices.Clone(in), g, c/g, c, tensor.Size(in)/c
	l.scaleShift.build(l.NoScale, l.NoCenter, c)
	l.mean, l.inv, l.x, l.y, l.dx = nil, nil, nil, nil, nil
	return slices.Clone(in), nil
}

func (l *GroupNormalization) OutputShape() []int { return l.in }

// GroupCount returns the built layer's number of groups.
func (l *GroupNormalization) GroupCount() int { return l.groups }

// Params returns gamma then beta, Keras's order, each unless left out.
func (l *GroupNormalization) Params() []*Param { return l.params() }

// Cost counts gamma and beta; normalising is elementwise work.
func (l *GroupNormalization) Cost(in []int) Cost {
	if len(in) == 0 {
		return Cost{}
	}
	return scaleShiftCost(int64(in[len(in)-1]), l.NoScale, l.NoCenter)
}

// SkipParamGradients makes Backward leave gamma's and beta's gradients as
// they are; see [ParamGradientSkipper].
func (l *GroupNormalization) SkipParamGradients(skip bool) { l.skipDw = skip }

// Config writes Keras's fields: groups (as built, or as given), axis,
// epsilon, center and scale.
func (l *GroupNormalization) Config() map[string]any {
	groups := l.Groups
	if l.groups != 0 {
		groups = l.groups
	} else if groups == 0 {
		groups = 32
	}
	return map[string]any{"name": l.Name(), "groups": groups, "axis": -1, "epsilon": l.epsilon(),
		"center": !l.NoCenter, "scale": !l.NoScale}
}

func groupNormFromConfig(f *fields) *GroupNormalization {
	l := &GroupNormalization{Groups: 32, Axis: -1, NoCenter: !f.bool("center", true), NoScale: !f.bool("scale", true)}
	if v, ok := f.m["groups"]; ok {
		if l.Groups = f.int("groups"); l.Groups == 0 || l.Groups < -1 {
			f.fail("groups", "a positive number of groups, or -1 for one per channel", v)
		}
	}
	l.Epsilon = positiveEpsilon(f)
	if v, ok := f.m["axis"]; ok {
		if n, isInt := integer(v); isInt {
			f.get("axis")
			l.Axis = n
		} else if axes := f.ints("axis"); len(axes) == 1 {
			l.Axis = axes[0]
		} else {
			f.fail("axis", "one axis, the channels'", v)
		}
	}
	return l
}
