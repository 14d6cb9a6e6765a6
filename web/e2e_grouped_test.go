package web

import (
	"math"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// groupedModel is a small untrained model with grouped convolutions: a
// DepthwiseConv2D makes 4 maps of the drawing, a Conv2D of 2 groups
// (strided, "same" padding of one cell below and to the right) gives 3
// filters to each pair of them, and a 1x1 Conv2D of 3 groups 2 filters to
// each pair of those; tanh and biases of their own, all different, as in
// depthwiseModel.
func groupedModel(t testing.TB) *model.Sequential {
	return ahcdStack(t, 3,
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", DepthMultiplier: 4, Activation: "tanh"},
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Groups: 2, Activation: "tanh"},
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{1, 1}, Groups: 3},
		&nn.Flatten{},
		&nn.Dense{Units: 28, Activation: "softmax"},
	)
}

// groupedSum returns the pre-activation of output cell (y, x, f) of the
// grouped Conv2D l on the image x [H, W, C]: the bias plus, over the
// kernel's taps and the C/g channels c' of the filter's group,
// x[y·sh+ky-top, x·sw+kx-left, (f/(F/g))·(C/g)+c'] · kernel[ky, kx, c', f].
// It computes the definition, not the layer's code.
func groupedSum(l *nn.Conv2D, x *tensor.Tensor, y, xx, f int) float64 {
	win, _ := nn.WindowOf(l)
	k, b := param(l, "kernel").Value, param(l, "bias").Value
	h, w, c := x.Shape[0], x.Shape[1], x.Shape[2]
	kh, kw, n, filters := k.Shape[0], k.Shape[1], k.Shape[2], k.Shape[3]
	first := f / (filters / max(l.Groups, 1)) * n
	z := float64(b.Data[f])
	for ky := range kh {
		for kx := range kw {
			iy, ix := y*win.Strides[0]+ky-win.Pad[0], xx*win.Strides[1]+kx-win.Pad[1]
			if iy < 0 || iy >= h || ix < 0 || ix >= w {
				continue
			}
			for i := range n {
				z += float64(x.Data[(iy*w+ix)*c+first+i]) * float64(k.Data[((ky*kw+kx)*n+i)*filters+f])
			}
		}
	}
	return z
}

// checkGrouped opens output channel 4 of the Conv2D of 2 groups, which
// reads input channels 2–3 alone: the explanation, its two kernels, its two
// ranked channels, and its arithmetic at the centre and at the bottom right
// corner, where the window covers padding, against the sum the test
// computes from the layer's weights and the input the page shows.
func checkGrouped(p page, url string, m *model.Sequential) {
	t := p.t
	t.Helper()
	p.load(url, "grouped")
	p.draw("drawing on the grouped model", placeGlyph(letterGlyphs[5], drawSizes[0], "centre"))
	p.openBlock("Conv2D", 4)
	p.WaitFor("the grouped arithmetic", `document.getElementById("calc").textContent.includes("group 1 of 2") && document.getElementById("calc").textContent.includes("network's value")`)
	type drawer struct{ Explain, Kernels, Ranks, Calc, Hint string }
	read := func() drawer {
		return browser.Eval[drawer](p.Browser, `({Explain: document.getElementById("detailExplain").textContent,
			Kernels: [...document.querySelectorAll("#kernels .kcell")].map(c => c.textContent).join(","),
			Ranks: [...document.querySelectorAll("#ranks button")].map(b => b.dataset.channel).sort().join(","),
			Calc: document.getElementById("calc").textContent, Hint: document.getElementById("rankhint").textContent})`)
	}
	got := read()
	if want := "the 4 input channels are cut into 2 groups of 2, and each filter sees only its group's 2 channels: tiles 0–2 read channels 0–1, tiles 3–5 read channels 2–3."; !strings.Contains(got.Explain, want) {
		t.Errorf("the grouped detail view explains %q, want %q in it", got.Explain, want)
	}
	if got.Kernels != "in 2,in 3" || got.Ranks != "2,3" {
		t.Errorf("the grouped detail view shows kernels %q and ranks input channels %q, want %q and %q", got.Kernels, got.Ranks, "in 2,in 3", "2,3")
	}
	if !strings.Contains(got.Hint, "only input channels 2–3 of the 4") {
		t.Errorf("the ranked channels say %q, want that only channels 2–3 feed the map", got.Hint)
	}
	l := m.Layers[1].(*nn.Conv2D)
	check := func(what string) {
		t.Helper()
		p.checkArithmetic(what)
		type cell struct {
			Pixel    [2]int
			Input    []float32
			Full     bool
			Computed float64
		}
		c := browser.Eval[cell](p.Browser, `({Pixel: window.convnetState.detail.pixel, Input: [...window.convnetState.values[0].v],
			Full: window.convnetState.values[0].full, Computed: Number(document.querySelector("#calc .eq b").dataset.v)})`)
		if !c.Full || len(c.Input) != 32*32*4 {
			t.Fatalf("%s arithmetic: the page holds %d values of the depthwise output (exact: %v), want the 4096 exact ones", what, len(c.Input), c.Full)
		}
		x := tensor.FromData(c.Input, 32, 32, 4)
		want := math.Tanh(groupedSum(l, x, c.Pixel[0], c.Pixel[1], 4))
		if math.Abs(c.Computed-want) > 1e-5 {
			t.Errorf("%s arithmetic at %v: tanh(z) = %.7g, want %.7g from the test's sum over input channels 2–3", what, c.Pixel, c.Computed, want)
		}
		if calc := browser.Eval[string](p.Browser, `document.getElementById("calc").textContent`); !strings.Contains(calc, "sum over the 2 input channels 2–3 of group 1") {
			t.Errorf("%s arithmetic does not say which channels it sums: %q", what, calc)
		}
	}
	check("the grouped convolution's")
	p.Do("scrolling to the arithmetic", chromedp.Evaluate[chromedp.Void](`document.getElementById("calc").scrollIntoView()`))
	p.View("grouped.png")
	p.Do("clicking the bottom right pixel", chromedp.Evaluate[chromedp.Void](`(() => { const m = document.getElementById("detailMap"), r = m.getBoundingClientRect();
		m.dispatchEvent(new MouseEvent("click", {bubbles: true, clientX: r.right - 1, clientY: r.bottom - 1})); })()`))
	p.WaitFor("the corner's arithmetic", `document.getElementById("calc").textContent.includes("Pixel (row 15, column 15)")`)
	check("the grouped corner's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
}
