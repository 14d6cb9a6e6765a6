package cli

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// A model file of a few hundred bytes can declare an input of 8192x8192
// pixels. TestHostileModels runs the convnet command on such files in a child
// process and check that it ends in a clear error, quickly, without taking
// the memory the file asks for.
const (
	hostileTimeout = 5 * time.Second
	hostileMaxRSS  = 300 << 20
)

// hostileModel saves a model of the given layers built for input; building
// allocates the weights only, which are few.
func hostileModel(t *testing.T, name string, input []int, layers ...nn.Layer) string {
	t.Helper()
	m := model.New(layers...)
	if err := m.Build(input, 1); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := model.Save(path, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	t.Logf("%s: %d bytes, input %v", name, st.Size(), input)
	return path
}

// convnetBinary builds the convnet command (without the race detector,
// whatever the test binary has, so that its memory is the command's own).
func convnetBinary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the peak memory comes from /proc/<pid>/status")
	}
	if testing.Short() {
		t.Skip("builds the command")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build convnet")
		}
	}
	bin := filepath.Join(t.TempDir(), "convnet")
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/convnet-go/convnet/cmd/convnet")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is a running convnet command whose peak memory is watched.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	polled         atomic.Int64 // the largest VmHWM read, in bytes
	done           chan struct{}
	began, ended   time.Time
}

// startChild runs bin with args under an address-space limit of 4 GiB, so
// that a command asking for tens of gigabytes fails at once instead of
// pushing the machine into swap. It is killed when the test ends.
func startChild(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	c := &child{done: make(chan struct{})}
	c.cmd = exec.Command("/bin/sh", append([]string{"-c", `ulimit -v 4194304 && exec "$0" "$@"`, bin}, args...)...)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	c.began = time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.cmd.Wait()
		c.ended = time.Now()
		close(c.done)
	}()
	go c.watch()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// watch reads the child's VmHWM (its peak resident memory) every
// millisecond until it exits.
func (c *child) watch() {
	status := "/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status"
	for {
		select {
		case <-c.done:
			return
		case <-time.After(time.Millisecond):
		}
		if n := vmHWM(status); n > c.polled.Load() {
			c.polled.Store(n)
		}
	}
}

// vmHWM returns the VmHWM line of a /proc status file in bytes, or 0.
func vmHWM(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// exited waits until the child exits or the deadline passes.
func (c *child) exited(deadline time.Time) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(time.Until(deadline)):
		return false
	}
}

// peak returns the child's peak resident memory, the largest VmHWM read.
// (The kernel's rusage is no help: its maxrss counts the memory of the
// test process, which the child shares until it executes the command.)
// Polling every millisecond misses at most the memory the child can touch
// in that time before it exits, a few megabytes.
func (c *child) peak() int64 { return c.polled.Load() }

// checkRefused checks that the child ended within the deadline with exit
// code 1, an error naming the file, the memory needed and the flag, and
// its peak memory under hostileMaxRSS.
func (c *child) checkRefused(t *testing.T, deadline time.Time, path string) {
	t.Helper()
	if !c.exited(deadline) {
		t.Errorf("still running after %v (peak memory %d MiB so far); stderr: %s", hostileTimeout, c.peak()>>20, c.stderr.String())
		return
	}
	code := c.cmd.ProcessState.ExitCode()
	stderr := c.stderr.String()
	t.Logf("exit code %d after %v, peak memory %d MiB, stderr: %.300s", code, c.ended.Sub(c.began).Round(time.Millisecond), c.peak()>>20, stderr)
	if code != exitError || !strings.Contains(stderr, path+": the model needs") || !strings.Contains(stderr, "--max-memory") {
		t.Errorf("exit code %d, stderr %q; want 1 and an error naming %s, the memory it needs and --max-memory", code, stderr, path)
	}
	if p := c.peak(); p > hostileMaxRSS {
		t.Errorf("peak memory %d MiB, want at most %d MiB", p>>20, hostileMaxRSS>>20)
	}
}

// TestHostileModels runs convnet on two small model files that declare
// huge inputs.
func TestHostileModels(t *testing.T) {
	bin := convnetBinary(t)
	png := filepath.Join(t.TempDir(), "digit.png")
	writeGrayPNG(t, png, make([]float32, 64), 8, 8)

	// predict on one small image, with a model of a few hundred bytes whose
	// input is 8192x8192x1: a gigabyte per image.
	t.Run("predict", func(t *testing.T) {
		path := hostileModel(t, "wide.safetensors", []int{8192, 8192, 1},
			&nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 2, Activation: "softmax"})
		c := startChild(t, bin, "predict", "--model", path, png)
		c.checkRefused(t, c.began.Add(hostileTimeout), path)
	})

	// serve a model of about a kilobyte whose input is 2048x2048x1 and
	// whose convolution makes 16 feature maps of that size. If the server
	// starts, ask it for a prediction and for the activations with a
	// saliency map, as the demo page does at each stroke.
	t.Run("serve", func(t *testing.T) {
		path := hostileModel(t, "large.safetensors", []int{2048, 2048, 1},
			&nn.Conv2D{Filters: 16, KernelSize: [2]int{2, 2}, Padding: "same", Activation: "relu"},
			&nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 2, Activation: "softmax"})
		body, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		c := startChild(t, bin, "serve", "--model", path, "--addr", "127.0.0.1:0")
		deadline := c.began.Add(hostileTimeout)
		if base := c.address(deadline); base != "" {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			for _, req := range []string{"/api/predict?model=large", "/api/activations?model=large&saliency=1&full=0"} {
				r, _ := http.NewRequestWithContext(ctx, "POST", base+req, bytes.NewReader(body))
				r.Header.Set("Content-Type", "image/png")
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Logf("POST %s: %v", req, err)
					continue
				}
				resp.Body.Close()
				t.Logf("POST %s: status %d, peak memory %d MiB", req, resp.StatusCode, c.peak()>>20)
			}
			t.Errorf("serve accepted the model and answered at %s; peak memory %d MiB", base, c.peak()>>20)
		}
		c.checkRefused(t, deadline, path)
	})
}

// address returns the address a serve child prints, or "" if it exits or
// the deadline passes first.
func (c *child) address(deadline time.Time) string {
	addr := regexp.MustCompile(`http://[0-9.:]+`)
	for time.Now().Before(deadline) {
		if base := addr.FindString(c.stdout.String()); base != "" {
			return base
		}
		select {
		case <-c.done:
			return ""
		case <-time.After(10 * time.Millisecond):
		}
	}
	return ""
}
