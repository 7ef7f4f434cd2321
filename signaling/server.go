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
		// Memory per idle connection: the read buffer is the HTTP
		// server's own (4 KiB, kept after the upgrade). gorilla's write
		// buffer is never used (write.go frames and writes itself); with
		// a pool it is not even made.
		ReadBufferSize:  0,
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
	ws, err := h.upgrader.Upgrade(w, r, nil)
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
