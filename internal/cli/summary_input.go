package cli

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
)

// inputs prints how a model file takes an image: how predict fits it to
// the input (its framing) and the preprocessing before the first layer.
func inputs(m *model.Sequential, w io.Writer) {
	in := m.InputShape()
	if len(in) != 3 {
		return
	}
	if f, err := m.Framing(); err == nil {
		fmt.Fprintf(w, "Images: %s\n", describeFraming(f, in))
	}
	if s := m.Standardizer; s != nil {
		fmt.Fprintf(w, "Preprocessing: %s\n", describeStandardizer(s))
	}
}

// describeFraming says how a picture is made the model's input of shape
// in: cropped to its ink and placed as the training images' was, or
// resized, whole or its centre; inverted or not.
func describeFraming(f data.Framing, in []int) string {
	var b strings.Builder
	side := fmt.Sprintf("%dx%d", in[0], in[1])
	switch {
	case f.Framed():
		centre := map[string]string{"mass": "its centre of mass", "box": "the centre of its bounding box"}[f.Center]
		fmt.Fprintf(&b, "light ink on a dark background, framed as the training images: cropped to the ink, its long side scaled to %s px, %s put at row %s, column %s of %s",
			num(f.Box), centre, num(f.At[0]), num(f.At[1]), side)
		if f.Stroke > 0 {
			fmt.Fprintf(&b, ", strokes far from %s px wide thinned or thickened toward it", num(f.Stroke))
		}
		b.WriteString("; dark ink on light paper is inverted")
	case f.Crop > 0:
		fmt.Fprintf(&b, "the centre of another shape cut out (%s of the largest region of %s's shape), then resized to %s", num(f.Crop), side, side)
	default:
		fmt.Fprintf(&b, "resized whole to %s", side)
	}
	if !f.Framed() {
		if f.Dark {
			b.WriteString("; light ink on a dark background, so dark ink on light paper is inverted")
		} else {
			b.WriteString("; never inverted")
		}
	}
	return b.String()
}

// describeStandardizer lists the preprocessing steps in the order they run.
func describeStandardizer(s *data.Standardizer) string {
	var steps []string
	if r := float64(s.Rescale); r != 0 && r != 1 {
		if d := math.Round(1 / r); math.Abs(d*r-1) < 1e-6 {
			steps = append(steps, "divided by "+num(d)) // 1/255, 1/127
		} else {
			steps = append(steps, "times "+num(r))
		}
	}
	if s.SamplewiseCenter {
		steps = append(steps, "minus each image's mean")
	}
	if s.SamplewiseStd {
		steps = append(steps, "divided by each image's standard deviation")
	}
	if s.ImageCenter {
		steps = append(steps, "minus the mean training image")
	}
	if s.FeaturewiseCenter || s.FeaturewiseStd {
		steps = append(steps, "minus "+nums(s.Mean)+" a channel")
	}
	if s.FeaturewiseStd {
		steps = append(steps, "divided by "+nums(s.Std)+" a channel")
	}
	if len(steps) == 0 {
		return "none (raw pixels 0..255)"
	}
	return "pixels 0..255 " + strings.Join(steps, ", ")
}

// num writes v briefly: 4 significant digits.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// nums writes values as num does, in brackets.
func nums(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = num(float64(x))
	}
	return "[" + strings.Join(s, " ") + "]"
}
