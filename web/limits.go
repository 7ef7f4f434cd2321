package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Limits bound what one request, and one client address, may take. A zero
// field takes the value of DefaultLimits().
type Limits struct {
	// MaxBody is the largest request body read, in bytes. A larger one is
	// answered 413 too_large and is never held in memory.
	MaxBody int64
	// DBTimeout bounds the database calls of one request (all of them
	// together): a database that does not answer in time gives 503
	// unavailable.
	DBTimeout time.Duration
	// RequestsPerAddress is how many HTTP requests (websockets aside) one
	// client address may have in progress at once.
	RequestsPerAddress int
	// WebsocketsPerAddress is how many websockets one client address may
	// have open at once.
	WebsocketsPerAddress int
}

// DefaultLimits are the limits of a server started without settings:
// the defaults of the corresponding flags.
func DefaultLimits() Limits {
	return Limits{
		MaxBody:              64 << 10,
		DBTimeout:            5 * time.Second,
		RequestsPerAddress:   64,
		WebsocketsPerAddress: 64,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBody <= 0 {
		l.MaxBody = d.MaxBody
	}
	if l.DBTimeout <= 0 {
		l.DBTimeout = d.DBTimeout
	}
	if l.RequestsPerAddress <= 0 {
		l.RequestsPerAddress = d.RequestsPerAddress
	}
	if l.WebsocketsPerAddress <= 0 {
		l.WebsocketsPerAddress = d.WebsocketsPerAddress
	}
	return l
}

// limitBody refuses a body declared larger than max at once, and cuts one
// that turns out larger while it is read: the handler's read fails, and
// whatever the handler then answers, the client gets 413 too_large. The
// server reads at most max bytes of it (and net/http discards a bounded
// rest before it closes the connection).
func limitBody(max int64) echo.MiddlewareFunc {
	tooLarge := apiError(http.StatusRequestEntityTooLarge, "too_large",
		fmt.Sprintf("The request body is larger than %d bytes.", max))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > max {
				c.Response().Header().Set("Connection", "close")
				return tooLarge
			}
			if r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			// The underlying writer, so that net/http knows to close the
			// connection after the answer.
			b := &cappedBody{ReadCloser: http.MaxBytesReader(c.Response().Writer, r.Body, max)}
			r.Body = b
			err := next(c)
			if b.over {
				return tooLarge
			}
			return err
		}
	}
}

// cappedBody remembers that its http.MaxBytesReader hit the limit, even
// when the handler turned the read error into an answer of its own.
type cappedBody struct {
	io.ReadCloser
	over bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		b.over = true
	}
	return n, err
}

// dbDeadline gives each request's context a deadline, so that every
// database call it makes ends by then; toHTTP answers the deadline as
// unavailable. The websocket is not given one: its request lives as long
// as the connection (signaling bounds its own upgrade-time checks).
func dbDeadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// perAddress counts what each client address has open, and refuses more
// than max at once with 429 too_many_connections.
type perAddress struct {
	max  int
	what string // "requests in progress", "websockets open"

	mu   sync.Mutex
	open map[string]int
}

func newPerAddress(max int, what string) *perAddress {
	return &perAddress{max: max, what: what, open: make(map[string]int)}
}

func (p *perAddress) acquire(addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[addr] >= p.max {
		return false
	}
	p.open[addr]++
	return true
}

func (p *perAddress) release(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[addr]--; p.open[addr] <= 0 {
		delete(p.open, addr)
	}
}

func (p *perAddress) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		addr := c.RealIP()
		if !p.acquire(addr) {
			return p.refuse(c)
		}
		defer p.release(addr)
		return next(c)
	}
}

func (p *perAddress) refuse(c echo.Context) error {
	// Close after the answer: waiting for the body of a refused request
	// would hold the very connection refused.
	c.Response().Header().Set("Connection", "close")
	c.Response().Header().Set("Retry-After", "1")
	return apiError(http.StatusTooManyRequests, "too_many_connections",
		"Your address has "+strconv.Itoa(p.max)+" "+p.what+" already, the most allowed; close some and try again.")
}

// websocketServer is a /ws handler that returns once the connection is
// upgraded and keeps it after (signaling.Endpoint): it runs ended when the
// websocket ends, if it reported kept.
type websocketServer interface {
	ServeWebsocket(w http.ResponseWriter, r *http.Request, ended func()) (kept bool)
}

// websockets serves /ws through h, counting each websocket against its
// address until the websocket ends, which may be long after the handler
// returns. A handler that is only an http.Handler is counted until it
// returns.
func (p *perAddress) websockets(h http.Handler) echo.HandlerFunc {
	ws, _ := h.(websocketServer)
	return func(c echo.Context) error {
		addr := c.RealIP()
		if !p.acquire(addr) {
			return p.refuse(c)
		}
		if ws == nil {
			defer p.release(addr)
			h.ServeHTTP(c.Response(), c.Request())
			return nil
		}
		if !ws.ServeWebsocket(c.Response(), c.Request(), func() { p.release(addr) }) {
			p.release(addr)
		}
		return nil
	}
}

// skipping applies m to every route but the one whose pattern is route.
func skipping(route string, m echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		limited := m(next)
		return func(c echo.Context) error {
			if c.Path() == route {
				return next(c)
			}
			return limited(c)
		}
	}
}
