package web

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
)

// scrape reads s's /metrics with the Prometheus text parser.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	r := do(s, "GET", "/metrics", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, r.body)
	}
	return fams
}

// labels returns a metric's labels as "name=value,..." in their order.
func labels(m *dto.Metric) string {
	var s []string
	for _, l := range m.GetLabel() {
		s = append(s, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(s, ",")
}

// values returns the value of each metric of a family (a histogram's
// count) by its labels.
func values(t *testing.T, fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("/metrics has no %s", name)
	}
	out := map[string]float64{}
	for _, m := range f.GetMetric() {
		switch {
		case m.Counter != nil:
			out[labels(m)] = m.Counter.GetValue()
		case m.Gauge != nil:
			out[labels(m)] = m.Gauge.GetValue()
		case m.Histogram != nil:
			out[labels(m)] = float64(m.Histogram.GetSampleCount())
		}
	}
	return out
}

// TestMetrics makes requests of every kind of answer and checks that
// /metrics counts each by endpoint and status, times each, and shows the
// work slots and each model's pool of copies.
func TestMetrics(t *testing.T) {
	s := testServer(t)
	requests := []struct {
		method, target, ctype string
		body                  []byte
		status                int
	}{
		{"GET", "/api/models", "", nil, 200},
		{"GET", "/api/models", "", nil, 200},
		{"POST", "/api/predict?model=letters", "application/json", []byte(pixelsJSON(64, 0)), 200},
		{"POST", "/api/predict?model=letters", "application/json", []byte(pixelsJSON(63, 0)), 400},
		{"POST", "/api/predict?model=none", "application/json", []byte(pixelsJSON(64, 0)), 404},
		{"GET", "/api/predict", "", nil, 405},
		{"GET", "/api/models/digits/layers/0/kernel", "", nil, 200},
		{"GET", "/api/nothing", "", nil, 404},
		{"GET", "/a/../b", "", nil, 400},
		{"GET", "/healthz", "", nil, 200},
		{"GET", "/readyz", "", nil, 200},
	}
	for _, q := range requests {
		if r := do(s, q.method, q.target, q.ctype, q.body); r.status != q.status {
			t.Fatalf("%s %s: status %d, want %d: %s", q.method, q.target, r.status, q.status, r.body)
		}
	}
	fams := scrape(t, s)
	want := map[string]float64{
		"code=200,endpoint=/api/models":                              2,
		"code=200,endpoint=/api/predict":                             1,
		"code=400,endpoint=/api/predict":                             1,
		"code=404,endpoint=/api/predict":                             1,
		"code=405,endpoint=/api/predict":                             1,
		"code=200,endpoint=/api/models/{name}/layers/{index}/kernel": 1,
		"code=404,endpoint=/api/":                                    1,
		"code=400,endpoint=none":                                     1,
		"code=200,endpoint=/healthz":                                 1,
		"code=200,endpoint=/readyz":                                  1,
	}
	got := values(t, fams, "convnet_http_requests_total")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("convnet_http_requests_total = %v\nwant %v", got, want)
	}
	perEndpoint := map[string]float64{}
	for k, v := range want {
		_, endpoint, _ := strings.Cut(k, ",")
		perEndpoint[endpoint] += v
	}
	if got := values(t, fams, "convnet_http_request_duration_seconds"); fmt.Sprint(got) != fmt.Sprint(perEndpoint) {
		t.Errorf("convnet_http_request_duration_seconds counts = %v\nwant %v", got, perEndpoint)
	}
	gauges := map[string]float64{
		"convnet_http_requests_in_flight": 1, // the scrape
		"convnet_work_slots_busy":         0,
	}
	for name, v := range gauges {
		if got := values(t, fams, name)[""]; got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if got := values(t, fams, "convnet_work_slots")[""]; got != float64(s.opts.Concurrency) {
		t.Errorf("convnet_work_slots = %v, want %d", got, s.opts.Concurrency)
	}
	// letters ran one prediction (one copy, its own model); digits one
	// kernel read, which runs no model.
	pools := map[string]map[string]float64{
		"convnet_model_pool_size":    {"model=letters": 2, "model=digits": 2},
		"convnet_model_pool_copies":  {"model=letters": 1, "model=digits": 1},
		"convnet_model_pool_busy":    {"model=letters": 0, "model=digits": 0},
		"convnet_model_pool_waiting": {"model=letters": 0, "model=digits": 0},
	}
	for name, want := range pools {
		if got := values(t, fams, name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

// TestMetricsPerServer runs two servers in one process: each counts only
// its own requests.
func TestMetricsPerServer(t *testing.T) {
	a, b := testServer(t), testServer(t)
	for range 3 {
		do(a, "GET", "/api/models", "", nil)
	}
	do(b, "GET", "/api/models", "", nil)
	for _, tt := range []struct {
		s    *Server
		want float64
	}{{a, 3}, {b, 1}} {
		if got := values(t, scrape(t, tt.s), "convnet_http_requests_total")["code=200,endpoint=/api/models"]; got != tt.want {
			t.Errorf("GET /api/models counted %v times, want %v", got, tt.want)
		}
	}
}
