package web

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// checkPictures classifies a photograph-like picture picked as a file and
// one dropped on the pad, and refuses a file that is not an image and an
// enormous one with a message.
func checkPictures(p page) {
	t := p.t
	t.Helper()
	dir := t.TempDir()
	// A small lam drawn in dark ink on light paper, off to one side of a
	// wide picture.
	drawn := rasterize(placeGlyph(letterGlyphs[9], drawSizes[1], "centre"), 12)
	img := image.NewGray(image.Rect(0, 0, 600, 400))
	for y := range 400 {
		for x := range 600 {
			v := uint8(232)
			if sx, sy := x-300, y-60; sx >= 0 && sx < padSide && sy >= 0 && sy < padSide {
				v -= uint8(int(drawn.Pix[sy*padSide+sx]) * 200 / 255)
			}
			img.Pix[y*img.Stride+x] = v
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	// A PNG header that claims 30000x30000 pixels.
	huge := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	huge = binary.BigEndian.AppendUint32(huge, 30000)
	huge = binary.BigEndian.AppendUint32(huge, 30000)
	huge = append(huge, 8, 0, 0, 0, 0, 0, 0, 0, 0)
	files := map[string][]byte{"lam.png": b.Bytes(), "notes.png": []byte("these are notes, not a picture"), "huge.png": huge}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	upload := func(name string) {
		p.Do("picking "+name, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{filepath.Join(dir, name)}))
	}
	before := p.updates()
	upload("lam.png")
	// The message comes once the picture is on the pad and its request is
	// on its way (or due): only then may the answers be counted, as an
	// answer the step before asked for can still come in meanwhile.
	p.WaitFor("the picture on the pad", `document.getElementById("message").textContent.includes("lam.png (600×400): framed")`)
	p.settled("the picture", before)
	if top := p.top(); len(top) == 0 || top[0].Label != 22 {
		t.Errorf("a picture of a lam: top %+v, want lam (22) first", top)
	}
	if inv := browser.Eval[bool](p.Browser, `window.convnetState.answer.inverted`); !inv {
		t.Error("a picture of dark ink on light paper was not inverted")
	}
	if msg := browser.Eval[string](p.Browser, `document.getElementById("message").textContent`); !strings.Contains(msg, "lam.png (600×400): framed") {
		t.Errorf("after a picture, the message says %q", msg)
	}
	p.View("picture.png")
	for name, want := range map[string]string{"notes.png": "not an image this page reads", "huge.png": "30000×30000 pixels (900 megapixels)"} {
		upload(name)
		p.WaitFor("the message about "+name, fmt.Sprintf(`document.getElementById("message").textContent.includes(%q) && document.getElementById("message").classList.contains("error")`, want))
	}
	// A picture dropped on the pad: a white bar on black, made by the page.
	before = p.updates()
	p.Do("dropping a picture", chromedp.Evaluate[chromedp.Void](`(async () => {
		const c = new OffscreenCanvas(90, 200), x = c.getContext("2d");
		x.fillStyle = "#000"; x.fillRect(0, 0, 90, 200); x.fillStyle = "#fff"; x.fillRect(38, 20, 14, 160);
		const file = new File([await c.convertToBlob()], "bar.png", {type: "image/png"});
		const dt = new DataTransfer(); dt.items.add(file);
		document.getElementById("padwrap").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`, chromedp.EvalAwaitPromise))
	p.WaitFor("the dropped picture on the pad", `document.getElementById("message").textContent.includes("bar.png (90×200): framed")`)
	p.settled("the dropped picture", before)
	if msg := browser.Eval[string](p.Browser, `document.getElementById("message").textContent`); !strings.Contains(msg, "bar.png (90×200): framed") {
		t.Errorf("after a dropped picture, the message says %q", msg)
	}
	p.clear()
}

// checkPhone checks that the page never scrolls sideways at phone and
// tablet widths, and that a finger closes the detail drawer.
func checkPhone(p page) {
	t := p.t
	t.Helper()
	for _, w := range []int64{320, 390, 768} {
		p.Do(fmt.Sprintf("a %d pixel wide screen", w), chromedp.EmulateViewport(w, 800, chromedp.EmulateTouch, chromedp.EmulateMobile))
		p.WaitFor("the layout", fmt.Sprintf(`document.documentElement.clientWidth === %d`, w))
		sw := browser.Eval[int](p.Browser, `document.documentElement.scrollWidth`)
		t.Logf("at %d pixels: scrollWidth %d", w, sw)
		if sw > int(w) {
			wide := browser.Eval[[]string](p.Browser, fmt.Sprintf(`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > %d && !e.closest("#detail, pre")).slice(0, 5).map(e => e.tagName + "#" + e.id + "." + e.className)`, w))
			t.Errorf("at %d pixels the page is %d pixels wide: %v", w, sw, wide)
		}
		if w == 390 {
			p.Screenshot("phone.png")
		}
		// Open the drawer and close it with a tap.
		p.Do("opening a detail view", chromedp.Evaluate[chromedp.Void](`document.querySelector('.block[data-block="0"] canvas.tile').click()`))
		p.WaitFor("the detail view", `!document.getElementById("detail").hidden && document.getElementById("calc").textContent.includes("network's value")`)
		if w == 320 {
			p.View("phone-detail.png")
		}
		box := p.Box("#closeDetail")
		if box.X < 0 || box.X+box.W > float64(w) || box.Y < 0 || box.W < 40 || box.H < 40 {
			t.Errorf("at %d pixels the close button is at %+v: want it on screen and large enough for a finger", w, box)
		}
		p.Do("tapping the close button", browser.Tap(box.X+box.W/2, box.Y+box.H/2))
		p.WaitFor("the drawer closed by a tap", `document.getElementById("detail").hidden`)
	}
	p.Do("back to a desktop screen", chromedp.EmulateViewport(1500, 1100))
}

// checkResnet shows the residual network (random weights): its skip
// connections drawn, and an Add's arithmetic.
func checkResnet(p page, url string, m *served) {
	t := p.t
	t.Helper()
	p.load(url, "resnet")
	// Every input of a layer that is not the row just above is an arc.
	arcs := 0
	for _, l := range m.info.Layers {
		for _, j := range l.Inbound {
			if j != l.Index-1 {
				arcs++
			}
		}
	}
	got := browser.Eval[int](p.Browser, `document.querySelectorAll("#edges path").length`)
	if got < 4 || arcs < 4 {
		t.Errorf("resnet: %d skip connections drawn (%d inputs from other than the layer before), want at least the 4 residual blocks'", got, arcs)
	}
	p.draw("drawing on resnet", placeGlyph(letterGlyphs[5], drawSizes[0], "centre"))
	p.openBlock("Add", 0)
	p.WaitFor("the Add's arithmetic", `document.getElementById("calc").textContent.includes("skip connection") && document.getElementById("calc").textContent.includes("network's value")`)
	p.checkArithmetic("resnet's Add")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.Do("to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	p.Screenshot("resnet.png")
}

// paddedModel is a small untrained model whose convolution reads a zero
// padding, as an imported PyTorch network does.
func paddedModel(t *testing.T) *model.Sequential {
	return ahcdStack(t, 0,
		&nn.ZeroPadding2D{Padding: [2][2]int{{1, 2}, {0, 1}}},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Activation: "relu"},
		&nn.Flatten{},
		&nn.Dense{Units: 28, Activation: "softmax"},
	)
}

// checkPadded opens the detail view of a ZeroPadding2D: a pixel inside
// the padding copies the drawing's pixel, one in the border is 0.
func checkPadded(p page, url string) {
	p.load(url, "padded")
	p.draw("drawing on the padded model", placeGlyph(letterGlyphs[5], drawSizes[0], "centre"))
	p.openBlock("ZeroPadding2D", 0)
	p.WaitFor("the padding's arithmetic", `document.getElementById("calc").textContent.includes("moved by the padding") && document.getElementById("calc").textContent.includes("network's value")`)
	p.checkArithmetic("the padding")
	p.Screenshot("padded.png")
	// A full-page screenshot resizes the page, which drops the request on
	// its way: the page must not take that for an answer.
	p.WaitFor("the requests after the screenshot", `!window.convnetState.inflight && !window.convnetState.dirty`)
	if msg := browser.Eval[string](p.Browser, `document.getElementById("message").classList.contains("error") ? document.getElementById("message").textContent : ""`); msg != "" {
		p.t.Errorf("with the padding's detail open, the page says %q", msg)
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
}

// load opens the page on the served model called name and waits for its
// first answer.
func (p page) load(url, name string) {
	p.t.Helper()
	p.Do("loading the "+name+" model", chromedp.Navigate(url+"/?model="+name), chromedp.WaitVisible(chromedp.CSS("#pad")))
	p.WaitFor("the "+name+" model's first update", fmt.Sprintf(`window.convnetState && window.convnetState.model && window.convnetState.model.name === %q && window.convnetState.updates > 0 && !window.convnetState.inflight`, name))
}

// openBlock clicks map ch of the block whose first layer is of type typ,
// which opens its detail view.
func (p page) openBlock(typ string, ch int) {
	p.t.Helper()
	p.openBlockWhere(typ, fmt.Sprintf("l.type === %q", typ), ch)
}

// openBlockWhere clicks channel ch of the first block whose head layer l
// satisfies the JavaScript condition cond.
func (p page) openBlockWhere(what, cond string, ch int) {
	p.t.Helper()
	p.Do("clicking a "+what+" block's map", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const b = window.convnetState.blocks.find(b => { const l = window.convnetState.model.layers[b.head]; return %s; });
		b.el.scrollIntoView(); b.el.querySelector('canvas.tile[data-channel="%d"]').click();
	})()`, cond, ch)))
}
