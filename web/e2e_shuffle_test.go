package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// shuffleModel is a small untrained graph with ShuffleNet's channel split
// and shuffle: its input rescaled from 0..1 to -1..1 ("rescale", with a SpatialDropout2D folded into its block), the 4 maps of a convolution split by two ChannelSlice
// layers, "keep" (channels 0–1) and "branch" (2–3), the branch convolved,
// joined again ("cat") and shuffled in 2 groups ("shuffle"); a grouped
// convolution shuffled in 3 groups; then the channel means, a vector,
// sliced ("pick", units 1–4) and shuffled in 2 groups ("mix"). Biases of
// their own, all different, tell the channels apart, as in depthwiseModel.
func shuffleModel(t *testing.T) *model.Sequential {
	named := func(l nn.Layer, name string) nn.Layer {
		l.SetName(name)
		return l
	}
	in := model.Input(32, 32, 1)
	x := model.Call(&nn.SpatialDropout2D{Rate: 0.5}, model.Call(named(&nn.Rescaling{Scale: 2, Offset: -1}, "rescale"), in))
	x = model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Activation: "tanh"}, x)
	keep := model.Call(named(&nn.ChannelSlice{Start: 0, End: 2}, "keep"), x)
	b := model.Call(named(&nn.ChannelSlice{Start: 2, End: 4}, "branch"), x)
	b = model.Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "tanh"}, b)
	x = model.Call(named(&nn.ChannelShuffle{Groups: 2}, "shuffle"), model.Call(named(&nn.Concatenate{}, "cat"), keep, b))
	x = model.Call(&nn.Conv2D{Filters: 6, KernelSize: [2]int{1, 1}, Groups: 2, Activation: "tanh"}, x)
	v := model.Call(&nn.GlobalAveragePooling2D{}, model.Call(&nn.ChannelShuffle{Groups: 3}, x))
	v = model.Call(named(&nn.ChannelShuffle{Groups: 2}, "mix"), model.Call(named(&nn.ChannelSlice{Start: 1, End: 5}, "pick"), v))
	m := ahcdGraph(t, in, v)
	for _, l := range m.Layers {
		if p := param(l, "bias"); p != nil && l.Type() == "Conv2D" {
			for i := range p.Value.Data {
				p.Value.Data[i] = 0.05 * float32(i+1)
			}
		}
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// checkShuffle opens the channel split and shuffle of shuffleModel: the
// rows' explanations; the rescaling's arithmetic; the shuffle's tile 1 drawn as the concatenation's
// tile 2, which it is, in the row and in the detail view; the arithmetic
// of a shuffled pixel (in the centre and in a corner), of a sliced one,
// and of a shuffled unit of a vector, each naming the input channel it
// copies, whose value must be the network's.
func checkShuffle(p page, url string) {
	t := p.t
	t.Helper()
	p.load(url, "shuffle")
	p.draw("drawing on the shuffle model", placeGlyph(letterGlyphs[5], drawSizes[0], "centre"))
	block := `(name) => window.convnetState.blocks.find(b => window.convnetState.model.layers[b.head].name === name)`

	meta := browser.Eval[map[string]string](p.Browser, `(() => { const block = `+block+`, out = {};
		for (const name of ["rescale", "branch", "shuffle", "mix"]) out[name] = block(name).el.querySelector(".meta").textContent;
		return out; })()`)
	for name, want := range map[string][]string{
		"rescale": {"Multiplies every value by 2 and adds -1: the same change everywhere, nothing learned. Dropout of whole maps (training only)."},
		"branch":  {"Keeps channels 2–3 of its input and drops the others: tile k is input channel 2 + k", "ShuffleNet v2 splits the channels in two"},
		"shuffle": {"Cuts the 4 channels into 2 groups of 2 and deals them out in turn", "tiles 0–3 are input channels 0, 2, 1, 3 (tile i×2 + k is channel i of group k)", "never mix information across groups"},
		"mix":     {"bars 0–3 are input channels 0, 2, 1, 3"},
	} {
		for _, w := range want {
			if !strings.Contains(meta[name], w) {
				t.Errorf("the %s row says %q, want %q in it", name, meta[name], w)
			}
		}
	}

	// The shuffle's tile 1 is the concatenation's tile 2, drawn with the
	// same colours (the two layers hold the same values).
	tile := `(name, k) => (` + block + `)(name).el.querySelector('canvas.tile[data-channel="' + k + '"]')`
	p.Do("scrolling to the shuffle", chromedp.Evaluate[chromedp.Void](`(`+block+`)("shuffle").el.scrollIntoView()`))
	p.WaitFor("the shuffle's and the concatenation's maps", `(() => { const tile = `+tile+`;
		return ["shuffle", "cat"].every(n => tile(n, 1).getContext("2d").getImageData(0, 0, 1, 1).data[3] === 255); })()`)
	type drawn struct {
		Same, Other bool
		Title       string
	}
	got := browser.Eval[drawn](p.Browser, `(() => { const tile = `+tile+`, px = (cv) => cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data.join();
		return {Same: px(tile("shuffle", 1)) === px(tile("cat", 2)), Other: px(tile("shuffle", 1)) === px(tile("cat", 1)), Title: tile("shuffle", 1).title}; })()`)
	if !got.Same || got.Other {
		t.Errorf("the shuffle's tile 1 is drawn as the concatenation's tile 2: %v, as its tile 1: %v; want true, false", got.Same, got.Other)
	}
	if got.Title != "shuffle, channel 1: input channel 2" {
		t.Errorf("the shuffle's tile 1 is titled %q, want %q", got.Title, "shuffle, channel 1: input channel 2")
	}
	p.View("shuffle.png")

	calc := func(what, want string) {
		t.Helper()
		p.WaitFor(what, fmt.Sprintf(`document.getElementById("calc").textContent.includes(%q) && document.getElementById("calc").textContent.includes("network's value")`, want))
		p.checkArithmetic(what)
	}
	p.openBlock("Rescaling", 0)
	calc("the rescaling's arithmetic", "The input's value at this pixel times 2, plus -1")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.openBlock("ChannelShuffle", 1)
	calc("the shuffle's arithmetic", "channel 1 = 0 × 2 + 1 here is channel 0 of group 1, input channel 1 × 2 + 0 = 2.")
	type drawer struct {
		Explain, Caption string
		Same             bool
	}
	d := browser.Eval[drawer](p.Browser, `(() => { const px = (cv) => cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data.join();
		return {Explain: document.getElementById("detailExplain").textContent, Caption: document.querySelector("#calc figure.copied").textContent,
			Same: px(document.querySelector("#calc canvas.copied")) === px(document.getElementById("detailMap"))}; })()`)
	if !strings.Contains(d.Explain, "deals them out in turn") {
		t.Errorf("the shuffle's detail view explains %q", d.Explain)
	}
	if d.Caption != "cat, channel 2: the same map" || !d.Same {
		t.Errorf("the shuffle's detail view draws %q, the same as its map: %v; want the concatenation's channel 2, the same", d.Caption, d.Same)
	}
	p.Do("scrolling to the arithmetic", chromedp.Evaluate[chromedp.Void](`document.getElementById("calc").scrollIntoView()`))
	p.View("shuffle-detail.png")
	p.Do("clicking the bottom right pixel", chromedp.Evaluate[chromedp.Void](`(() => { const m = document.getElementById("detailMap"), r = m.getBoundingClientRect();
		m.dispatchEvent(new MouseEvent("click", {bubbles: true, clientX: r.right - 1, clientY: r.bottom - 1})); })()`))
	calc("the shuffle's corner arithmetic", "cat (row 15, column 15, channel 2)")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	p.Do("clicking a map of the branch", chromedp.Evaluate[chromedp.Void](`(() => { const b = (`+block+`)("branch");
		b.el.scrollIntoView(); b.el.querySelector('canvas.tile[data-channel="1"]').click(); })()`))
	calc("the slice's arithmetic", "channel 1 here is channel 2 + 1 = 3 there.")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	// Unit 1 of the vector's shuffle is unit 2 of the slice before it.
	p.Do("clicking a bar of the vector's shuffle", chromedp.Evaluate[chromedp.Void](`(() => { const cv = (`+block+`)("mix").el.querySelector("canvas.bars");
		cv.scrollIntoView(); const r = cv.getBoundingClientRect(), step = (cv.width - 8) / 4;
		cv.dispatchEvent(new MouseEvent("click", {bubbles: true, clientX: r.left + (4 + 1.5 * step) * r.width / cv.width, clientY: r.top + r.height / 2})); })()`))
	calc("the vector shuffle's arithmetic", "pick (unit 2)")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
}
