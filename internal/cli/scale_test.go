package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/convnet-go/convnet/data"
)

// ahcdPNGs returns n images of the AHCD test set, spread over its classes,
// as PNG files, with their classes.
func ahcdPNGs(t *testing.T, n int) (pngs [][]byte, labels []int) {
	t.Helper()
	_, test, err := data.LoadAHCD(context.Background(), filepath.Join(dataDir(t), "ahcd", "ahcd_csv.zip"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		j := i * test.Len() / n
		img := image.NewGray(image.Rect(0, 0, 32, 32))
		for k, v := range test.Image(j) {
			img.Pix[k] = uint8(v)
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		pngs, labels = append(pngs, b.Bytes()), append(labels, test.Y[j])
	}
	return pngs, labels
}

// TestScaleOut runs two replicas of convnet serve (the image's binary, the
// built-in models) behind nginx, holds 20 clients asking for predictions of
// real AHCD images and the model list through nginx for 20 s, and kills one
// replica with SIGKILL halfway. No request may fail (an answer the killed
// replica was sending at that instant may arrive cut, once, and is asked
// for again, as nginx cannot retry it), every prediction must
// be the same for an image wherever it was answered, and the surviving
// replica's /metrics must count exactly the requests nginx's log says it
// answered.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 20 s of load behind nginx")
	}
	const (
		clients  = 20
		duration = 20 * time.Second
	)
	nginx := nginxPath(t)
	pngs, labels := ahcdPNGs(t, 4*28)
	bin := buildImageBinary(t, "devel")
	victim := startReplica(t, bin, "serve", "--addr", "127.0.0.1:0", "--log-level", "warn")
	survivor := startReplica(t, bin, "serve", "--addr", "127.0.0.1:0", "--log-level", "warn")
	lb, accessLog := startNginx(t, nginx, victim.addr, survivor.addr)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	var (
		mu        sync.Mutex
		failures  []string
		latencies []time.Duration
		predicted = map[int]int{} // image → class
		correct   int
		differ    int
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// one request through nginx; it returns the top class of a prediction.
	// An answer cut short is asked for again once, as a client would: nginx
	// cannot retry a request whose answer it has begun to pass on, so an
	// answer the killed replica was sending at that instant arrives cut.
	var (
		begin time.Time
		cuts  []time.Duration // when each cut answer ended, since begin
	)
	request := func(img int) (class int, ok bool) {
		var resp *http.Response
		var body []byte
		var err error
		start := time.Now()
		for try := 0; try < 2; try++ {
			if img < 0 {
				resp, err = client.Get("http://" + lb + "/api/models")
			} else {
				resp, err = client.Post("http://"+lb+"/api/predict?model=ahcd&k=1", "image/png", bytes.NewReader(pngs[img]))
			}
			if err != nil {
				fail("%v", err)
				return 0, false
			}
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if !errors.Is(err, io.ErrUnexpectedEOF) || try > 0 {
				break
			}
			mu.Lock()
			cuts = append(cuts, time.Since(begin))
			mu.Unlock()
		}
		took := time.Since(start)
		var ans struct {
			Models []struct{ Name string }
			Top    []struct{ Label int }
		}
		switch {
		case err != nil || resp.StatusCode != 200:
			fail("%s: status %d, %v: %s", resp.Request.URL.Path, resp.StatusCode, err, body)
			return 0, false
		case json.Unmarshal(body, &ans) != nil || img < 0 && len(ans.Models) != 2 || img >= 0 && len(ans.Top) != 1:
			fail("%s: unexpected answer %.200s", resp.Request.URL.Path, body)
			return 0, false
		}
		mu.Lock()
		latencies = append(latencies, took)
		mu.Unlock()
		if img < 0 {
			return 0, false
		}
		return ans.Top[0].Label, true
	}

	begin = time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; time.Since(begin) < duration; i++ {
				if i%4 == 3 {
					request(-1)
					continue
				}
				img := (c*31 + i) % len(pngs)
				class, ok := request(img)
				if !ok {
					continue
				}
				mu.Lock()
				if prev, seen := predicted[img]; seen && prev != class {
					differ++
				}
				predicted[img] = class
				if class == labels[img] {
					correct++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(duration / 2)
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Since(begin)
	wg.Wait()
	elapsed := time.Since(begin)
	victim.wait(t, 5*time.Second)

	// nginx logs a request after its last byte has left, so the log may
	// still lack the last few answers the clients have read.
	statuses, attempts, retried := nginxAttempts(t, accessLog)
	for deadline := time.Now().Add(5 * time.Second); logged(statuses) < len(latencies)+len(cuts) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		statuses, attempts, retried = nginxAttempts(t, accessLog)
	}
	answered := map[string]map[string]int{} // replica → endpoint → requests it answered
	for _, a := range attempts {
		if a.status == "200" {
			if answered[a.replica] == nil {
				answered[a.replica] = map[string]int{}
			}
			answered[a.replica][a.endpoint]++
		}
	}
	sum := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	if len(latencies) == 0 {
		t.Fatalf("no request answered; %d failed, the first: %.300s", len(failures), failures[0])
	}
	slices.Sort(latencies)
	q := func(p float64) time.Duration {
		return latencies[int(p*float64(len(latencies)-1))].Round(time.Millisecond)
	}
	predictions := 0
	for _, a := range attempts {
		if a.endpoint == "/api/predict" && a.status == "200" {
			predictions++
		}
	}
	t.Logf("%d clients for %v through nginx, replica %s killed (SIGKILL) at %v: %d requests answered (%.0f/s), %d failed, %d answers cut and asked again; "+
		"latency p50 %v, p99 %v, max %v; nginx statuses %v, %d requests retried on the other replica; answered by the killed replica %d, by the survivor %d; "+
		"%d of %d predictions right",
		clients, elapsed.Round(time.Second), victim.addr, killed.Round(time.Millisecond), len(latencies), float64(len(latencies))/elapsed.Seconds(), len(failures), len(cuts),
		q(0.5), q(0.99), latencies[len(latencies)-1].Round(time.Millisecond), statuses, retried, sum(answered[victim.addr]), sum(answered[survivor.addr]),
		correct, predictions)
	for i, f := range failures {
		if i == 10 {
			t.Errorf("... and %d more failures", len(failures)-10)
			break
		}
		t.Errorf("failed request: %s", f)
	}
	if len(failures) > 0 || statuses["200"] != len(latencies)+len(cuts) || len(statuses) != 1 {
		t.Errorf("%d requests failed, nginx answered %v; want every one of the %d requests answered 200 (%d of them twice, their first answer cut)",
			len(failures), statuses, len(latencies), len(cuts))
	}
	awayFromKill := func(c time.Duration) bool { return c < killed-100*time.Millisecond || c > killed+2*time.Second }
	if len(cuts) > clients || slices.ContainsFunc(cuts, awayFromKill) {
		t.Errorf("%d answers cut, at %v; want at most one per client, ended by the kill at %v", len(cuts), cuts, killed)
	}
	if retried == 0 || sum(answered[victim.addr]) == 0 || sum(answered[survivor.addr]) == 0 {
		t.Errorf("each replica must answer requests and some must be retried: %d retried, answered %v", retried, answered)
	}
	if differ > 0 {
		t.Errorf("%d predictions differ from an earlier one of the same image", differ)
	}
	if float64(correct) < 0.9*float64(predictions) {
		t.Errorf("%d of %d predictions right, want at least 90%% (the model scores 98.6%% on the test set)", correct, predictions)
	}

	// The survivor counts what nginx says it answered, by endpoint, in its
	// counters and its histograms.
	fams := scrapeMetrics(t, survivor.addr)
	counted := map[string]int{}
	for _, m := range fams["convnet_http_requests_total"].GetMetric() {
		if e := label(m, "endpoint"); e != "/metrics" {
			counted[e+" "+label(m, "code")] += int(m.GetCounter().GetValue())
		}
	}
	timed := map[string]int{}
	for _, m := range fams["convnet_http_request_duration_seconds"].GetMetric() {
		if e := label(m, "endpoint"); e != "/metrics" {
			timed[e+" 200"] += int(m.GetHistogram().GetSampleCount())
		}
	}
	want := map[string]int{}
	for e, n := range answered[survivor.addr] {
		want[e+" 200"] = n
	}
	if fmt.Sprint(counted) != fmt.Sprint(want) || fmt.Sprint(timed) != fmt.Sprint(want) {
		t.Errorf("the survivor's convnet_http_requests_total %v and histogram counts %v; nginx's log says it answered %v", counted, timed, want)
	}
	t.Logf("the survivor's /metrics: requests by endpoint and code %v", counted)
}

// logged returns the number of requests in nginx's access log, by status.
func logged(statuses map[string]int) (n int) {
	for _, v := range statuses {
		n += v
	}
	return n
}
