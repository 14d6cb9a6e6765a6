package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// checkDetail opens the detail drawer of a block's feature map: the
// arithmetic of a pixel through the block, the kernel sliding over its
// input (play, pause, step), and the input channels ranked by what they
// feed it.
func checkDetail(p page) {
	t := p.t
	t.Helper()
	p.Do("clicking a feature map", chromedp.Click(chromedp.CSS(`.block[data-block="0"] canvas.tile[data-channel="1"]`)))
	p.WaitFor("the detail view", `!document.getElementById("detail").hidden && document.querySelectorAll("#kernels canvas").length > 0 && document.getElementById("calc").textContent.includes("network's value")`)
	p.checkArithmetic("the first block's")
	p.WaitFor("what the channel looks for", `!document.getElementById("patternBox").hidden`)
	if cap := browser.Eval[string](p.Browser, `document.getElementById("patterncap").textContent`); !strings.Contains(cap, "re_lu's channel 1") || !strings.Contains(cap, "gradient ascent") {
		t.Errorf("the pattern's caption %q, want re_lu's channel 1 and gradient ascent", cap)
	}
	if calc := browser.Eval[string](p.Browser, `document.getElementById("calc").textContent`); !strings.Contains(calc, "Then, in the block") {
		t.Errorf("the first block's detail view does not follow the value through the block: %q", calc)
	}

	// The kernel slides over the input and fills in the output.
	p.Do("playing the convolution", chromedp.Click(chromedp.CSS("#slidePlay")))
	p.WaitFor("the sliding kernel", `Number(document.getElementById("slideOut").dataset.filled) >= 12`)
	p.View("slide.png")
	p.Do("pausing the convolution", chromedp.Click(chromedp.CSS("#slidePlay")))
	filled := browser.Eval[int](p.Browser, `Number(document.getElementById("slideOut").dataset.filled)`)
	time.Sleep(300 * time.Millisecond)
	if now := browser.Eval[int](p.Browser, `Number(document.getElementById("slideOut").dataset.filled)`); now != filled {
		t.Errorf("paused at %d filled cells, then %d", filled, now)
	}
	p.Do("one step", chromedp.Click(chromedp.CSS("#slideStep")))
	p.WaitFor("the step", fmt.Sprintf(`Number(document.getElementById("slideOut").dataset.filled) === %d`, filled+1))
	pixel := browser.Eval[[2]int](p.Browser, `window.convnetState.detail.pixel`)
	if w := 32; pixel != [2]int{filled / w, filled % w} {
		t.Errorf("after %d cells the window is at %v, want (%d, %d)", filled+1, pixel, filled/w, filled%w)
	}
	p.WaitFor("the arithmetic of the new pixel", `document.getElementById("calc").textContent.includes("network's value")`)
	p.checkArithmetic("the stepped pixel's")
	p.View("detail.png")

	// The second block's convolution takes 32 channels: ranked, and one
	// followed.
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.Do("clicking a second block feature map", chromedp.Click(chromedp.CSS(`.block[data-block="1"] canvas.tile[data-channel="0"]`)))
	// The list is drawn again when the kernel, the layer's exact values and
	// the activation's value (the second number of the arithmetic) arrive:
	// wait for all three before clicking.
	p.WaitFor("the ranked input channels", `document.querySelectorAll("#ranks button").length === 8 && window.convnetState.detail.kernel && !window.convnetState.inflight && !window.convnetState.dirty && document.querySelectorAll("#calc .eq b").length === 2`)
	ch := browser.Eval[int](p.Browser, `Number(document.querySelectorAll("#ranks button")[2].dataset.channel)`)
	// A click in the page itself: the list may still be drawn again (a
	// mouse click between finding the button and pressing it then fails
	// with "Could not find node").
	browser.Eval[bool](p.Browser, `(() => { document.querySelector("#ranks li:nth-child(3) button").click(); return true; })()`)
	p.WaitFor("its arithmetic", fmt.Sprintf(`document.getElementById("calc").textContent.includes("Input channel %d:")`, ch))
	p.checkArithmetic("the followed channel's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.WaitFor("the closed drawer", `document.getElementById("detail").hidden`)
}

// depthwiseModel is a small untrained model whose DepthwiseConv2D gives
// two maps per input map, strided, with "same" padding of one cell above
// and to the left (31x31 in, 16x16 out), and a tanh, which unlike a relu
// hides no wrong sum behind a 0. Biases of their own, all different, tell
// the channels apart and the padding from the background.
func depthwiseModel(t testing.TB) *model.Sequential {
	return ahcdStack(t, 2,
		&nn.Conv2D{Filters: 3, KernelSize: [2]int{2, 2}},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", DepthMultiplier: 2, Activation: "tanh"},
		&nn.Flatten{},
		&nn.Dense{Units: 28, Activation: "softmax"},
	)
}

// checkDepthwise opens output channel 5 of the depthwise convolution,
// which reads input channel 2 alone: its one kernel, its one input
// channel, under the sliding window too, and its arithmetic at the centre
// and at the corner, where the window covers padding.
func checkDepthwise(p page, url string) {
	t := p.t
	t.Helper()
	p.load(url, "depthwise")
	p.draw("drawing on the depthwise model", placeGlyph(letterGlyphs[5], drawSizes[0], "centre"))
	p.openBlock("DepthwiseConv2D", 5)
	p.WaitFor("the depthwise arithmetic", `document.getElementById("calc").textContent.includes("Input channel 2, the only one") && document.getElementById("calc").textContent.includes("network's value")`)
	p.checkArithmetic("the depthwise convolution's")
	type drawer struct{ Explain, Kernels, Slide string }
	got := browser.Eval[drawer](p.Browser, `({Explain: document.getElementById("detailExplain").textContent,
		Kernels: [...document.querySelectorAll("#kernels .kcell")].map(c => c.textContent).join(",") + " | " + [...document.querySelectorAll("#ranks button")].map(b => b.dataset.channel).join(","),
		Slide: document.getElementById("slideInCap").textContent})`)
	if !strings.Contains(got.Explain, "depthwise") || !strings.Contains(got.Explain, "tiles 0–1 come from map 0, tiles 2–3 from map 1") {
		t.Errorf("the depthwise detail view explains %q", got.Explain)
	}
	if got.Kernels != "in 2 | 2" {
		t.Errorf("the depthwise detail view shows kernels and input channels %q, want %q", got.Kernels, "in 2 | 2")
	}
	if !strings.Contains(got.Slide, "channel 2 (the only one it reads)") {
		t.Errorf("the depthwise window slides over %q, want input channel 2", got.Slide)
	}
	p.Do("scrolling to the arithmetic", chromedp.Evaluate[chromedp.Void](`document.getElementById("calc").scrollIntoView()`))
	p.View("depthwise.png")
	p.Do("the window back at the corner", chromedp.Click(chromedp.CSS("#slideReset")))
	p.WaitFor("the corner's arithmetic", `document.getElementById("calc").textContent.includes("Pixel (row 0, column 0)")`)
	p.checkArithmetic("the depthwise corner's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
}

// checkConfusion clicks a confusion cell and loads one of its test images.
func checkConfusion(p page) {
	p.t.Helper()
	p.Do("scrolling to the model panel", chromedp.ScrollIntoView(chromedp.CSS("#confusion")))
	cbox := p.Box("#confusion")
	geo := browser.Eval[struct{ Left, Top, Cell float64 }](p.Browser, `window.convnetState.confusion`)
	scale := cbox.W / 420                                                               // the canvas is 420 pixels wide
	cx, cy := cbox.X+(geo.Left+1.5*geo.Cell)*scale, cbox.Y+(geo.Top+1.5*geo.Cell)*scale // cell (1, 1)
	p.Do("clicking a confusion cell", chromedp.MouseClickXY(cx, cy))
	p.WaitFor("the test images of a confusion cell", `document.querySelectorAll("#samples canvas").length > 0`)
	p.Do("pointing at the cell", chromedp.MouseEvent(chromedp.MouseMoved, cx+1, cy))
	p.WaitFor("the tooltip", `!document.getElementById("tooltip").hidden`)
	if tip := browser.Eval[string](p.Browser, `document.getElementById("tooltip").textContent`); !strings.Contains(tip, "\u2068") {
		p.t.Errorf("the confusion tooltip %q does not isolate the class names", tip)
	}
	before := p.updates()
	p.Do("clicking a test image", chromedp.Click(chromedp.CSS("#samples canvas")))
	p.settled("the test image", before)
	if top := p.top(); len(top) == 0 || top[0].Label != 1 {
		p.t.Errorf("a test image of class 1 (classified right): top %+v", top)
	}
	p.Screenshot("panel.png")
}
