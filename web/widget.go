package web

import (
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"parley/auth"
	"parley/chat"
)

// visitorTTL is how long a visitor token lasts; the widget renews it on
// every load, so a returning customer keeps their identity.
const visitorTTL = 30 * 24 * time.Hour

type widget struct {
	chat   *chat.Service
	auth   *auth.Service
	files  fs.FS
	tokens *auth.Limiter
	wrong  *auth.Limiter // unknown keys, per client address
}

func (w *widget) routes(e *echo.Echo) {
	e.GET("/widget.js", w.loader)
	e.GET("/widget/:key", w.frame)
	e.GET("/api/widget/:key", w.settings)
	e.POST("/api/widget/:key/visitor", w.visitor)
	e.GET("/demo", page(w.files, "demo.html"))
}

// queue finds the queue of the request's key. Unknown keys are limited
// per client address, as wrong room numbers are, so keys cannot be
// guessed; known ones are not, so a busy site behind one address is not
// refused.
func (w *widget) queue(c echo.Context) (chat.Queue, error) {
	addr := c.RealIP()
	if blocked, retry := w.wrong.Blocked(addr); blocked {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
		return chat.Queue{}, apiError(http.StatusTooManyRequests, "rate_limited",
			"Too many unknown chat keys from your address. Try again in "+humanDuration(retry)+".")
	}
	q, err := w.chat.QueueByKey(c.Request().Context(), c.Param("key"))
	if errors.Is(err, chat.ErrNotFound) {
		w.wrong.Allow(addr)
	}
	return q, err
}

func (w *widget) loader(c echo.Context) error {
	b, err := fs.ReadFile(w.files, "widget-loader.js")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", b)
}

// frame serves the widget's page. Only the queue's allowed sites (and
// Parley itself, for /demo) may frame it.
func (w *widget) frame(c echo.Context) error {
	q, err := w.queue(c)
	if errors.Is(err, chat.ErrNotFound) {
		return c.HTML(http.StatusNotFound, "<!doctype html><title>Chat</title><p>This chat is not available.</p>")
	}
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusTooManyRequests {
		return c.HTML(he.status, "<!doctype html><title>Chat</title><p>This chat is not available just now; try again later.</p>")
	}
	if err != nil {
		return err
	}
	b, err := fs.ReadFile(w.files, "widget.html")
	if err != nil {
		return err
	}
	ancestors := []string{"'self'"}
	for _, o := range q.AllowedOrigins {
		if safeOrigin(o) {
			ancestors = append(ancestors, o)
		}
	}
	h := c.Response().Header()
	h.Del("X-Frame-Options")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; style-src 'self'; frame-ancestors "+strings.Join(ancestors, " "))
	h.Set("Cache-Control", "no-cache")
	return c.HTMLBlob(http.StatusOK, b)
}

// safeOrigin admits scheme://host[:port] and nothing that could break out
// of the CSP header or widen it (a wildcard such as https://*).
func safeOrigin(o string) bool {
	if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
		return false
	}
	return !strings.ContainsAny(o, " ;,'\"*\r\n")
}

func (w *widget) settings(c echo.Context) error {
	q, err := w.queue(c)
	if err != nil {
		return err
	}
	pub := q.Public()
	pub.Open = q.OpenAt(time.Now()) // enabled and within its hours now (chat/queues/schedule.go)
	return c.JSON(http.StatusOK, pub)
}

// visitor issues the widget's token. A still-valid token of the same queue
// keeps the visitor's identity (and so its conversation) across reloads.
// Only making a new visitor is rate limited: renewing a valid token (every
// page load of a returning customer) is not, so an office behind one
// address is not refused.
func (w *widget) visitor(c echo.Context) error {
	q, err := w.queue(c)
	if err != nil {
		return err
	}
	var in struct {
		Token string `json:"token"`
	}
	if err := bind(c, &in, `send {"token"} or {}`); err != nil {
		return err
	}
	subject := ""
	if in.Token != "" {
		if p, err := w.auth.Authenticate(c.Request().Context(), in.Token); err == nil && p.Kind == auth.KindVisitor && p.Scope == q.Key {
			subject = p.Subject
		}
	}
	if subject == "" {
		if ok, retry := w.tokens.Allow(c.RealIP()); !ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
			return apiError(http.StatusTooManyRequests, "rate_limited", "Too many new chats from your address; try again in "+humanDuration(retry)+".")
		}
	}
	tok, _, err := w.auth.IssueVisitor(q.Key, subject, "", visitorTTL)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"token": tok, "expires_at": time.Now().Add(visitorTTL).UTC().Truncate(time.Second)})
}
