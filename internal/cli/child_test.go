package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A run of the convnet command in a child process, watched for how long it
// takes and how much memory it holds at its peak, for the hostile-input
// tests.

const maxPeak = 300 << 20

// buildConvnet builds the convnet command into a temporary folder.
func buildConvnet(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build convnet with")
	}
	bin := filepath.Join(t.TempDir(), "convnet")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/convnet-go/convnet/cmd/convnet")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is a run of the convnet command.
type child struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	start  time.Time
	took   time.Duration
	peak   int64 // bytes: the largest VmHWM read while it ran
	rchar  int64 // bytes it had read at the last look (/proc/pid/io)
	code   int
}

// hang bounds how long a process told to stop may take to end: it tells a
// hang from a stop, not a fast stop from a slow one, since a busy machine
// (the test suite under the race detector on 2 cores) stretches any time.
const hang = 20 * time.Second

// startChild starts convnet with args, its cache folder in cache, no
// CONVNET_DATA and stdin (nil: none) as its standard input.
func startChild(t *testing.T, bin, cache string, stdin io.Reader, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...)}
	c.cmd.Stdin = stdin
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVNET_DATA=") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			c.cmd.Env = append(c.cmd.Env, kv)
		}
	}
	c.cmd.Env = append(c.cmd.Env, "XDG_CACHE_HOME="+cache)
	c.cmd.Stderr = &c.stderr
	c.start = time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// procField returns a number field of /proc/<pid>/<file>, or -1.
func procField(pid int, file, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return -1
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return -1
			}
			if len(f) > 1 && f[1] == "kB" {
				n <<= 10
			}
			return n
		}
	}
	return -1
}

// readingStdin reports whether a thread of process pid is blocked in
// read(0, ...), from /proc/pid/task/*/syscall; ok is false where the
// system call's number is not known here.
func readingStdin(pid int) (reading, ok bool) {
	nr, ok := map[string]string{"amd64": "0", "arm64": "63", "386": "3"}[runtime.GOARCH]
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		if f := strings.Fields(string(b)); len(f) > 1 && f[0] == nr && f[1] == "0x0" {
			return true, ok
		}
	}
	return false, ok
}

// wait waits for the child to end, reading its VmHWM every 2 ms meanwhile
// (the peak of the last 2 ms can be missed, as VmHWM goes with the process),
// and fails t if it takes longer than limit.
func (c *child) wait(t *testing.T, limit time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	c.peak = max(c.peak, procField(c.cmd.Process.Pid, "status", "VmHWM"))
	timeout := time.After(limit + 10*time.Second)
	for {
		select {
		case err := <-done:
			c.took = time.Since(c.start)
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			c.code = c.cmd.ProcessState.ExitCode()
			if c.took > limit {
				t.Errorf("convnet %s took %v, want at most %v", strings.Join(c.cmd.Args[1:], " "), c.took.Round(time.Millisecond), limit)
			}
			return
		case <-tick.C:
			c.peak = max(c.peak, procField(c.cmd.Process.Pid, "status", "VmHWM"))
			c.rchar = max(c.rchar, procField(c.cmd.Process.Pid, "io", "rchar"))
		case <-timeout:
			c.cmd.Process.Kill()
			t.Fatalf("convnet %s still runs after %v", strings.Join(c.cmd.Args[1:], " "), limit+10*time.Second)
		}
	}
}

// checkFails fails t unless the child ended with exit code 1, an error
// message holding each of wants, and a peak under maxPeak.
func (c *child) checkFails(t *testing.T, wants ...string) {
	t.Helper()
	if c.code != 1 {
		t.Errorf("exit code %d, want 1; stderr:\n%s", c.code, c.stderr.String())
	}
	for _, want := range wants {
		if !strings.Contains(c.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, c.stderr.String())
		}
	}
	if c.peak > maxPeak || c.peak <= 0 {
		t.Errorf("peak resident memory %.1f MiB, want at most %d MiB", float64(c.peak)/(1<<20), maxPeak>>20)
	}
	t.Logf("exit %d in %v, peak %.1f MiB: %s", c.code, c.took.Round(time.Millisecond), float64(c.peak)/(1<<20), strings.TrimSpace(c.stderr.String()))
}
