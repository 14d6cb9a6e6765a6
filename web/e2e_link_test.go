package web

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
)

// linkView is what a link must bring back.
type linkView struct {
	Hash     string
	Strokes  string // the pad's strokes, as JSON
	Top      string // the answer's top classes and probabilities, as JSON
	Saliency bool
	Detail   []int // shown layer, channel, pixel row and column
	Values   []float32
}

const readLinkView = `(() => { const s = window.convnetState, d = s.detail;
	return {hash: location.hash, strokes: JSON.stringify(s.pad.strokes), top: JSON.stringify(s.answer.top), saliency: document.getElementById("saliency").checked,
		detail: d ? [d.shown, d.channel, ...d.pixel] : [], values: d ? Array.from(s.values[d.shown].v) : []}; })()`

// checkLink draws on the AHCD model, turns saliency on, opens a channel of
// the second block at a pixel of its own, and opens the address the page
// then has in a fresh page: the same strokes, the same answer to the last
// digit, saliency on, the same detail view at the same pixel, the same
// values. A link with a broken drawing and a layer the model lacks says so
// and shows the rest.
func checkLink(p page, url string) {
	p.t.Helper()
	p.load(url, "ahcd")
	p.draw("drawing a jeem for the link", placeGlyph(letterGlyphs[3], drawSizes[1], "centre")) // jeem
	before := p.updates()
	p.Do("turning saliency on", chromedp.Click(chromedp.CSS("#saliency")))
	p.settled("the saliency map", before)
	p.Do("clicking a map for the link", chromedp.Click(chromedp.CSS(`.block[data-block="1"] canvas.tile[data-channel="4"]`)))
	p.WaitFor("the detail view", `!document.getElementById("detail").hidden && !!window.convnetState.detail.pixel`)
	box := p.Box("#detailMap")
	p.Do("picking pixel (5, 9)", chromedp.MouseClickXY(box.X+9.5*box.W/32, box.Y+5.5*box.H/32))
	ready := `(() => { const s = window.convnetState, d = s.detail; return d && d.pixel && d.pixel[0] === 5 && d.pixel[1] === 9 &&
		s.values[d.shown] && s.values[d.shown].full && !s.inflight && !s.dirty && location.hash.includes("px=5.9"); })()`
	p.WaitFor("the pixel's view", ready)
	want := browser.Eval[linkView](p.Browser, readLinkView)
	if !strings.Contains(want.Hash, "m=ahcd") || !strings.Contains(want.Hash, "sal=1") || !strings.Contains(want.Hash, "&s=") || len(want.Values) == 0 {
		p.t.Fatalf("the address after drawing and opening a map: %q", want.Hash)
	}
	p.Do("opening the link in a fresh page", chromedp.Navigate("about:blank"), chromedp.Navigate(url+"/"+want.Hash), chromedp.WaitVisible(chromedp.CSS("#pad")))
	p.WaitFor("the linked view", `window.convnetState && window.convnetState.model && window.convnetState.updates > 0 && `+ready+
		` && !document.getElementById("salwrap").hidden`)
	p.View("link.png")
	got := browser.Eval[linkView](p.Browser, readLinkView)
	if got.Strokes != want.Strokes {
		p.t.Errorf("the linked pad's strokes differ from the drawing's")
	}
	if got.Top != want.Top || got.Hash != want.Hash || !got.Saliency || fmt.Sprint(got.Detail) != fmt.Sprint(want.Detail) {
		gb, _ := json.Marshal(got)
		p.t.Errorf("the linked view: %.300s\nwant top %s, saliency, detail %v, address %q", gb, want.Top, want.Detail, want.Hash)
	}
	for i := range want.Values {
		if got.Values[i] != want.Values[i] {
			p.t.Fatalf("the linked view's value %d of layer %d: %v, want %v", i, want.Detail[0], got.Values[i], want.Values[i])
		}
	}

	p.Do("opening a broken link", chromedp.Navigate("about:blank"), chromedp.Navigate(url+"/#m=ahcd&s=AQAg&d=99.0&sal=1"), chromedp.WaitVisible(chromedp.CSS("#pad")))
	p.WaitFor("the broken link's message", `document.getElementById("message") && document.getElementById("message").textContent.includes("could not be shown")`)
	msg := browser.Eval[string](p.Browser, `document.getElementById("message").textContent`)
	if !strings.Contains(msg, "the drawing (the drawing is cut short) and layer 99.0 could not be shown on ahcd") {
		p.t.Errorf("a broken link: %q", msg)
	}
	if !browser.Eval[bool](p.Browser, `document.getElementById("saliency").checked && document.getElementById("detail").hidden`) {
		p.t.Error("a broken link: want saliency on and no detail view")
	}
	p.Do("opening a link with a test image of no size", chromedp.Navigate("about:blank"), chromedp.Navigate(url+"/#m=ahcd&i=0.0.1."), chromedp.WaitVisible(chromedp.CSS("#pad")))
	p.WaitFor("the broken image's message", `document.getElementById("message") && document.getElementById("message").textContent.includes("could not be shown")`)
	if msg := browser.Eval[string](p.Browser, `document.getElementById("message").textContent`); !strings.Contains(msg, "the drawing (the test image's size 0×0×1) could not be shown") {
		p.t.Errorf("a link with a test image of no size: %q", msg)
	}
}
