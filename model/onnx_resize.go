package model

import (
	"math"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// upSampling writes an UpSampling2D as a Resize by its factors: nearest
// with asymmetric coordinates and floor (output o reads input o/s, the
// repetition), or linear with half-pixel centres.
func (e *onnxWriter) upSampling(l *nn.UpSampling2D, name string) {
	s := l.Config()["size"].([]int)
	scales := e.weight(name+"/scales", []int{4}, []float32{1, 1, float32(s[0]), float32(s[1])})
	if l.Config()["interpolation"] == "nearest" {
		e.apply("Resize", name, []string{"", scales}, attrString("mode", "nearest"),
			attrString("coordinate_transformation_mode", "asymmetric"), attrString("nearest_mode", "floor"))
		return
	}
	e.apply("Resize", name, []string{"", scales}, attrString("mode", "linear"),
		attrString("coordinate_transformation_mode", "half_pixel"))
}

// resizing writes a Resizing as a Slice of its window when it crops, then
// a Resize with half-pixel centres: linear, or nearest rounding halves up
// (input floor((o+0.5)·in/out), TensorFlow's). The batch size is not known
// in the file, so the Resize has scales, out/in, each rounded up to the
// float32 from which ONNX's floor(in·scale) gives out.
func (e *onnxWriter) resizing(l *nn.Resizing, name string) {
	h, w := e.shape[0], e.shape[1]
	top, left, rows, cols := l.Window(h, w)
	if rows != h || cols != w {
		e.apply("Slice", name+"/crop", []string{
			e.ints(name+"/starts", []int64{int64(top), int64(left)}),
			e.ints(name+"/ends", []int64{int64(top + rows), int64(left + cols)}),
			e.ints(name+"/axes", []int64{2, 3}),
		})
	}
	scales := e.weight(name+"/scales", []int{4}, []float32{1, 1, resizeScale(rows, l.Height), resizeScale(cols, l.Width)})
	if l.Config()["interpolation"] == "nearest" {
		e.apply("Resize", name, []string{"", scales}, attrString("mode", "nearest"),
			attrString("coordinate_transformation_mode", "half_pixel"), attrString("nearest_mode", "round_prefer_ceil"))
		return
	}
	e.apply("Resize", name, []string{"", scales}, attrString("mode", "linear"),
		attrString("coordinate_transformation_mode", "half_pixel"))
}

// resizeScale returns the float32 nearest out/in, raised to the next one
// while in times it falls short of out.
func resizeScale(in, out int) float32 {
	s := float32(out) / float32(in)
	for float64(in)*float64(s) < float64(out) {
		s = math.Nextafter32(s, float32(math.Inf(1)))
	}
	return s
}

// importResize reads a Resize (opset 10 on) or an Upsample of an image's
// height and width as the layer that computes it: by whole factors,
// nearest with asymmetric coordinates and floor (PyTorch's nn.Upsample
// mode "nearest") or with half-pixel centres, or linear with half-pixel
// centres (mode "bilinear", align_corners=False), an UpSampling2D; to other
// sizes, with half-pixel centres, a Resizing. What does not match Keras's
// resizing (align_corners, cubic, antialiasing, PyTorch's legacy nearest at
// a factor that is not whole) is refused by name.
func importResize(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a",
		"exclude_outside", "extrapolation_value", "antialias", "keep_aspect_ratio_policy", "scales")
	if err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 || x.flat || x.nhwc || x.order != nil {
		return nodeErr(n, "input %s: convnet resizes images (N, C, H, W)", x.describe())
	}
	// Upsample and opset 10's Resize compute asymmetric coordinates.
	upsample := n.GetOpType() == "Upsample" || b.opset < 11
	mode, ctm, nearest := a.str("mode", "nearest"), a.str("coordinate_transformation_mode", "half_pixel"), a.str("nearest_mode", "round_prefer_floor")
	if upsample {
		ctm, nearest = "asymmetric", "floor"
	}
	antialias, exclude, policy := a.int("antialias", 0), a.int("exclude_outside", 0), a.str("keep_aspect_ratio_policy", "stretch")
	var attrScales []float32
	if at := a.get("scales", onnxpb.AttributeProto_FLOATS); at != nil {
		attrScales = at.GetFloats()
	}
	if a.err != nil {
		return a.err
	}
	switch {
	case antialias != 0:
		return nodeErr(n, "antialias %d: convnet resizes without antialiasing (Keras's antialias false)", antialias)
	case exclude != 0:
		return nodeErr(n, "exclude_outside %d: convnet supports only 0", exclude)
	case policy != "stretch":
		return nodeErr(n, "keep_aspect_ratio_policy %q: convnet supports only \"stretch\"", policy)
	}
	scale, size, err := resizeTarget(b, n, x, upsample, attrScales)
	if err != nil {
		return err
	}
	whole := scale[0] == math.Trunc(scale[0]) && scale[1] == math.Trunc(scale[1]) && scale[0] >= 1 && scale[1] >= 1
	var l nn.Layer
	switch {
	case mode == "nearest" && ctm == "asymmetric" && nearest == "floor" && whole,
		mode == "nearest" && (ctm == "half_pixel" && nearest == "round_prefer_ceil" || ctm == "tf_half_pixel_for_nn" && nearest == "floor") && whole:
		l = &nn.UpSampling2D{Size: [2]int{int(scale[0]), int(scale[1])}, Interpolation: "nearest"}
	case mode == "nearest" && (ctm == "half_pixel" && nearest == "round_prefer_ceil" || ctm == "tf_half_pixel_for_nn" && nearest == "floor"):
		l = &nn.Resizing{Height: size[0], Width: size[1], Interpolation: "nearest"}
	case mode == "nearest" && ctm == "asymmetric" && nearest == "floor":
		return nodeErr(n, "nearest with asymmetric coordinates (PyTorch's mode \"nearest\") at scales %v: convnet computes that only for whole factors, its nearest elsewhere reads half-pixel centres (Keras's; PyTorch's \"nearest-exact\")", scale)
	case mode == "nearest":
		return nodeErr(n, "nearest with coordinate_transformation_mode %q and nearest_mode %q: convnet supports asymmetric with floor (whole factors) and half_pixel with round_prefer_ceil (Keras's nearest)", ctm, nearest)
	case mode == "linear" && (ctm == "half_pixel" || ctm == "pytorch_half_pixel" && size[0] > 1 && size[1] > 1) && whole:
		l = &nn.UpSampling2D{Size: [2]int{int(scale[0]), int(scale[1])}, Interpolation: "bilinear"}
	case mode == "linear" && (ctm == "half_pixel" || ctm == "pytorch_half_pixel" && size[0] > 1 && size[1] > 1):
		l = &nn.Resizing{Height: size[0], Width: size[1], Interpolation: "bilinear"}
	case mode == "linear":
		return nodeErr(n, "linear with coordinate_transformation_mode %q: convnet supports only half_pixel (Keras's bilinear; PyTorch's align_corners=False)", ctm)
	default:
		return nodeErr(n, "mode %q: convnet supports \"nearest\" and \"linear\"", mode)
	}
	v := x.after(b.add(n, l, x))
	v.shape = []int{x.shape[0], size[0], size[1]}
	v.nonneg = x.nonneg
	return b.output(n, v)
}

