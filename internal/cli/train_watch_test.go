package cli

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
)

// TestTrainWatch watches a short training run in the browser: the page
// hears of every epoch, its feature maps change from epoch to epoch as its
// drawing runs through each epoch's network, as do the detail view's
// weights, and it says when the run is over.
func TestTrainWatch(t *testing.T) {
	dir := dataDir(t)
	out := filepath.Join(t.TempDir(), "digits.safetensors")
	addr := freeAddr(t)
	b := browser.Start(t, 1400, 1000, 300*time.Second)
	type result struct {
		code   int
		stderr string
	}
	// Epochs of about a second, several times longer under the race
	// detector, which is given fewer images.
	limit := "3000"
	if raceEnabled {
		limit = "1000"
	}
	done := make(chan result, 1)
	go func() {
		code, _, stderr := runCLI("train", "--dataset", "mnist", "--data-dir", dir, "--model", "lenet5", "--limit", limit, "--test-limit", "300",
			"--epochs", "4", "--batch-size", "50", "--no-augment", "--out", out, "--watch", "--addr", addr)
		done <- result{code, stderr}
	}()
	url := "http://" + addr
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url + "/healthz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		select {
		case r := <-done:
			t.Fatalf("train --watch ended (code %d) before serving its page: %s", r.code, r.stderr)
		default:
		}
		if time.Since(start) > 60*time.Second {
			t.Fatal("train --watch serves no page after 60 s")
		}
	}
	b.Do("loading "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#pad")))
	b.WaitFor("the first update", `window.convnetState && window.convnetState.updates > 0 && !window.convnetState.inflight`)
	// Every answer's feature maps, by the epoch after which it was asked
	// for (its network is that epoch's or a later one's), once the 7 is
	// drawn.
	b.Do("recording the maps", chromedp.Evaluate[chromedp.Void](`window.digests = {}; setInterval(() => {
		const s = window.convnetState;
		if (!window.drawn || s.inflight || s.dirty || !s.values.length) return;
		let d = 0; for (const l of s.values) if (l) for (let i = 0; i < l.v.length; i += 7) d += Math.abs(l.v[i]);
		window.digests[s.valuesEpoch] = d;
	}, 5)`))
	box := b.Box("#pad")
	at := func(x, y float64) [2]float64 { return [2]float64{box.X + x*box.W, box.Y + y*box.H} }
	b.Do("drawing", browser.Stroke([][][2]float64{{at(0.25, 0.2), at(0.75, 0.2), at(0.5, 0.55), at(0.42, 0.85)}})...)
	b.Do("the drawing done", chromedp.Evaluate[chromedp.Void](`window.drawn = true`))
	// The first convolution's weights, as the detail view shows them after
	// each epoch.
	b.Do("opening the first block's detail", chromedp.Click(chromedp.CSS(`.block[data-block="0"] canvas.tile[data-channel="0"]`)))
	b.Do("recording the weights", chromedp.Evaluate[chromedp.Void](`window.kernels = {}; setInterval(() => {
		const f = document.querySelector("#weightStats figure");
		if (f) window.kernels[f.textContent] = window.convnetState.epochs.length;
	}, 5)`))
	r := <-done
	if r.code != 0 {
		t.Fatalf("train --watch: exit code %d: %s", r.code, r.stderr)
	}
	b.WaitFor("the end of the run", `!!window.convnetState.watchEnded`)
	b.Screenshot("watch.png")
	if n := browser.Eval[int](b, `window.convnetState.epochs.length`); n != 4 {
		t.Errorf("the page heard of %d epochs, want 4", n)
	}
	digests := browser.Eval[map[string]float64](b, `window.digests`)
	distinct := map[float64]bool{}
	for epoch, d := range digests {
		if epoch != "0" {
			distinct[d] = true
		}
	}
	if len(distinct) < 2 {
		t.Errorf("the drawing's feature maps by epoch %v: want them to change from one epoch's network to another", digests)
	}
	kernels := browser.Eval[map[string]int](b, `window.kernels`)
	t.Logf("the first kernel by epoch: %v", kernels)
	if len(kernels) < 2 {
		t.Errorf("the detail view's kernel histograms by epoch %v: want them to change with the weights", kernels)
	}
	if curves := browser.Eval[int](b, `window.convnetState.history ? window.convnetState.history.loss.length : 0`); curves < 2 {
		t.Errorf("the page's curves hold %d epochs, want at least 2", curves)
	}
	if cells := browser.Eval[int](b, `window.convnetState.evaluation ? window.convnetState.evaluation.matrix.flat().reduce((a, b) => a + b, 0) : 0`); cells != 60 && !raceEnabled {
		t.Errorf("the confusion matrix during training counts %d images, want the 60 of the test sample (a fiftieth of the training set)", cells)
	} else if cells != 50 && raceEnabled {
		t.Errorf("the confusion matrix during training counts %d images, want the 50 of the test sample (at least 50)", cells)
	}
	if end := browser.Eval[string](b, `document.getElementById("watch").textContent`); !strings.Contains(end, "Training finished") {
		t.Errorf("after the run, the page says %q", end)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

// The page learns why a watched run ended.
func TestTrainWatchEnd(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "Training finished: the model is saved in m.safetensors (convnet serve --model m.safetensors shows it)."},
		{errInterrupted, "Training was interrupted; its checkpoint is saved (convnet train --resume m.ckpt.safetensors continues it)."},
		{errors.New("the loss is NaN"), "Training stopped: the loss is NaN."},
	} {
		if got := endMessage(tc.err, "m.safetensors", "m.ckpt.safetensors"); got != tc.want {
			t.Errorf("endMessage(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
