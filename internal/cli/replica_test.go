package cli

import (
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
)

// replica is "convnet serve" (or another command) in a child process.
type replica struct {
	cmd    *exec.Cmd
	addr   string // host:port it listens on
	banner string // "serving N model(s) [...]"
	stderr *syncBuffer
	done   chan struct{} // closed once it exited
}

// startReplica runs bin with args, which must make it serve, and waits for
// the address it prints. It is killed when the test ends.
func startReplica(t *testing.T, bin string, args ...string) *replica {
	t.Helper()
	r := &replica{cmd: exec.Command(bin, args...), stderr: &syncBuffer{}, done: make(chan struct{})}
	var stdout syncBuffer
	r.cmd.Stdout, r.cmd.Stderr = &stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.done })
	serving := regexp.MustCompile(`(serving .*) at http://([0-9.:]+)/`)
	deadline := time.After(30 * time.Second)
	for {
		if m := serving.FindStringSubmatch(stdout.String()); m != nil {
			r.banner, r.addr = m[1], m[2]
			return r
		}
		select {
		case <-r.done:
			t.Fatalf("convnet %s exited before serving: %v\n%s", strings.Join(args, " "), r.cmd.ProcessState, r.stderr.String())
		case <-deadline:
			t.Fatalf("convnet %s printed no address in 30 s", strings.Join(args, " "))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// wait waits up to limit for the replica to exit and returns its exit code
// (-1 if a signal ended it).
func (r *replica) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		return r.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		t.Fatalf("convnet %s still runs after %v", strings.Join(r.cmd.Args[1:], " "), limit)
		return 0
	}
}

// scrapeMetrics reads a server's /metrics with the Prometheus text parser.
func scrapeMetrics(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// label returns the value of a metric's label.
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
