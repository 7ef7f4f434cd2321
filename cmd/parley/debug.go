package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveDebug serves Go's profiler on addr, a listener apart from the
// public one, until the returned stop is called. Its handlers are on a
// mux of their own, never on the public server's.
func serveDebug(addr string, log *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveAside(addr, "--debug-addr", mux, log, "profiler is serving")
}

// serveMetrics serves reg's metrics at /metrics on addr, a listener apart
// from the public one, until the returned stop is called.
func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return serveAside(addr, "--metrics-addr", mux, log, "metrics are serving")
}

// serveAside serves h on a listener of its own at addr (the setting
// named flag) and logs announce with its address.
func serveAside(addr, flag string, h http.Handler, log *slog.Logger, announce string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (set %s): %v", addr, flag, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln) //nolint:errcheck // ends with Close
	}()
	log.Info(announce, "addr", ln.Addr().String())
	return func() { srv.Close(); <-done }, nil
}
