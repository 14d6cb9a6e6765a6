// Package browser drives headless Chromium for the tests of the demo page:
// package web's, and those of convnet train --watch. It finds the browser
// (a test is skipped without one, unless CI is set), collects the page's
// console errors (each fails the test), and gives the few actions the tests
// need: run steps, wait for a condition, read a value, draw a stroke, take
// a screenshot.
package browser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium tab.
type Browser struct {
	Ctx   context.Context
	t     testing.TB
	shots string // where screenshots go
}

// executable returns the path of a Chromium binary, or "".
func executable() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start opens a tab of the given window size that lives until the test
// ends, then fails the test for every error the page logged. The test is
// skipped without Chromium, unless CI or CONVNET_CI (.ci/run) is set.
// CONVNET_SCREENSHOTS names a folder for the screenshots (default: a
// temporary one).
func Start(t testing.TB, width, height int, timeout time.Duration) *Browser {
	t.Helper()
	exe := executable()
	if exe == "" {
		if os.Getenv("CI") != "" || os.Getenv("CONVNET_CI") != "" {
			t.Fatal("no chromium binary found, and CI (or CONVNET_CI) is set: install chromium")
		}
		t.Skip("no chromium binary found (install the chromium package to run this test)")
	}
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
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // start the browser without a timeout
		cancel()
		cancelAlloc()
		t.Fatalf("starting %s: %v", exe, err)
	}
	var (
		mu     sync.Mutex
		errors []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleType("error") {
				mu.Lock()
				errors = append(errors, m.String())
				mu.Unlock()
			}
		}
	}()
	tctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		mu.Lock()
		for _, m := range errors {
			t.Errorf("browser console: %s", m)
		}
		mu.Unlock()
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	shots := os.Getenv("CONVNET_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Browser{Ctx: tctx, t: t, shots: shots}
}

// Do runs steps, failing the test on an error.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// WaitFor waits up to 30 s for the JavaScript expression to be true.
func (b *Browser) WaitFor(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

// Eval runs a JavaScript expression in the page and decodes its value.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// Screenshot saves the whole page as name (a PNG) and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	return b.save(name, chromedp.FullScreenshot(100))
}

// View saves what the window shows as name (a PNG) and returns its path.
func (b *Browser) View(name string) string {
	b.t.Helper()
	return b.save(name, chromedp.CaptureScreenshot())
}

func (b *Browser) save(name string, shot chromedp.Action[[]byte]) string {
	b.t.Helper()
	buf, err := chromedp.Run(b.Ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.shots, name)
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
	return p
}

// Rect is an element's box in CSS pixels of the viewport.
type Rect struct{ X, Y, W, H float64 }

// Box returns the box of the element a CSS selector finds.
func (b *Browser) Box(selector string) Rect {
	b.t.Helper()
	return Eval[Rect](b, `(() => { const r = document.querySelector(`+quote(selector)+`).getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`)
}

func quote(s string) string {
	out := []byte{'"'}
	for _, c := range []byte(s) {
		if c == '"' || c == '\\' {
			out = append(out, '\\')
		}
		out = append(out, c)
	}
	return string(append(out, '"'))
}

// Stroke returns the mouse events of a person drawing through points
// (viewport coordinates), stroke by stroke: press, moves about every 24
// pixels along each segment (a pen drawn at about 1,500 pixels a second,
// reported at 60 Hz), release.
func Stroke(strokes [][][2]float64) []chromedp.Action[chromedp.Void] {
	pressed := func(p *input.DispatchMouseEventParams) { p.Buttons = 1 }
	var out []chromedp.Action[chromedp.Void]
	for _, s := range strokes {
		out = append(out, chromedp.MouseEvent(chromedp.MousePressed, s[0][0], s[0][1], chromedp.ButtonLeft, pressed, chromedp.ClickCount(1)))
		last := s[0]
		for _, p := range s[1:] {
			d := max(abs(p[0]-last[0]), abs(p[1]-last[1]))
			n := max(1, int(d/24+0.5))
			for k := 1; k <= n; k++ {
				f := float64(k) / float64(n)
				out = append(out, chromedp.MouseEvent(chromedp.MouseMoved, last[0]+f*(p[0]-last[0]), last[1]+f*(p[1]-last[1]), chromedp.ButtonLeft, pressed))
			}
			last = p
		}
		out = append(out, chromedp.MouseEvent(chromedp.MouseReleased, last[0], last[1], chromedp.ButtonLeft, chromedp.ClickCount(1)))
	}
	return out
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// Tap touches the page at (x, y) and lifts the finger, as a tap on a
// phone (the viewport must emulate touch: chromedp.EmulateTouch).
func Tap(x, y float64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		start := input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: []*input.TouchPoint{{X: x, Y: y}}}
		if _, err := cdp.Call(ctx, t, input.DispatchTouchEvent, start); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}})
		return err
	})
}
