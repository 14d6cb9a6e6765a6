package nn

// Window is the sliding window of a built convolution or pooling layer:
// output cell (oy, ox) reads the input rows oy*Strides[0]-Pad[0] + k*Dilation[0]
// for k < Size[0], and likewise the columns, cells outside the input being
// padding.
type Window struct {
	Size     [2]int // kernel or pool size: height, width
	Strides  [2]int // height, width
	Pad      [2]int // padding cells before the first row and the first column
	Dilation [2]int // the taps' distance: 1, 1 but for a dilated convolution
}

// WindowOf returns the window of a built [Conv2D], [DepthwiseConv2D],
// [MaxPool2D] or [AveragePooling2D] layer, the geometry its Forward uses, and of a built
// [ZeroPadding2D]: one cell, stride 1, Pad its rows above and columns to
// the left (each output cell is one input cell or a padding cell), or
// [Cropping2D]: the same with Pad minus the rows and columns it cuts off
// the top and the left, or a [Dense] layer on an image: one cell, stride
// 1, no padding (a 1×1 convolution). It returns false for other layers.
func WindowOf(l Layer) (Window, bool) {
	switch l := l.(type) {
	case *Conv2D:
		if l.depthwise != nil {
			return WindowOf(l.depthwise)
		}
		if l.dilated != nil {
			ds := l.dilated
			w := windowOf(ds.k[0], ds.k[1], 1, 1, ds.pad[0], ds.pad[1])
			w.Dilation = ds.ps.d
			return w, true
		}
		if l.conv != nil {
			g := l.conv.Geom()
			return windowOf(g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft), true
		}
	case *DepthwiseConv2D:
		w := windowOf(l.g.KH, l.g.KW, l.g.SH, l.g.SW, l.g.PadTop, l.g.PadLeft)
		w.Dilation = l.d
		return w, l.out != nil
	case *MaxPool2D:
		return windowOf(l.g.KH, l.g.KW, l.g.SH, l.g.SW, l.g.PadTop, l.g.PadLeft), l.out != nil
	case *AveragePooling2D:
		return windowOf(l.g.KH, l.g.KW, l.g.SH, l.g.SW, l.g.PadTop, l.g.PadLeft), l.out != nil
	case *Dense:
		return windowOf(1, 1, 1, 1, 0, 0), len(l.in) == 3
	case *ZeroPadding2D:
		return windowOf(1, 1, 1, 1, l.Padding[0][0], l.Padding[1][0]), l.out != nil
	case *Cropping2D:
		return windowOf(1, 1, 1, 1, -l.Cropping[0][0], -l.Cropping[1][0]), l.out != nil
	}
	return Window{}, false
}

func windowOf(kh, kw, sh, sw, pt, pl int) Window {
	return Window{Size: [2]int{kh, kw}, Strides: [2]int{sh, sw}, Pad: [2]int{pt, pl}, Dilation: [2]int{1, 1}}
}
