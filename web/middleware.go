package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"parley/auth"
	"parley/fault"
)

// httpError is an API error: its status and the {"error": {code, message}}
// body of docs/protocol.md.
type httpError struct {
	status        int
	code, message string
}

func (e *httpError) Error() string { return e.code + ": " + e.message }

func apiError(status int, code, msg string) error { return &httpError{status, code, msg} }

// errorHandler is the one place an error becomes an HTTP answer: its
// body is {"error": {code, message}}, never a stack.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		he := toHTTP(err, log.With("method", c.Request().Method, "path", c.Request().URL.Path))
		c.JSON(he.status, map[string]any{"error": map[string]string{"code": he.code, "message": he.message}}) //nolint:errcheck
	}
}

// toHTTP is the answer to err. The HTTP surface's own errors (apiError,
// and echo's for routes and methods) carry their status; any other error
// is fault.Describe's code and message with the status of fault's table,
// where a code HTTP never answers is the server's fault. Faults are
// logged on log.
func toHTTP(err error, log *slog.Logger) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var ee *echo.HTTPError
	if errors.As(err, &ee) {
		if ee.Code >= http.StatusInternalServerError {
			log.Error("request failed", "err", err)
		}
		code := strings.ToLower(strings.ReplaceAll(http.StatusText(ee.Code), " ", "_"))
		return &httpError{ee.Code, code, fmt.Sprint(ee.Message)}
	}
	code, msg := fault.Describe(err, log)
	r, _ := fault.Lookup(code)
	if r.Status == 0 {
		code, msg = fault.Refuse(code, err, log)
		r, _ = fault.Lookup(code)
	}
	return &httpError{r.Status, code, msg}
}

func recoverJSON(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.Error("panic in handler", "path", c.Request().URL.Path, "panic", r)
					err = errors.New("the handler panicked")
				}
			}()
			return next(c)
		}
	}
}

// observe logs each request and records its latency by route pattern (so
// the label set stays bounded).
func observe(log *slog.Logger, reg prometheus.Registerer) echo.MiddlewareFunc {
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_http_request_seconds",
		Help:    "HTTP request latency by route, method and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method", "status"})
	reg.MustRegister(latency)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			latency.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Observe(d.Seconds())
			if route != "/ws" && route != "/metrics" && route != "/healthz" && !strings.HasPrefix(route, "/static") {
				log.Debug("http", "method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "took", d)
			}
			return nil
		}
	}
}

// sameOriginWrites refuses a state-changing request that a browser sent
// from another origin (the session cookie is SameSite=Lax, this is the
// second lock on the door). Scheme, host and port must all be Parley's.
func sameOriginWrites(public *url.URL) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
				return next(c)
			}
			o := r.Header.Get("Origin")
			if o == "" || auth.SameOrigin(o, r, public) {
				return next(c)
			}
			return apiError(http.StatusForbidden, "forbidden_origin", "requests from "+o+" are not allowed")
		}
	}
}

// pagePolicy is the Content-Security-Policy of every answer: scripts,
// styles and connections from Parley only, and no framing. The widget's
// frame replaces frame-ancestors with its queue's allowed sites.
const pagePolicy = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; style-src 'self'; frame-ancestors 'none'"

// secureHeaders sets the security headers on every answer, the static
// files and errors included, so no HTML is ever served without them.
func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", pagePolicy)
		return next(c)
	}
}
