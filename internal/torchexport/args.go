package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// convolution is what the nn.Conv2d of a Conv2D or a DepthwiseConv2D is
// made of.
type convolution struct {
	what               string // for the comment: "32 filters"
	filters, groups    int
	k, s, d            [2]int // kernel size, strides, dilation
	padding, act       string
	noBias             bool
	param              string // the kernel's name in the weights file
	shape              []int  // and its shape there
	toTorch, toConvnet string // the weight's conversions
}

// convolutionOf describes l, a Conv2D or a DepthwiseConv2D on c channels.
// A grouped Conv2D's kernel [kh, kw, c/g, f] is PyTorch's weight
// [f, c/g, kh, kw] of the same groups: both cut the channels and the
// filters into g runs, filter j reading the channels of run j/(f/g).
// A depthwise convolution is PyTorch's convolution of one group per
// channel, whose weight [c·m, 1, kh, kw] holds the kernel [kh, kw, c, m]
// as [kh, kw, 1, c·m].
func convolutionOf(l nn.Layer, c int) convolution {
	switch l := l.(type) {
	case *nn.Conv2D:
		k, g := l.KernelSize, max(l.Groups, 1)
		what := fmt.Sprintf("%d filters", l.Filters)
		if g > 1 {
			what = fmt.Sprintf("%d filters in %d groups of %d channels,", l.Filters, g, c/g)
		}
		return convolution{what: what, filters: l.Filters, groups: g, k: k, s: orOne(l.Strides), d: orOne(l.DilationRate),
			padding: l.Padding, act: l.Activation, noBias: l.NoBias, param: "kernel", shape: []int{k[0], k[1], c / g, l.Filters},
			toTorch: "%s.permute(3, 2, 0, 1)", toConvnet: "%s.permute(2, 3, 1, 0)"} // HWIO, OIHW
	case *nn.DepthwiseConv2D:
		k, m := l.KernelSize, max(l.DepthMultiplier, 1)
		return convolution{what: fmt.Sprintf("depthwise, %d per channel,", m), filters: c * m, groups: c, k: k, s: orOne(l.Strides), d: orOne(l.DilationRate),
			padding: l.Padding, act: l.Activation, noBias: l.NoBias, param: "depthwise_kernel", shape: []int{k[0], k[1], c, m},
			toTorch:   fmt.Sprintf("%%s.reshape(%d, %d, 1, %d).permute(3, 2, 0, 1)", k[0], k[1], c*m),
			toConvnet: fmt.Sprintf("%%s.permute(2, 3, 1, 0).reshape(%d, %d, %d, %d)", k[0], k[1], c, m)}
	}
	panic("torchexport: not a convolution: " + l.Type())
}

// samePads returns Keras's "same" padding (top, bottom, left, right) of a
// window k with strides s over an h x w image: the odd cell goes after.
func samePads(h, w int, k, s [2]int) [4]int {
	var p [4]int
	for i, n := range []int{h, w} {
		out, before := kernels.SamePadding(n, k[i], s[i])
		total := max((out-1)*s[i]+k[i]-n, 0)
		p[2*i], p[2*i+1] = before, total-before
	}
	return p
}

func symmetric(p [4]int) bool { return p[0] == p[1] && p[2] == p[3] }

func paddingArg(p [4]int) string {
	if p == [4]int{} {
		return ""
	}
	return fmt.Sprintf(", padding=(%d, %d)", p[0], p[2])
}

func biasArg(noBias bool) string {
	if noBias {
		return ", bias=False"
	}
	return ""
}

func strideArg(s [2]int) string {
	if s == [2]int{1, 1} {
		return ""
	}
	return ", stride=" + pyPair(s)
}

// dilationArg is nn.Conv2d's dilation argument, "" for none.
func dilationArg(d [2]int) string {
	if d == [2]int{1, 1} {
		return ""
	}
	return ", dilation=" + pyPair(d)
}

// span is the cells a kernel of size k covers with its taps d apart.
func (cv *convolution) span() [2]int {
	return [2]int{(cv.k[0]-1)*cv.d[0] + 1, (cv.k[1]-1)*cv.d[1] + 1}
}

func dilationNote(d [2]int) string {
	if d == [2]int{1, 1} {
		return ""
	}
	return fmt.Sprintf(" dilated %dx%d", d[0], d[1])
}

func strideNote(s [2]int) string {
	if s == [2]int{1, 1} {
		return ""
	}
	return fmt.Sprintf(" stride %dx%d", s[0], s[1])
}

func paddingName(p string) string {
	if p == "" {
		return "valid"
	}
	return p
}

func orOne(s [2]int) [2]int {
	if s == [2]int{} {
		return [2]int{1, 1}
	}
	return s
}

// configPair reads a pair from a layer's Config.
func configPair(v any) [2]int {
	p := v.([]int)
	return [2]int{p[0], p[1]}
}
