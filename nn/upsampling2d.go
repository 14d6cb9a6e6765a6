package nn

import "math/rand/v2"

// UpSampling2D enlarges each image by whole factors (Keras UpSampling2D,
// channels_last): input [N,H,W,C], output [N, H·Size[0], W·Size[1], C].
// Interpolation "nearest" (or "", Keras's default) repeats each cell
// Size[0]×Size[1] times; "bilinear" is Keras 3's ops.image.resize to that
// size, tf.image.resize's bilinear with half-pixel centres (PyTorch's
// F.interpolate(mode="bilinear", align_corners=False)): output o of an axis
// blends the two inputs around (o+0.5)/s - 0.5, clamped at the edges. A zero
// Size is Keras's default (2, 2).
//
// Backward is the adjoint: each input's gradient is the sum of the output
// gradients that read it, weighted as they read it.
type UpSampling2D struct {
	Size          [2]int
	Interpolation string

	named
	resampler
}

func (l *UpSampling2D) Type() string { return "UpSampling2D" }

func (l *UpSampling2D) size() [2]int {
	if l.Size == [2]int{} {
		return [2]int{2, 2}
	}
	return l.Size
}

func (l *UpSampling2D) interpolation() string {
	if l.Interpolation == "" {
		return "nearest"
	}
	return l.Interpolation
}

// checkInterpolation returns an error for an interpolation other than
// nearest and bilinear.
func checkInterpolation(l Layer, v string) error {
	if v != "nearest" && v != "bilinear" {
		return errorf(l, "interpolation %q: convnet supports \"nearest\" and \"bilinear\"", v)
	}
	return nil
}

func (l *UpSampling2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	s := l.size()
	if s[0] < 1 || s[1] < 1 {
		return nil, errorf(l, "size %v: want two factors of at least 1", s)
	}
	if err := checkInterpolation(l, l.interpolation()); err != nil {
		return nil, err
	}
	if s[0] > maxSide || s[1] > maxSide {
		return nil, errorf(l, "size %v: at most %d", s, maxSide)
	}
	oh, ow := in[0]*s[0], in[1]*s[1]
	if err := checkSides(l, oh, ow, in[2]); err != nil {
		return nil, err
	}
	if l.interpolation() == "nearest" {
		l.build(l, in, repeats(in[0], s[0]), repeats(in[1], s[1]))
	} else {
		l.build(l, in, taps(0, in[0], oh, true), taps(0, in[1], ow, true))
	}
	return l.OutputShape(), nil
}

func (l *UpSampling2D) Config() map[string]any {
	return map[string]any{"name": l.Name(), "size": pairValue(l.size()), "interpolation": l.interpolation()}
}

func upSamplingFromConfig(f *fields) *UpSampling2D {
	l := &UpSampling2D{Size: [2]int{2, 2}, Interpolation: "nearest"}
	if _, ok := f.m["size"]; ok {
		if l.Size = f.pair("size"); f.err == nil && (l.Size[0] < 1 || l.Size[1] < 1) {
			f.fail("size", "two integers of at least 1", f.m["size"])
		}
	}
	if v, ok := f.m["interpolation"]; ok {
		if l.Interpolation = f.str("interpolation"); checkInterpolation(l, l.Interpolation) != nil {
			f.fail("interpolation", `"nearest" or "bilinear"`, v)
		}
	}
	return l
}
