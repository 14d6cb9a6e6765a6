package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
)

// checkStats opens channel ch of block b and reads "the whole layer": the
// histogram of the block's values for the drawing must bin the page's exact
// values as distributionOf's brute-force twin does, with the share of zeros
// a relu made; each weight's histogram must be the server's distribution of
// the served model's weight. It closes the detail view.
func checkStats(p page, m *served, b, ch int, relu bool) {
	p.t.Helper()
	p.Do("clicking a feature map for the layer's statistics", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.block[data-block="%d"] canvas.tile[data-channel="%d"]`, b, ch))))
	p.WaitFor("the layer's statistics", `(() => { const d = window.convnetState.detail, t = d && window.convnetState.values[d.shown];
		return !document.getElementById("statsBox").hidden && document.getElementById("weightStats").dataset.layer === String(d.layer) &&
			t && t.full && document.getElementById("valueStats").dataset.count !== undefined; })()`)
	got := browser.Eval[struct {
		Layer, Shown int
		Values       []float32
		Shape        []int
		Off          string
		Counts       string
		Caption      string
		Weights      []string
		Captions     []string
	}](p.Browser, `(() => { const s = window.convnetState, d = s.detail, v = document.getElementById("valueStats");
		const figs = [...document.querySelectorAll("#weightStats figure")];
		return {layer: d.layer, shown: d.shown, values: Array.from(s.values[d.shown].v), shape: s.values[d.shown].shape, off: v.dataset.off, counts: v.querySelector("canvas").dataset.counts,
			caption: v.textContent, weights: figs.map(f => f.querySelector("canvas").dataset.counts), captions: figs.map(f => f.textContent)}; })()`)
	p.Do("showing the layer's statistics", chromedp.Evaluate[chromedp.Void](`document.getElementById("statsBox").scrollIntoView()`))
	p.View(fmt.Sprintf("stats-%s-%d.png", m.name, b))
	want := wantDistribution(got.Values)
	if got.Counts != joinInts(want.Counts) {
		p.t.Errorf("%s block %d: the values' histogram %s, want %s", m.name, b, got.Counts, joinInts(want.Counts))
	}
	if n := len(got.Values); n == 0 || !strings.Contains(got.Caption, fmt.Sprintf("%d values for this drawing", n)) {
		p.t.Errorf("%s block %d: caption %q, want its %d values", m.name, b, got.Caption, n)
	}
	if relu != strings.Contains(got.Caption, "the relu turned those off") || (relu && want.Zeros == 0) {
		p.t.Errorf("%s block %d: caption %q with %d zeros, want the relu's zeros named: %v", m.name, b, got.Caption, want.Zeros, relu)
	}
	if len(got.Shape) == 3 { // the maps that are 0 everywhere
		h, w, c := got.Shape[0], got.Shape[1], got.Shape[2]
		off := 0
		for k := range c {
			zero := true
			for i := range h * w {
				zero = zero && got.Values[i*c+k] == 0
			}
			if zero {
				off++
			}
		}
		if got.Off != strconv.Itoa(off) || (off > 0 && !strings.Contains(got.Caption, fmt.Sprintf("%d of its %d maps are 0 everywhere", off, c))) {
			p.t.Errorf("%s block %d: %s maps off, caption %q; want %d", m.name, b, got.Off, got.Caption, off)
		}
		p.t.Logf("%s block %d: %d of %d maps are 0 everywhere for the drawing", m.name, b, off, c)
	}
	params := m.m.Layers[got.Layer].Params()
	if len(got.Weights) != len(params) {
		p.t.Fatalf("%s layer %d: %d weight histograms, want %d", m.name, got.Layer, len(got.Weights), len(params))
	}
	for j, prm := range params {
		w := distributionOf(prm.Value.Data)
		if got.Weights[j] != joinInts(w.Counts) || !strings.HasPrefix(got.Captions[j], m.m.Layers[got.Layer].Name()+"'s "+prm.Name+" ") || !strings.Contains(got.Captions[j], strconv.Itoa(w.Count)+" weights") {
			p.t.Errorf("%s layer %d's %s: histogram %s, caption %q; want %s and %d weights", m.name, got.Layer, prm.Name, got.Weights[j], got.Captions[j], joinInts(w.Counts), w.Count)
		}
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
