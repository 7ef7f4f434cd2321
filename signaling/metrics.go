package signaling

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	conns     prometheus.Gauge
	envelopes *prometheus.CounterVec
	errors    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	slow      prometheus.Counter

	backpressure prometheus.Counter
}

// newMetrics registers the websocket metrics on reg (none when nil). The
// type label takes only registered types, "unknown" and "invalid", so a
// client cannot grow the label set.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_ws_connections", Help: "Open websocket connections."}),
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_ws_envelopes_total", Help: "Requests received, by type."}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_ws_errors_total", Help: "Error envelopes sent, by code."}, []string{"code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_ws_request_seconds", Help: "Time to answer a request, by type.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}}, []string{"type"}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_ws_slow_disconnects_total", Help: "Connections closed because their send queue filled or a write timed out."}),
		backpressure: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_ws_backpressure_total", Help: "Times a connection stopped reading because its requests in flight were at the limit."}),
	}
	if reg != nil {
		reg.MustRegister(m.conns, m.envelopes, m.errors, m.latency, m.slow, m.backpressure)
	}
	return m
}
