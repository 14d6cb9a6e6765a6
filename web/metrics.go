package web

import (
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of its own so
// that several servers in one process do not collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec   // by endpoint and code
	duration *prometheus.HistogramVec // by endpoint
	inFlight atomic.Int64
	handler  http.Handler // GET /metrics
}

func newMetrics(s *Server) *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "convnet_http_requests_total",
		Help: "HTTP requests answered, by endpoint (the route's pattern; \"none\" for a path refused before routing) and status code.",
	}, []string{"endpoint", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "convnet_http_request_duration_seconds",
		Help:    "Time from a request's headers to the end of its answer, by endpoint.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"endpoint"})
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "convnet_http_requests_in_flight",
		Help: "HTTP requests being answered, this scrape included.",
	}, func() float64 { return float64(m.inFlight.Load()) })
	m.registry.MustRegister(
		m.requests, m.duration, inFlight,
		poolCollector{s},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
	return m
}

// observe counts one answered request.
func (m *metrics) observe(endpoint string, status int, took time.Duration) {
	m.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(endpoint).Observe(took.Seconds())
}

var (
	workSlotsDesc = prometheus.NewDesc("convnet_work_slots",
		"Requests that may read an image and run a model at once (Options.Concurrency).", nil, nil)
	workBusyDesc = prometheus.NewDesc("convnet_work_slots_busy",
		"Requests reading an image or running a model now.", nil, nil)
	poolSizeDesc = prometheus.NewDesc("convnet_model_pool_size",
		"The most copies of a model that may run at once.", []string{"model"}, nil)
	poolCopiesDesc = prometheus.NewDesc("convnet_model_pool_copies",
		"Copies of a model made so far, the model itself included.", []string{"model"}, nil)
	poolBusyDesc = prometheus.NewDesc("convnet_model_pool_busy",
		"Copies of a model running a batch now.", []string{"model"}, nil)
	poolWaitingDesc = prometheus.NewDesc("convnet_model_pool_waiting",
		"Calls waiting for a free copy of a model.", []string{"model"}, nil)
)

// poolCollector reads the work slots and each model's pool of copies
// (model.Classifier.PoolStats) at every scrape.
type poolCollector struct{ s *Server }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{workSlotsDesc, workBusyDesc, poolSizeDesc, poolCopiesDesc, poolBusyDesc, poolWaitingDesc} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	gauge(workSlotsDesc, cap(c.s.work))
	gauge(workBusyDesc, len(c.s.work))
	c.s.mu.RLock()
	models := slices.Clone(c.s.models)
	c.s.mu.RUnlock()
	for _, m := range models {
		p := m.c.PoolStats()
		gauge(poolSizeDesc, p.Size, m.name)
		gauge(poolCopiesDesc, p.Copies, m.name)
		gauge(poolBusyDesc, p.Busy, m.name)
		gauge(poolWaitingDesc, p.Waiting, m.name)
	}
}
