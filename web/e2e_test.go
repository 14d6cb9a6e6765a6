package web

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
)

// startServer serves s on a free port of 127.0.0.1 until the test ends.
func startServer(t testing.TB, s *Server) string {
	addr, cancel, done := serving(t, s)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + addr
}

// untrained returns a preset's network with its initial weights, for the
// AHCD classes, with the rescaling preprocessing.
func untrained(t *testing.T, preset string) *model.Sequential {
	m, err := model.PresetFor(preset, []int{32, 32, 1}, 28)
	if err == nil {
		err = m.Build(nil, 1)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.ClassNames = data.AHCDClassNames()
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// page is the demo page in a browser, with the actions the tests repeat.
type page struct {
	*browser.Browser
	t *testing.T
}

func (p page) updates() int {
	return browser.Eval[int](p.Browser, `window.convnetState ? window.convnetState.updates : 0`)
}

// settled waits for an answer after the given count of updates, with no
// request on its way nor any due.
func (p page) settled(what string, after int) {
	p.t.Helper()
	p.WaitFor(what, fmt.Sprintf(`window.convnetState.updates > %d && !window.convnetState.inflight && !window.convnetState.dirty && !window.convnetState.pendingUp`, after))
}

// draw draws strokes given in pad pixels with the mouse and waits for the
// prediction of the whole drawing.
func (p page) draw(what string, strokes [][][2]float64) {
	p.t.Helper()
	box := p.Box("#pad")
	var view [][][2]float64
	for _, s := range strokes {
		var v [][2]float64
		for _, q := range s {
			v = append(v, [2]float64{box.X + q[0]*box.W/padSide, box.Y + q[1]*box.H/padSide})
		}
		view = append(view, v)
	}
	before := p.updates()
	p.Do(what, browser.Stroke(view)...)
	p.settled(what, before)
}

// clear clears the pad and waits for the answer.
func (p page) clear() {
	p.t.Helper()
	before := p.updates()
	p.Do("clearing", chromedp.Click(chromedp.CSS("#clear")))
	p.settled("the cleared pad", before)
}

func (p page) top() []struct {
	Label       int
	Probability float64
} {
	return browser.Eval[[]struct {
		Label       int
		Probability float64
	}](p.Browser, `[...document.querySelectorAll("#top li")].map(li => ({Label: Number(li.dataset.label), Probability: Number(li.dataset.probability)}))`)
}

// checkArithmetic checks that the detail view's own computation of the
// selected value matches the network's.
func (p page) checkArithmetic(what string) {
	p.t.Helper()
	// The drawer is drawn again as the kernel, the exact values and (for a
	// server-side activation) its values arrive: wait until it is whole.
	p.WaitFor(what+" arithmetic", `document.querySelectorAll("#calc .eq b").length === 2 && !window.convnetState.inflight && !window.convnetState.dirty`)
	computed := browser.Eval[[]float64](p.Browser, `[...document.querySelectorAll("#calc .eq b")].map(b => Number(b.dataset.v))`)
	if len(computed) != 2 || math.Abs(computed[0]-computed[1]) > 1e-4*(1+math.Abs(computed[1])) {
		p.t.Errorf("%s detail view: computed value and network value %v, want two equal numbers", what, computed)
	}
}

// TestBrowser drives the page in headless Chromium: drawing and the
// prediction, the framing steps, the layers folded into blocks, the detail
// drawer (arithmetic, the sliding kernel, the input channels ranked), the
// convolution with another stride, padding or dilation, the
// confusion matrix, pictures (and files that are not), phone widths, a
// residual network's skip connections, a zero padding, a depthwise
// convolution, a squeeze-and-excitation block, grouped convolutions,
// ShuffleNet's channel split and shuffle, the regions of a network without
// a convolution, and the tutorial's relu.
func TestBrowser(t *testing.T) {
	grouped := groupedModel(t)
	s := demoServer(t, Model{"tutorial", classifier(t, untrained(t, "tutorial"), model.ClassifierOptions{})},
		Model{"resnet", classifier(t, untrained(t, "resnet"), model.ClassifierOptions{})},
		Model{"padded", classifier(t, paddedModel(t), model.ClassifierOptions{})},
		Model{"depthwise", classifier(t, depthwiseModel(t), model.ClassifierOptions{})},
		Model{"squeeze", classifier(t, squeezeModel(t), model.ClassifierOptions{})},
		Model{"grouped", classifier(t, grouped, model.ClassifierOptions{})},
		Model{"shuffle", classifier(t, shuffleModel(t), model.ClassifierOptions{})},
		Model{"dense", classifier(t, denseModel(t), model.ClassifierOptions{})})
	url := startServer(t, s)
	p := page{browser.Start(t, 1500, 1100, 300*time.Second), t}

	p.Do("loading "+url, chromedp.Navigate(url+"/?model=ahcd"), chromedp.WaitVisible(chromedp.CSS("#pad")))
	p.WaitFor("the first update", `window.convnetState && window.convnetState.updates > 0 && !window.convnetState.inflight`)
	if hint := browser.Eval[string](p.Browser, `document.getElementById("predhint").textContent`); !strings.Contains(hint, "empty") {
		t.Errorf("with nothing drawn, the prediction says %q, want that the pad is empty", hint)
	}

	// A small jeem in a corner is framed and recognised.
	jeem := letterGlyphs[3]
	p.draw("drawing a small jeem", placeGlyph(jeem, drawSizes[2], "top-right"))
	if top := p.top(); len(top) != 5 || top[0].Label != 4 {
		t.Errorf("a small jeem in the top right corner: top 5 %+v, want jeem (4) first", top)
	}
	// The framed input has its ink near the framing's centre.
	at := s.byName["ahcd"].info.Framing.At
	com := browser.Eval[[2]float64](p.Browser, `(() => { const c = document.getElementById("input"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let m = 0, y = 0, x = 0; for (let i = 0; i < c.width * c.height; i++) { const v = d[i * 4]; if (v < 16) continue; m += v; y += v * (Math.floor(i / c.width) + 0.5); x += v * (i % c.width + 0.5); } return [y / m, x / m]; })()`)
	if math.Abs(com[0]-at[0]) > 1 || math.Abs(com[1]-at[1]) > 1 {
		t.Errorf("framed input's centre of mass %v, want near %v", com, at)
	}
	checkBlocks(p, s.byName["ahcd"])
	p.Screenshot("drawn.png")

	// Saliency.
	before := p.updates()
	p.Do("turning saliency on", chromedp.Click(chromedp.CSS("#saliency")))
	p.settled("the saliency map", before)
	p.WaitFor("the saliency map", `!document.getElementById("salwrap").hidden`)
	checkCAM(p)

	checkDetail(p)
	// The second block's convolution, 3×3 over 32 channels, no bias: with
	// "same" padding of stride 3 the one zero row goes after, as
	// TensorFlow pads.
	checkWhatIf(p, s.byName["ahcd"], 1, 2,
		whatIfCase{0, 3, 1, "same", 11, "Rows: ⌈32 / 3⌉ = 11 (1 zero added: 0 before, 1 after)"},
		whatIfCase{0, 2, 1, "valid", 15, "Rows: ⌊(32 − 3) / 2⌋ + 1 = 15"},
		whatIfCase{0, 1, 2, "valid", 28, "its taps 2×2 apart: a span of 5×5. \"valid\" padding: no zeros, the window stays inside the map. Rows: ⌊(32 − 5) / 1⌋ + 1 = 28"},
		whatIfCase{0, 2, 2, "valid", 0, "refuse a stride above 1 with a dilation above 1"})
	// Its first pooling, 2×2: overlapping windows, as AlexNet pools, and
	// "same" padding that counts for nothing.
	checkWhatIf(p, s.byName["ahcd"], 2, 5,
		whatIfCase{3, 2, 0, "valid", 15, "A 3×3 window. \"valid\" padding: no padding cells, the window stays inside the map. Rows: ⌊(32 − 3) / 2⌋ + 1 = 15"},
		whatIfCase{4, 3, 0, "same", 11, "Rows: ⌈32 / 3⌉ = 11 (2 padding cells added: 1 before, 1 after)"})
	// The whole layer: a convolution, its batch normalization and relu;
	// then a pooling, without weights.
	checkStats(p, s.byName["ahcd"], 1, 2, true)
	checkStats(p, s.byName["ahcd"], 2, 5, false)
	checkStats(p, s.byName["ahcd"], 7, 3, true) // 8×8×128: some maps are 0 everywhere
	checkConfusion(p)
	checkGallery(p, s.byName["ahcd"])
	checkEmbedding(p, s.byName["ahcd"])
	checkPictures(p)
	checkPhone(p)
	checkResnet(p, url, s.byName["resnet"])
	checkPadded(p, url)
	checkDepthwise(p, url)
	// Its depthwise convolution's channel 5, of input channel 2, over the
	// 31×31 maps of a 2×2 convolution, tanh applied by the server.
	checkWhatIf(p, s.byName["depthwise"], 1, 5,
		whatIfCase{0, 1, 1, "valid", 29, "Rows: ⌊(31 − 3) / 1⌋ + 1 = 29"},
		whatIfCase{0, 1, 2, "same", 31, "Rows: ⌈31 / 1⌉ = 31 (4 zeros added: 2 before, 2 after)"})
	checkSqueeze(p, url)
	checkGrouped(p, url, grouped)
	checkShuffle(p, url)
	checkDenseRegions(p, url)

	// The tutorial's network: a relu computed by the server, 5x5 "same" windows.
	p.load(url, "tutorial")
	p.draw("drawing on the tutorial model", placeGlyph(jeem, drawSizes[0], "centre"))
	p.Do("clicking a tutorial feature map", chromedp.Click(chromedp.CSS(`.layer[data-layer="0"] canvas.tile[data-channel="3"]`)))
	p.WaitFor("the tutorial detail view", `!document.getElementById("detail").hidden && document.getElementById("calc").textContent.includes("network's value")`)
	if calc := browser.Eval[string](p.Browser, `document.getElementById("calc").textContent`); !strings.Contains(calc, "relu(") {
		t.Errorf("tutorial detail view shows no relu: %q", calc)
	}
	p.checkArithmetic("tutorial")
	p.Do("closing the tutorial detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	// Its first convolution, 5×5 with a bias and a relu the server applies.
	checkWhatIf(p, s.byName["tutorial"], 0, 3, whatIfCase{0, 1, 3, "valid", 20, "Rows: ⌊(32 − 13) / 1⌋ + 1 = 20"})
	checkStats(p, s.byName["tutorial"], 0, 3, true)
	checkLink(p, url)
}

// checkBlocks checks that the layers are folded into blocks, the blocks on
// screen painted.
func checkBlocks(p page, m *served) {
	p.t.Helper()
	type block struct{ Layers, Tiles, Painted, Bars int }
	blocks := browser.Eval[[]block](p.Browser, `window.convnetState.blocks.map(b => {
		const row = b.el.querySelector(".layer"), tiles = [...row.querySelectorAll("canvas.tile")];
		const painted = b.visible ? tiles.filter(c => c.getContext("2d").getImageData(0, 0, 1, 1).data[3] === 255).length : -1;
		const bars = [...row.querySelectorAll("canvas.bars")].filter(c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; }).length;
		return {Layers: b.layers.length, Tiles: tiles.length, Painted: painted, Bars: bars};
	})`)
	layers, onScreen := 0, 0
	for i, b := range blocks {
		layers += b.Layers
		if b.Painted >= 0 {
			onScreen++
			if b.Painted != b.Tiles {
				p.t.Errorf("block %d on screen: %d of %d tiles painted", i, b.Painted, b.Tiles)
			}
		}
	}
	if layers != len(m.info.Layers) || len(blocks) >= layers || onScreen == 0 {
		p.t.Errorf("%d blocks of %d layers (%d on screen), want the %d layers folded into fewer blocks", len(blocks), layers, onScreen, len(m.info.Layers))
	}
}
