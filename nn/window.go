package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
)

// paddingName is the Keras name of a padding mode ("" means "valid").
func paddingName(p string) string {
	if p == "" {
		return "valid"
	}
	return p
}

// windowGeom resolves a sliding window (a convolution kernel or a pooling
// window, named what) of size k and strides s over an H×W×C input. Output
// sizes follow Keras: "valid" gives floor((in-k)/s)+1, "same" gives
// ceil(in/s) with TensorFlow's padding split (the odd cell goes after).
func windowGeom(l Layer, in []int, what string, k, s [2]int, padding string) (kernels.ConvGeom, error) {
	var g kernels.ConvGeom
	if len(in) != 3 || !positive(in) {
		return g, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	if err := checkSize(l, "input", in...); err != nil {
		return g, err
	}
	if k[0] < 1 || k[1] < 1 {
		return g, errorf(l, "%s size %s: must be positive", what, dims(k[0], k[1]))
	}
	if s[0] < 1 || s[1] < 1 {
		return g, errorf(l, "strides %s: must be positive", dims(s[0], s[1]))
	}
	g = kernels.ConvGeom{H: in[0], W: in[1], C: in[2], KH: k[0], KW: k[1], SH: s[0], SW: s[1]}
	switch padding {
	case "", "valid":
		if k[0] > in[0] || k[1] > in[1] {
			return g, errorf(l, "%s %s is larger than the %s input with padding \"valid\"", what, dims(k[0], k[1]), dims(in[0], in[1]))
		}
		g.OH, g.OW = kernels.ValidOutput(g.H, g.KH, g.SH), kernels.ValidOutput(g.W, g.KW, g.SW)
	case "same":
		g.OH, g.PadTop = kernels.SamePadding(g.H, g.KH, g.SH)
		g.OW, g.PadLeft = kernels.SamePadding(g.W, g.KW, g.SW)
	default:
		return g, errorf(l, "unknown padding %q (valid: valid, same)", padding)
	}
	return g, nil
}

// orOne replaces zero strides by 1.
func orOne(s [2]int) [2]int {
	if s == [2]int{} {
		return [2]int{1, 1}
	}
	return s
}

// poolWindow applies the pooling defaults: size 2×2, strides equal to size.
func poolWindow(size, strides [2]int) (k, s [2]int) {
	if size == [2]int{} {
		size = [2]int{2, 2}
	}
	if strides == [2]int{} {
		strides = size
	}
	return size, strides
}

func poolConfig(l Layer, size, strides [2]int, padding string) map[string]any {
	k, s := poolWindow(size, strides)
	return map[string]any{
		"name":      l.Name(),
		"pool_size": pairValue(k),
		"strides":   pairValue(s),
		"padding":   paddingName(padding),
	}
}
