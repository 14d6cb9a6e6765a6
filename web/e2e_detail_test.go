package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
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
	// The list is drawn again when the kernel and the layer's exact values
	// arrive: wait for both before clicking.
	p.WaitFor("the ranked input channels", `document.querySelectorAll("#ranks button").length === 8 && window.convnetState.detail.kernel && !window.convnetState.inflight && !window.convnetState.dirty`)
	ch := browser.Eval[int](p.Browser, `Number(document.querySelectorAll("#ranks button")[2].dataset.channel)`)
	p.Do("following the third input channel", chromedp.Click(chromedp.CSS(`#ranks li:nth-child(3) button`)))
	p.WaitFor("its arithmetic", fmt.Sprintf(`document.getElementById("calc").textContent.includes("Input channel %d:")`, ch))
	p.checkArithmetic("the followed channel's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.WaitFor("the closed drawer", `document.getElementById("detail").hidden`)
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
