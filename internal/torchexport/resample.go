package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
)

// resample writes an UpSampling2D as nn.Upsample by its factors (nearest:
// each cell repeated; bilinear with half-pixel centres, align_corners
// False) and a Resizing as nn.Upsample to its size, after a slice of the
// centred window when it crops to the aspect ratio; nearest-exact reads
// floor((o+0.5)·in/out), TensorFlow's nearest.
func (w *walker) resample(p *pyLayer, l nn.Layer, id, x, out string, in []int) {
	switch l := l.(type) {
	case *nn.UpSampling2D:
		c := l.Config()
		size, mode := c["size"].([]int), c["interpolation"].(string)
		factors := pyPair([2]int{size[0], size[1]})
		if mode == "nearest" {
			p.Init = fmt.Sprintf("nn.Upsample(scale_factor=%s, mode=\"nearest\")", factors)
			p.Comment += fmt.Sprintf(": each cell repeated %dx%d", size[0], size[1])
		} else {
			p.Init = fmt.Sprintf("nn.Upsample(scale_factor=%s, mode=\"bilinear\", align_corners=False)", factors)
			p.Comment += fmt.Sprintf(": %dx%d larger, bilinear with half-pixel centres", size[0], size[1])
		}
	case *nn.Resizing:
		top, left, rows, cols := l.Window(in[0], in[1])
		if rows != in[0] || cols != in[1] {
			p.Comment += fmt.Sprintf(": the centred %dx%d window from row %d, column %d, then", rows, cols, top, left)
			p.Forward = append(p.Forward, fmt.Sprintf("%s = %s[:, :, %d:%d, %d:%d]", out, x, top, top+rows, left, left+cols))
			x = out // what the module resizes
		}
		mode := `"bilinear", align_corners=False`
		if l.Config()["interpolation"] == "nearest" {
			mode, w.helpers.NearestExact = `"nearest-exact"`, true
		}
		p.Init = fmt.Sprintf("nn.Upsample(size=(%d, %d), mode=%s)", l.Height, l.Width, mode)
		p.Comment += fmt.Sprintf(": resized to %dx%d, %s", l.Height, l.Width, l.Config()["interpolation"])
	}
	p.Attr = id
	p.Forward = append(p.Forward, fmt.Sprintf("%s = self.%s(%s)", out, id, x))
}
