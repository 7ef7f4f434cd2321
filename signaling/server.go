package signaling

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"parley/auth"
	"parley/store"
)

// Authenticator turns a token into a principal (auth.Service does).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// OriginPolicy decides whether a browser at origin may connect as p. The
// server's own origin is always allowed and is checked before the policy,
// so a policy only adds origins (a queue's allowed web sites, say).
type OriginPolicy func(ctx context.Context, origin *url.URL, p auth.Principal) bool

// writeBuffers are the websockets' write buffers, shared.
var writeBuffers sync.Pool

// Endpoint is the /ws HTTP handler.
type Endpoint struct {
	hub       *Hub
	auth      Authenticator
	publicURL *url.URL
	origins   OriginPolicy
	upgrader  websocket.Upgrader

	// CheckTimeout bounds the checks made before the upgrade (the
	// credential's lookup and the origin policy): a database that has not
	// answered by then gives 503 unavailable. NewEndpoint sets 5 seconds.
	CheckTimeout time.Duration
}

// NewEndpoint serves /ws for hub. publicURL is the server's own origin;
// extra may be nil.
func NewEndpoint(hub *Hub, a Authenticator, publicURL *url.URL, extra OriginPolicy) *Endpoint {
	h := &Endpoint{hub: hub, auth: a, publicURL: publicURL, origins: extra, CheckTimeout: 5 * time.Second}
	h.upgrader = websocket.Upgrader{
		// Memory per idle connection: a small read buffer of gorilla's
		// own (slimHijacker lets the HTTP server's 4 KiB ones go; frames
		// larger than it are read straight into the message). gorilla's
		// write buffer is never used (write.go frames and writes
		// itself); with a pool it is not even made.
		ReadBufferSize:  readBufferSize,
		WriteBufferSize: 4096,
		WriteBufferPool: &writeBuffers,
		// The origin was checked, with the principal, before Upgrade.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return h
}

func (h *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The request's context lives as long as the connection: the checks
	// get a deadline of their own.
	ctx, cancel := context.WithTimeout(r.Context(), h.CheckTimeout)
	p, err := h.auth.Authenticate(ctx, auth.RequestToken(r, true))
	allowed := err == nil && h.originAllowed(ctx, r, p)
	unavailable := ctx.Err() != nil
	cancel()
	switch {
	case store.IsUnavailable(err) || unavailable:
		httpError(w, http.StatusServiceUnavailable, CodeUnavailable, "the database is not answering; try again in a moment")
		return
	case err != nil:
		httpError(w, http.StatusUnauthorized, CodeUnauthenticated, "sign in first, or send a valid token")
		return
	}
	if !allowed {
		httpError(w, http.StatusForbidden, "forbidden_origin", "connections from "+r.Header.Get("Origin")+" are not allowed")
		return
	}
	ws, err := h.upgrader.Upgrade(slimHijacker{w}, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := newConn(ws, newConnID(), p, h.hub)
	if !h.hub.add(c) {
		c.abort(closeFrame{websocket.CloseGoingAway, "server shutting down"})
		return
	}
	defer h.hub.remove(c)
	c.log.Info("connected", "remote", r.RemoteAddr)
	c.readLoop()
	close(c.readDone)
	if c.end(closeFrame{websocket.CloseNormalClosure, ""}) {
		c.ws.Close()
	}
	c.workers.Wait() // requests still running end with the connection's context
	c.log.Info("disconnected", "code", c.closedAs.code, "reason", c.closedAs.reason)
}

// readBufferSize is each connection's read buffer: a request of the
// browser's (a few hundred bytes) is read with one system call.
const readBufferSize = 512

// slimHijacker hands gorilla the hijacked connection with the HTTP
// server's buffers shrunk. The handler goroutine runs as long as the
// websocket does (the per-address limits of web count it), so net/http's
// connection and its 4 KiB bufio.Reader and Writer stay reachable all
// that time, although after a hijack net/http never uses them again and
// gorilla reads through a buffer of its own and writes none (write.go).
// Hijack hands out those very two, so they are replaced here by minimal
// ones: 8 KiB less per connection. A reader holding bytes already is
// left alone, and gorilla refuses the upgrade (data before the handshake).
type slimHijacker struct{ http.ResponseWriter }

func (w slimHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the response does not implement http.Hijacker")
	}
	nc, brw, err := h.Hijack()
	if err != nil || brw == nil {
		return nc, brw, err
	}
	if brw.Reader.Buffered() == 0 {
		*brw.Reader = *bufio.NewReaderSize(nc, 16)
	}
	if brw.Writer.Buffered() == 0 {
		*brw.Writer = *bufio.NewWriterSize(nc, 16)
	}
	return nc, brw, nil
}

// originAllowed admits no Origin (not a browser: no ambient credentials
// to abuse), Parley's own (scheme, host and port), and what the policy
// adds.
func (h *Endpoint) originAllowed(ctx context.Context, r *http.Request, p auth.Principal) bool {
	o := r.Header.Get("Origin")
	if o == "" || auth.SameOrigin(o, r, h.publicURL) {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	return h.origins != nil && h.origins(ctx, u, p)
}

func httpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]WireError{"error": {code, msg}}) //nolint:errcheck
}
