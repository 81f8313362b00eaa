package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the hub's Prometheus metrics on their own registry (no global
// state, so tests can build many servers).
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	bankCalls *prometheus.CounterVec
	bankTime  *prometheus.HistogramVec
}

// BankHealth reports each bank's breaker state for the obx_bank_up gauge.
type BankHealth func() map[string]bool

// NewMetrics registers the hub's metrics. health may be nil.
func NewMetrics(health BankHealth) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "obx_http_requests_total",
			Help: "HTTP requests by route, HTTP status and KFTC rsp_code.",
		}, []string{"route", "status", "rsp_code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "obx_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		bankCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "obx_bank_calls_total",
			Help: "Calls to participating banks by bank, operation and result (ok, refused, error code).",
		}, []string{"bank", "op", "result"}),
		bankTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "obx_bank_call_duration_seconds",
			Help:    "Latency of calls to participating banks.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"bank", "op"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.bankCalls, m.bankTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if health != nil {
		m.reg.MustRegister(bankUpCollector{health})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) observeRequest(route string, status int, rspCode string, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status), rspCode).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveBankCall records one call to a bank; bankguard.Config.Observe takes it.
func (m *Metrics) ObserveBankCall(bank, op string, d time.Duration, result string) {
	m.bankCalls.WithLabelValues(bank, op, result).Inc()
	m.bankTime.WithLabelValues(bank, op).Observe(d.Seconds())
}

var bankUpDesc = prometheus.NewDesc("obx_bank_up", "1 when the bank's circuit breaker lets calls through.", []string{"bank"}, nil)

type bankUpCollector struct{ health BankHealth }

func (c bankUpCollector) Describe(ch chan<- *prometheus.Desc) { ch <- bankUpDesc }

func (c bankUpCollector) Collect(ch chan<- prometheus.Metric) {
	for bank, up := range c.health() {
		v := 0.0
		if up {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(bankUpDesc, prometheus.GaugeValue, v, bank)
	}
}
