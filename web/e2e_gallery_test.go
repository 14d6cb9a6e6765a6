package web

import (
	"context"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
)

// checkGallery scrolls to the model panel's class patterns: each of the
// 28 is drawn, marked with the class the network reads in it (the
// classifier's own Pattern, asked here), counted in the summary, and a
// click opens the class in the last layer's detail view.
func checkGallery(p page, m *served) {
	t := p.t
	t.Helper()
	n := len(m.classes)
	p.Do("scrolling to the class patterns", chromedp.ScrollIntoView(chromedp.CSS("#gallery")))
	p.WaitFor("the class patterns", fmt.Sprintf(`document.querySelectorAll("#galleryGrid figure:not(.stale)").length === %d && document.getElementById("gallerysum").textContent !== ""`, n))
	last := len(m.m.Layers) - 1
	own := 0
	for c := range n {
		want, err := m.c.Pattern(context.Background(), last, c, model.PatternOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := browser.Eval[struct {
			Top, W, H int
			Wrong     bool
			Caption   string
		}](p.Browser, fmt.Sprintf(`(() => { const f = document.querySelector('#galleryGrid figure[data-class="%d"]'), cv = f.querySelector("canvas");
			return {top: Number(f.dataset.top), w: cv.width, h: cv.height, wrong: f.classList.contains("wrong"), caption: f.textContent}; })()`, c))
		if got.Top != want.Top[0].Label || got.W != 32 || got.H != 32 || got.Wrong != (want.Top[0].Label != c) {
			t.Errorf("class %d's pattern: %+v, want a 32x32 picture read as class %d", c, got, want.Top[0].Label)
		}
		if want.Top[0].Label == c {
			own++
		} else if !strings.Contains(got.Caption, "→") {
			t.Errorf("class %d's pattern, read as %d: caption %q names no other class", c, want.Top[0].Label, got.Caption)
		}
	}
	sum := browser.Eval[string](p.Browser, `document.getElementById("gallerysum").textContent`)
	if !strings.Contains(sum, fmt.Sprintf("takes %d of these %d", own, n)) || own < n/2 {
		t.Errorf("the gallery's summary %q; the classifier reads %d of %d patterns as their class", sum, own, n)
	}
	p.View("gallery.png")
	p.Do("clicking a class pattern", chromedp.Click(chromedp.CSS(`#galleryGrid figure[data-class="13"]`)))
	p.WaitFor("the class's detail view", fmt.Sprintf(`!document.getElementById("detail").hidden && !document.getElementById("patternBox").hidden && window.convnetState.detail.shown === %d && window.convnetState.detail.channel === 13`, last))
	if cap := browser.Eval[string](p.Browser, `document.getElementById("patterncap").textContent`); !strings.Contains(cap, "What the network takes") {
		t.Errorf("the class's pattern caption %q", cap)
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
}
