package web

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// whatIfCase is a window (for a pooling), stride, padding and dilation (for
// a convolution) chosen, the size of the map they make and the page's
// account of it.
type whatIfCase struct {
	window, stride, dilation int
	padding                  string
	size                     int
	sizeLine                 string
}

// checkWhatIf opens channel ch of block b's convolution or pooling and
// chooses other windows, strides, paddings and dilations: the map the page
// computes must be the one the layer of that geometry computes from the same
// input (nn.Conv2D with the layer's kernel, through its activation; a
// pooling of nn). A case of size 0 is one the page refuses, saying so.
func checkWhatIf(p page, m *served, b, ch int, cases ...whatIfCase) {
	p.t.Helper()
	p.Do("clicking a feature map for the what-if", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.block[data-block="%d"] canvas.tile[data-channel="%d"]`, b, ch))))
	p.WaitFor("the what-if choices", `!document.getElementById("detail").hidden && !document.getElementById("whatif").hidden &&
		(window.convnetState.model.layers[window.convnetState.detail.layer].type.endsWith("Pooling2D") || !!window.convnetState.detail.kernel)`)
	li := browser.Eval[int](p.Browser, `window.convnetState.detail.layer`)
	own := m.m.Layers[li]
	for _, c := range cases {
		what := fmt.Sprintf("%s's channel %d with window %d, stride %d, %s padding, dilation %d", own.Name(), ch, c.window, c.stride, c.padding, c.dilation)
		p.Do("choosing "+what, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			for (const [id, v] of [["wiSize", "%d"], ["wiStride", "%d"], ["wiPad", %q], ["wiDilation", "%d"]]) if (v !== "0") document.getElementById(id).value = v;
			document.getElementById("wiDilation").dispatchEvent(new Event("change")); })()`, c.window, c.stride, c.padding, c.dilation)))
		if c.size == 0 { // refused
			p.WaitFor(what, fmt.Sprintf(`document.getElementById("wihint").textContent.includes(%q) && document.getElementById("slideOut").dataset.filled === "0"`, c.sizeLine))
			continue
		}
		p.WaitFor(what, fmt.Sprintf(`(() => { const w = window.convnetState.detail.whatif; return w && w.values && w.shape[0] === %d && Number(document.getElementById("slideOut").dataset.filled) === %d; })()`, c.size, c.size*c.size))
		got := browser.Eval[struct {
			Shape  []int
			Values []float64
			In     struct {
				Shape []int
				V     []float32
			}
			Hint string
		}](p.Browser, `(() => { const d = window.convnetState.detail, s = window.convnetState, j = s.model.layers[d.layer].inbound[0], t = j < 0 ? s.input : s.values[j];
			return {shape: d.whatif.shape, values: Array.from(d.whatif.values), in: {shape: t.shape, v: Array.from(t.v)}, hint: document.getElementById("wihint").textContent}; })()`)
		p.View(fmt.Sprintf("whatif-%s-%d.png", own.Name(), c.size))
		if !strings.Contains(got.Hint, c.sizeLine) {
			p.t.Errorf("%s: the hint %q, want %q", what, got.Hint, c.sizeLine)
		}
		strides, window := [2]int{c.stride, c.stride}, [2]int{c.window, c.window}
		var l nn.Layer
		switch own := own.(type) {
		case *nn.Conv2D:
			l = &nn.Conv2D{Filters: own.Filters, KernelSize: own.KernelSize, Strides: strides, DilationRate: [2]int{c.dilation, c.dilation},
				Padding: c.padding, Groups: own.Groups, NoBias: own.NoBias, Activation: own.Activation}
		case *nn.DepthwiseConv2D:
			l = &nn.DepthwiseConv2D{KernelSize: own.KernelSize, Strides: strides, DilationRate: [2]int{c.dilation, c.dilation}, Padding: c.padding,
				DepthMultiplier: own.DepthMultiplier, NoBias: own.NoBias, Activation: own.Activation}
		case *nn.MaxPool2D:
			l = &nn.MaxPool2D{PoolSize: window, Strides: strides, Padding: c.padding}
		case *nn.AveragePooling2D:
			l = &nn.AveragePooling2D{PoolSize: window, Strides: strides, Padding: c.padding}
		default:
			p.t.Fatalf("block %d computes with layer %d, a %s; want a convolution or a pooling", b, li, own.Type())
		}
		out, err := l.Build(got.In.Shape, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			p.t.Fatal(err)
		}
		for i, w := range own.Params() {
			copy(l.Params()[i].Value.Data, w.Value.Data)
		}
		y := l.Forward(tensor.FromData(got.In.V, append([]int{1}, got.In.Shape...)...), false)
		if fmt.Sprint(got.Shape) != fmt.Sprint(out[:2]) || len(got.Values) != out[0]*out[1] {
			p.t.Errorf("%s: a map of %v (%d values), want nn's %v", what, got.Shape, len(got.Values), out)
			continue
		}
		worst := 0.0
		for i, v := range got.Values {
			want := float64(y.Data[i*out[2]+ch])
			worst = max(worst, math.Abs(v-want)/(1+math.Abs(want)))
		}
		if worst > 1e-4 {
			p.t.Errorf("%s: the page's map differs from nn.Conv2D's by up to %.2g (relative)", what, worst)
		}
	}
	p.Do("back to the layer's own", chromedp.Click(chromedp.CSS("#wiReset")))
	if hint := browser.Eval[string](p.Browser, `document.getElementById("wihint").textContent`); hint != "" {
		p.t.Errorf("the layer's own geometry still explained: %q", hint)
	}
	p.Do("closing the what-if's detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
}
