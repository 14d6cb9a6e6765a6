package nn

import "math/rand/v2"

// Resizing resizes each image to Height×Width (Keras's preprocessing layer
// Resizing, channels_last, as its TensorFlow backend computes it with
// tf.image.resize, without antialiasing): input [N,H,W,C], output [N,
// Height, Width, C]. Interpolation "bilinear" (or "", Keras's default)
// blends, along each axis, the two inputs around (o+0.5)·in/out - 0.5,
// clamped at the edges (PyTorch's F.interpolate(mode="bilinear",
// align_corners=False)); "nearest" reads input floor((o+0.5)·in/out)
// (PyTorch's mode "nearest-exact"), with in/out in float32 as TensorFlow
// computes it. Keras's bicubic, lanczos and area are not supported.
//
// CropToAspectRatio first cuts the largest centred window of the output's
// aspect ratio out of the image, as Keras does: a window of
// min(H, ⌊W·Height/Width⌋) rows and min(W, ⌊H·Width/Height⌋) columns (each
// at least 1) starting at ⌊(H-rows)/2⌋, ⌊(W-columns)/2⌋.
//
// Backward is the adjoint: each input's gradient is the sum of the output
// gradients that read it, weighted as they read it (zero outside the
// window).
type Resizing struct {
	Height, Width     int
	Interpolation     string
	CropToAspectRatio bool

	named
	resampler
}

func (l *Resizing) Type() string { return "Resizing" }

func (l *Resizing) interpolation() string {
	if l.Interpolation == "" {
		return "bilinear"
	}
	return l.Interpolation
}

// Window returns the part of an h×w input the layer resizes: the first row
// and column, and the number of rows and columns (the whole image unless
// CropToAspectRatio).
func (l *Resizing) Window(h, w int) (top, left, rows, cols int) {
	if !l.CropToAspectRatio {
		return 0, 0, h, w
	}
	// float32, as Keras computes it
	rows = min(max(int(float32(w*l.Height)/float32(l.Width)), 1), h)
	cols = min(max(int(float32(h*l.Width)/float32(l.Height)), 1), w)
	return int(float32(h-rows) / 2), int(float32(w-cols) / 2), rows, cols
}

func (l *Resizing) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	if l.Height < 1 || l.Width < 1 {
		return nil, errorf(l, "height %d, width %d: want both at least 1", l.Height, l.Width)
	}
	if err := checkInterpolation(l, l.interpolation()); err != nil {
		return nil, err
	}
	if err := checkSides(l, l.Height, l.Width, in[2]); err != nil {
		return nil, err
	}
	top, left, rows, cols := l.Window(in[0], in[1])
	bilinear := l.interpolation() == "bilinear"
	l.build(l, in, taps(top, rows, l.Height, bilinear), taps(left, cols, l.Width, bilinear))
	return l.OutputShape(), nil
}

func (l *Resizing) Config() map[string]any {
	return map[string]any{"name": l.Name(), "height": l.Height, "width": l.Width,
		"interpolation": l.interpolation(), "crop_to_aspect_ratio": l.CropToAspectRatio}
}

func resizingFromConfig(f *fields) *Resizing {
	l := &Resizing{Height: f.int("height"), Width: f.int("width"), Interpolation: "bilinear",
		CropToAspectRatio: f.bool("crop_to_aspect_ratio", false)}
	for _, key := range []string{"height", "width"} {
		if v := f.m[key]; v == nil || !positiveInt(v) {
			f.fail(key, "an integer of at least 1", v)
		}
	}
	if v, ok := f.m["interpolation"]; ok {
		if l.Interpolation = f.str("interpolation"); checkInterpolation(l, l.Interpolation) != nil {
			f.fail("interpolation", `"bilinear" or "nearest" (bicubic, lanczos and area are not supported)`, v)
		}
	}
	return l
}

// positiveInt reports whether a config value is an integer of at least 1.
func positiveInt(v any) bool {
	n, ok := integer(v)
	return ok && n >= 1
}
