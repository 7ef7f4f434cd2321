package signaling

import (
	"context"
	"encoding/json"
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
		// Memory per idle connection: a read buffer of its own, small,
		// rather than the HTTP server's 4 KiB one (which 0 would keep for
		// the connection's life). Requests are small; a frame larger than
		// the buffer is read straight into the reader's slice, past it.
		// gorilla's write buffer is never used (write.go frames and
		// writes itself); with a pool it is not even made.
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: &writeBuffers,
		// The origin was checked, with the principal, before Upgrade.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return h
}

func (h *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.ServeWebsocket(w, r, nil)
}

// ServeWebsocket is ServeHTTP for a caller that must know when the
// websocket ends (web's per-address limit): it returns as soon as the
// connection is upgraded, with kept true, and ended (if not nil) runs
// once the connection has ended and its last request finished. When it
// returns false there was no connection (refused, or the upgrade failed)
// and ended is never run.
//
// Returning at once lets net/http drop its per-connection goroutine and
// what it holds (the request, its headers, the hijacked buffered writer),
// and the connection's reader starts on a fresh goroutine with a small
// stack instead of the handler's, grown deep by the checks and the
// upgrade: together about half an idle connection's memory.
func (h *Endpoint) ServeWebsocket(w http.ResponseWriter, r *http.Request, ended func()) (kept bool) {
	// The checks get a deadline of their own: a database that does not
	// answer must not hold the handshake.
	ctx, cancel := context.WithTimeout(r.Context(), h.CheckTimeout)
	p, err := h.auth.Authenticate(ctx, auth.RequestToken(r, true))
	allowed := err == nil && h.originAllowed(ctx, r, p)
	unavailable := ctx.Err() != nil
	cancel()
	switch {
	case store.IsUnavailable(err) || unavailable:
		httpError(w, http.StatusServiceUnavailable, CodeUnavailable, "the database is not answering; try again in a moment")
		return false
	case err != nil:
		httpError(w, http.StatusUnauthorized, CodeUnauthenticated, "sign in first, or send a valid token")
		return false
	}
	if !allowed {
		httpError(w, http.StatusForbidden, "forbidden_origin", "connections from "+r.Header.Get("Origin")+" are not allowed")
		return false
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return false // the upgrader has answered
	}
	c := newConn(ws.NetConn(), newConnID(), p, h.hub)
	if !h.hub.add(c) {
		c.abort(closeFrame{websocket.CloseGoingAway, "server shutting down"})
		return false
	}
	c.logger().Info("connected", "remote", r.RemoteAddr)
	c.startReading(ended)
	return true
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
