package web

import (
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
)

// checkEmbedding scrolls to the map of the test images, with the beh test
// image of checkConfusion on the pad: every point is drawn, the drawing
// lands among test images of beh, and pointing at a point shows its image
// and classes.
func checkEmbedding(p page, m *served) {
	t := p.t
	t.Helper()
	p.Do("scrolling to the map of the test images", chromedp.ScrollIntoView(chromedp.CSS("#embedwrap")))
	p.WaitFor("the map", `window.convnetState.embedding && document.getElementById("embedhint").textContent.includes("t-SNE")`)
	p.WaitFor("the drawing on the map", `!!document.getElementById("embedding").dataset.placed`)
	n := browser.Eval[int](p.Browser, `window.convnetState.embedding.points.length`)
	if n != len(m.evaluation.Samples) {
		t.Errorf("the map shows %d points, want the %d test images of the evaluation", n, len(m.evaluation.Samples))
	}
	var near []int
	for _, s := range strings.Split(browser.Eval[string](p.Browser, `document.getElementById("embedding").dataset.placed`), ",") {
		var i int
		fmt.Sscan(s, &i)
		near = append(near, m.evaluation.Samples[i].True)
	}
	beh := 0
	for _, c := range near {
		if c == 1 {
			beh++
		}
	}
	if len(near) != neighbours || beh < 3 {
		t.Errorf("a beh test image on the pad lands among test images of classes %v, want mostly beh (1)", near)
	}
	p.View("embedding.png")
	// Point 0 on the screen.
	at := browser.Eval[[2]float64](p.Browser, `(() => { const e = window.convnetState.embedding, c = document.getElementById("embedding"), r = c.getBoundingClientRect(), [x, y] = e.at(e.points[0].x, e.points[0].y);
		return [r.left + x * r.width / c.width, r.top + y * r.height / c.height]; })()`)
	p.Do("pointing at a test image on the map", chromedp.MouseEvent(chromedp.MouseMoved, at[0], at[1]))
	p.WaitFor("its tooltip", `!document.getElementById("tooltip").hidden && document.querySelector("#tooltip canvas.tipimage") !== null`)
	if tip := browser.Eval[string](p.Browser, `document.getElementById("tooltip").textContent`); !strings.Contains(tip, "test image #") {
		t.Errorf("the map's tooltip %q", tip)
	}
}
