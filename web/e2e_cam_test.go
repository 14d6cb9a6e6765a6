package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// checkCAM turns the class activation map on over the small jeem drawn on
// the AHCD model: HiResCAM's map of the last convolution's block, orange
// cells over the framed input and the drawing, then Grad-CAM's, then the
// occlusion map of the input.
func checkCAM(p page) {
	p.t.Helper()
	before := p.updates()
	p.Do("turning the regions on", chromedp.Click(chromedp.CSS("#cam")))
	p.settled("the class activation map", before)
	p.WaitFor("the class activation map", `!document.getElementById("camwrap").hidden`)
	hint := browser.Eval[string](p.Browser, `document.getElementById("camhint").textContent`)
	if !strings.Contains(hint, "re_lu_5 (8×8) whose features raise the score of ج (jeem)") || !strings.Contains(hint, "HiResCAM") {
		p.t.Errorf("HiResCAM's hint %q, want the cells of re_lu_5 (8×8) that raise jeem's score", hint)
	}
	// Orange cells on the map beside the input and over the drawing.
	orange := func(id string) int {
		return browser.Eval[int](p.Browser, `(() => { const c = document.getElementById("`+id+`"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
			let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 90 && d[i + 1] < 200 && d[i + 2] < 80 && d[i + 3] > 100) n++; return n; })()`)
	}
	if n, o := orange("cammap"), orange("overlay"); n == 0 || o == 0 {
		p.t.Errorf("HiResCAM: %d orange pixels on the map, %d over the drawing; want some on both", n, o)
	}
	p.Screenshot("cam.png")
	before = p.updates()
	p.Do("choosing Grad-CAM", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("cammethod");
		s.value = "gradcam"; s.dispatchEvent(new Event("change")); })()`))
	p.settled("Grad-CAM's map", before)
	if hint := browser.Eval[string](p.Browser, `document.getElementById("camhint").textContent`); !strings.Contains(hint, "(Grad-CAM)") {
		p.t.Errorf("Grad-CAM's hint %q, want it named", hint)
	}
	// An earlier layer: the first convolution's block, 32x32.
	before = p.updates()
	p.Do("choosing the first block", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("camlayer");
		s.value = [...s.options].find((o) => o.text.startsWith("re_lu (")).value; s.dispatchEvent(new Event("change")); })()`))
	p.settled("the first block's map", before)
	if hint := browser.Eval[string](p.Browser, `document.getElementById("camhint").textContent`); !strings.Contains(hint, "re_lu (32×32)") {
		p.t.Errorf("the first block's hint %q, want re_lu (32×32)", hint)
	}
	// The occlusion test: a map of the input, whatever layer is chosen.
	before = p.updates()
	p.Do("choosing occlusion", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("cammethod");
		s.value = "occlusion"; s.dispatchEvent(new Event("change")); })()`))
	p.settled("the occlusion map", before)
	if hint := browser.Eval[string](p.Browser, `document.getElementById("camhint").textContent`); !strings.Contains(hint, "lowers the probability of ج (jeem) most") || !strings.Contains(hint, "occlusion test") {
		p.t.Errorf("occlusion's hint %q, want where hiding lowers jeem's probability", hint)
	}
	if n := orange("cammap"); n == 0 || !browser.Eval[bool](p.Browser, `document.getElementById("camlayer").hidden`) {
		p.t.Errorf("occlusion: %d orange pixels on the map, the layer's choice hidden %v; want some, and hidden", n, browser.Eval[bool](p.Browser, `document.getElementById("camlayer").hidden`))
	}
	p.Screenshot("occlusion.png")
	before = p.updates()
	p.Do("turning the regions off", chromedp.Click(chromedp.CSS("#cam")))
	p.settled("no class activation map", before)
	if !browser.Eval[bool](p.Browser, `document.getElementById("camwrap").hidden`) {
		p.t.Error("the regions turned off still show")
	}
}

// denseModel is a small untrained network without a convolution: no maps
// for a class activation map to weigh.
func denseModel(t *testing.T) *model.Sequential {
	return ahcdStack(t, 0, &nn.Flatten{}, &nn.Dense{Units: 16, Activation: "relu"}, &nn.Dense{Units: 28, Activation: "softmax"})
}

// checkDenseRegions turns the regions on for a network without a
// convolution: only the occlusion test applies, and it draws its map.
func checkDenseRegions(p page, url string) {
	p.t.Helper()
	p.load(url, "dense")
	p.draw("drawing on the dense model", placeGlyph(letterGlyphs[3], drawSizes[0], "centre"))
	methods := browser.Eval[[]string](p.Browser, `[...document.getElementById("cammethod").options].filter(o => !o.disabled).map(o => o.value)`)
	if browser.Eval[bool](p.Browser, `document.getElementById("cam").disabled`) || len(methods) != 1 || methods[0] != "occlusion" {
		p.t.Errorf("a model without convolution: regions disabled %v, methods offered %v; want the regions on offer, by occlusion alone",
			browser.Eval[bool](p.Browser, `document.getElementById("cam").disabled`), methods)
	}
	before := p.updates()
	p.Do("turning the dense model's regions on", chromedp.Click(chromedp.CSS("#cam")))
	p.settled("the dense model's occlusion map", before)
	p.WaitFor("the dense model's occlusion map", `!document.getElementById("camwrap").hidden`)
	if hint := browser.Eval[string](p.Browser, `document.getElementById("camhint").textContent`); !strings.Contains(hint, "occlusion test") {
		p.t.Errorf("the dense model's regions: hint %q, want the occlusion test's", hint)
	}
	if n := browser.Eval[int](p.Browser, `(() => { const d = document.getElementById("cammap").getContext("2d").getImageData(0, 0, 32, 32).data;
		let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 90 && d[i + 1] < 200 && d[i + 2] < 80 && d[i + 3] > 100) n++; return n; })()`); n == 0 {
		p.t.Error("the dense model's occlusion map has no orange pixel")
	}
	p.Do("turning the dense model's regions off", chromedp.Click(chromedp.CSS("#cam")))
}
