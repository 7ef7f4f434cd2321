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
	"parley/store"
)

// httpError is an API error: its status and the {"error": {code, message}}
// body of docs/protocol.md.
type httpError struct {
	status        int
	code, message string
}

func (e *httpError) Error() string { return e.code + ": " + e.message }

func apiError(status int, code, msg string) error { return &httpError{status, code, msg} }

type coder interface{ Code() string }

// errorHandler is the one place an error becomes an HTTP answer. User
// errors keep their message; anything unknown is logged and answered as
// internal, never with a stack.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		he := toHTTP(err)
		if he.status == http.StatusInternalServerError {
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		c.JSON(he.status, map[string]any{"error": map[string]string{"code": he.code, "message": he.message}}) //nolint:errcheck
	}
}

func toHTTP(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var ee *echo.HTTPError
	if errors.As(err, &ee) {
		code := strings.ToLower(strings.ReplaceAll(http.StatusText(ee.Code), " ", "_"))
		return &httpError{ee.Code, code, fmt.Sprint(ee.Message)}
	}
	// Unavailable includes the request's database deadline (dbDeadline) passing.
	if store.IsUnavailable(err) {
		return &httpError{http.StatusServiceUnavailable, "unavailable", "The database is not answering; try again in a moment."}
	}
	if errors.Is(err, store.ErrNotFound) {
		return &httpError{http.StatusNotFound, "not_found", "not found"}
	}
	var c coder
	if errors.As(err, &c) {
		status := map[string]int{
			"unauthenticated": http.StatusUnauthorized,
			"forbidden":       http.StatusForbidden,
			"not_found":       http.StatusNotFound,
			"conflict":        http.StatusConflict,
			"bad_request":     http.StatusBadRequest,
			"rate_limited":    http.StatusTooManyRequests,
		}[c.Code()]
		if status != 0 {
			return &httpError{status, c.Code(), err.Error()}
		}
	}
	return &httpError{http.StatusInternalServerError, "internal", "Something went wrong on the server; it has been logged."}
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
					err = apiError(http.StatusInternalServerError, "internal", "Something went wrong on the server; it has been logged.")
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