// resizeTarget returns a Resize's or Upsample's factors along the height
// and width and the output's height and width, from its scales or its
// sizes. Factors given must make whole sizes, since convnet resizes by
// in/out.
func resizeTarget(b *onnxBuilder, n *onnxpb.NodeProto, x *onnxValue, upsample bool, attrScales []float32) (scale [2]float64, size [2]int, err error) {
	h, w := x.shape[1], x.shape[2]
	var scales []float32
	var sizes []int64
	if attrScales != nil { // Upsample of opset 7
		scales = attrScales
	} else {
		at := 2 // Resize: X, roi, scales, sizes
		if upsample {
			at = 1 // Upsample, Resize of opset 10: X, scales
		}
		c, err := b.constant(n, at, true)
		if err != nil {
			return scale, size, err
		}
		if c != nil && c.size() > 0 {
			scales = c.f
			if c.f == nil {
				return scale, size, nodeErr(n, "scales: want FLOAT values, got INT64")
			}
		}
		if !upsample && at+1 < len(n.GetInput()) && n.GetInput()[at+1] != "" {
			// PyTorch's F.interpolate(size=...) reads the batch size and
			// the channels with Shape: the batch size is not needed.
			v := b.values[n.GetInput()[at+1]]
			if v == nil || v.konst == nil || !v.konst.isInt() {
				return scale, size, nodeErr(n, "sizes %q: want a constant of INT64 values", n.GetInput()[at+1])
			}
			sizes = v.konst.i
		}
	}
	switch {
	case scales != nil && sizes != nil:
		return scale, size, nodeErr(n, "both scales and sizes given")
	case len(scales) == 4:
		if scales[0] != 1 || scales[1] != 1 {
			return scale, size, nodeErr(n, "scales %v: convnet resizes only the height and width (scales 1, 1, sh, sw)", scales)
		}
		size = [2]int{int(float32(h) * scales[2]), int(float32(w) * scales[3])} // ONNX Runtime's floor(in·scale), in float32
		scale = [2]float64{float64(scales[2]), float64(scales[3])}
		for k, s := range scale {
			in := []int{h, w}[k]
			if size[k] < 1 || size[k] > 1<<16 || math.Abs(float64(in)*s-float64(size[k])) > 1e-5*float64(size[k]) {
				return scale, size, nodeErr(n, "scales %v on %dx%d: convnet resizes to whole sizes, by in/out, and this scale makes %.6g", scales, h, w, float64(in)*s)
			}
		}
	case len(sizes) == 4:
		if sizes[1] != int64(x.shape[0]) || sizes[2] < 1 || sizes[3] < 1 || sizes[2] > 1<<16 || sizes[3] > 1<<16 {
			return scale, size, nodeErr(n, "sizes %v on %s: convnet resizes only the height and width, each to 1 to 65536", sizes, x.describe())
		}
		size = [2]int{int(sizes[2]), int(sizes[3])}
		scale = [2]float64{float64(size[0]) / float64(h), float64(size[1]) / float64(w)}
	default:
		return scale, size, nodeErr(n, "want 4 scales or 4 sizes (N, C, H, W), got scales %v, sizes %v", scales, sizes)
	}
	return scale, size, nil
}
