package web

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
)

// chromium returns the path of a Chromium binary, skipping the test if none
// is installed (unless CI is set, when the test must run).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium binary found, and CI is set: install chromium")
	}
	t.Skip("no chromium binary found (install the chromium package to run this test)")
	return ""
}

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

// TestBrowser drives the page in headless Chromium: it draws a stroke, waits
// for the prediction and every layer, clears, and opens a detail view.
// CONVNET_SCREENSHOTS names a folder for the screenshots (default: a
// temporary one).
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	// The built-in models, and the tutorial's network (untrained): its
	// first convolution has a 5x5 "same" window and a relu, whose value
	// the page asks the server for.
	tut, err := model.PresetFor("tutorial", []int{32, 32, 1}, 28)
	if err == nil {
		err = tut.Build(nil, 1)
	}
	if err != nil {
		t.Fatal(err)
	}
	tut.ClassNames = data.AHCDClassNames()
	tut.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	s := demoServer(t, Model{"tutorial", classifier(t, tut, model.ClassifierOptions{})})
	url := startServer(t, s)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1500, 1100),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // start the browser without a timeout
		t.Fatalf("starting %s: %v", exe, err)
	}
	var (
		mu            sync.Mutex
		consoleErrors []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleType("error") {
				mu.Lock()
				consoleErrors = append(consoleErrors, m.String())
				mu.Unlock()
			}
		}
	}()
	ctx, cancelTimeout := context.WithTimeout(ctx, 240*time.Second)
	defer cancelTimeout()

	shots := os.Getenv("CONVNET_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	screenshot := func(name string) {
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		p := filepath.Join(shots, name)
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	waitFor := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("waiting for %s (%s): %v", what, expr, err)
		}
	}
	updates := func() int { return evaluate[int](t, ctx, `window.convnetState ? window.convnetState.updates : 0`) }
	topProbs := func() []float64 {
		return evaluate[[]float64](t, ctx, `[...document.querySelectorAll("#top li")].map(li => Number(li.dataset.probability))`)
	}

	do("loading "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#pad")))
	waitFor("the first update", `window.convnetState && window.convnetState.updates > 0`)

	// Draw a stroke: a "7"-like path across the pad.
	type rect struct{ X, Y, W, H float64 }
	box := evaluate[rect](t, ctx, `(() => { const r = document.getElementById("pad").getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`)
	before := updates()
	path := [][2]float64{{0.25, 0.2}, {0.5, 0.2}, {0.75, 0.2}, {0.65, 0.45}, {0.55, 0.65}, {0.45, 0.85}}
	var stroke []chromedp.Action[chromedp.Void]
	at := func(p [2]float64) (float64, float64) { return box.X + p[0]*box.W, box.Y + p[1]*box.H }
	pressed := func(p *input.DispatchMouseEventParams) { p.Buttons = 1 }
	x, y := at(path[0])
	stroke = append(stroke, chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, pressed, chromedp.ClickCount(1)))
	for i := 1; i < len(path); i++ {
		for s := 1; s <= 6; s++ {
			f := float64(s) / 6
			x, y = at([2]float64{path[i-1][0] + f*(path[i][0]-path[i-1][0]), path[i-1][1] + f*(path[i][1]-path[i-1][1])})
			stroke = append(stroke, chromedp.MouseEvent(chromedp.MouseMoved, x, y, chromedp.ButtonLeft, pressed), chromedp.Sleep(5*time.Millisecond))
		}
	}
	stroke = append(stroke, chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	do("drawing", stroke...)
	waitFor("an update after drawing", fmt.Sprintf(`window.convnetState.updates > %d && !window.convnetState.inflight && !window.convnetState.dirty`, before))
	inked := evaluate[int](t, ctx, `(() => { const d = document.getElementById("pad").getContext("2d").getImageData(0, 0, 280, 280).data; let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; })()`)
	if inked < 500 {
		t.Fatalf("after drawing, %d white pixels on the pad, want a visible stroke", inked)
	}

	// The prediction and every layer's maps.
	drawn := topProbs()
	if len(drawn) != 5 {
		t.Fatalf("after drawing: %d predictions shown, want 5", len(drawn))
	}
	sum := 0.0
	for _, p := range drawn {
		sum += p
	}
	if sum > 1+1e-6 || sum <= 0 {
		t.Errorf("top-5 probabilities %v sum to %v, want in (0, 1]", drawn, sum)
	}
	type layerState struct{ Tiles, Painted, Bars int }
	layers := evaluate[[]layerState](t, ctx, `[...document.querySelectorAll(".layer")].map(row => {
		const tiles = [...row.querySelectorAll("canvas.tile")];
		const painted = tiles.filter(c => c.getContext("2d").getImageData(0, 0, 1, 1).data[3] === 255).length;
		const bars = [...row.querySelectorAll("canvas.bars")].filter(c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; }).length;
		return {Tiles: tiles.length, Painted: painted, Bars: bars};
	})`)
	net := s.models[0]
	if len(layers) != len(net.info.Layers) {
		t.Fatalf("%d layer rows on the page, want %d", len(layers), len(net.info.Layers))
	}
	for i, l := range layers {
		shape := net.info.Layers[i].OutputShape
		if len(shape) == 3 && (l.Tiles != shape[2] || l.Painted != shape[2]) {
			t.Errorf("layer %d (%v): %d tiles, %d painted, want %d", i, shape, l.Tiles, l.Painted, shape[2])
		}
		if len(shape) == 1 && l.Bars != 1 {
			t.Errorf("layer %d (%v): %d drawn bar charts, want 1", i, shape, l.Bars)
		}
	}
	screenshot("drawn.png")

	// Clearing changes the prediction.
	before = updates()
	do("clearing", chromedp.Click(chromedp.CSS("#clear")))
	waitFor("an update after clearing", fmt.Sprintf(`window.convnetState.updates > %d && !window.convnetState.inflight`, before))
	cleared := topProbs()
	if fmt.Sprint(cleared) == fmt.Sprint(drawn) {
		t.Errorf("top-5 after clearing %v, unchanged from after drawing", cleared)
	}

	// Redraw with the saliency overlay, then open a feature map's detail view.
	do("turning saliency on", chromedp.Click(chromedp.CSS("#saliency")))
	do("drawing again", stroke...)
	waitFor("the saliency map", `!document.getElementById("salwrap").hidden`)
	do("clicking a feature map", chromedp.Click(chromedp.CSS(`.layer[data-layer="0"] canvas.tile[data-channel="1"]`)))
	waitFor("the detail view", `!document.getElementById("detail").hidden && document.querySelectorAll("#kernels canvas").length > 0 && document.getElementById("calc").textContent.includes("network's value")`)
	checkArithmetic := func(model string) {
		t.Helper()
		// The page's own computation of the clicked pixel must match the network.
		computed := evaluate[[]float64](t, ctx, `[...document.querySelectorAll("#calc .eq b")].map(b => Number(b.dataset.v))`)
		if len(computed) != 2 || math.Abs(computed[0]-computed[1]) > 1e-4*(1+math.Abs(computed[1])) {
			t.Errorf("%s detail view: computed activation and network value %v, want two equal numbers", model, computed)
		}
	}
	checkArithmetic(s.models[0].name)
	screenshot("detail.png")
	do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	// The model panel: a confusion cell shows test images that load into the pad.
	do("scrolling to the model panel", chromedp.ScrollIntoView(chromedp.CSS("#confusion")))
	cbox := evaluate[rect](t, ctx, `(() => { const r = document.getElementById("confusion").getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`)
	geo := evaluate[struct{ Left, Top, Cell float64 }](t, ctx, `window.convnetState.confusion`)
	scale := cbox.W / 420                                                               // the canvas is 420 pixels wide
	cx, cy := cbox.X+(geo.Left+1.5*geo.Cell)*scale, cbox.Y+(geo.Top+1.5*geo.Cell)*scale // cell (1, 1)
	do("clicking a confusion cell", chromedp.MouseClickXY(cx, cy))
	waitFor("the test images of a confusion cell", `document.querySelectorAll("#samples canvas").length > 0`)
	before = updates()
	do("clicking a test image", chromedp.Click(chromedp.CSS("#samples canvas")))
	waitFor("an update after loading a test image", fmt.Sprintf(`window.convnetState.updates > %d && !window.convnetState.inflight`, before))
	screenshot("panel.png")

	// The tutorial's network: a relu computed by the server, 5x5 "same" windows.
	do("loading the tutorial model", chromedp.Navigate(url+"/?model=tutorial"), chromedp.WaitVisible(chromedp.CSS("#pad")))
	waitFor("the tutorial model's first update", `window.convnetState && window.convnetState.model.name === "tutorial" && window.convnetState.updates > 0`)
	before = updates()
	do("drawing on the tutorial model", stroke...)
	waitFor("an update after drawing", fmt.Sprintf(`window.convnetState.updates > %d && !window.convnetState.inflight`, before))
	do("clicking a tutorial feature map", chromedp.Click(chromedp.CSS(`.layer[data-layer="0"] canvas.tile[data-channel="3"]`)))
	waitFor("the tutorial detail view", `!document.getElementById("detail").hidden && document.getElementById("calc").textContent.includes("network's value")`)
	if calc := evaluate[string](t, ctx, `document.getElementById("calc").textContent`); !strings.Contains(calc, "relu(") {
		t.Errorf("tutorial detail view shows no relu: %q", calc)
	}
	checkArithmetic("tutorial")
	screenshot("tutorial.png")
	mu.Lock()
	defer mu.Unlock()
	for _, m := range consoleErrors {
		t.Errorf("browser console: %s", m)
	}
}

// evaluate runs a JavaScript expression in the page and decodes its value.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}
