package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"parley/auth"
)

// Request is one decoded client request handed to a Handler.
type Request struct {
	Conn *Conn
	Type string
	ID   string
	Data json.RawMessage
}

// Principal is who sent the request.
func (r *Request) Principal() auth.Principal { return r.Conn.Principal() }

// Handler answers a request: the value is the ack's data (nil for none),
// the error becomes an error envelope through toWire.
type Handler func(ctx context.Context, req *Request) (any, error)

type route struct {
	handler Handler
	roles   []auth.Role // empty: any principal
	atOnce  bool        // answered by the reader itself, ahead of the lines
}

// Router is the registry of request types. Packages register their types
// at wiring time; lookups happen on every request.
type Router struct {
	mu     sync.RWMutex
	routes map[string]route
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{routes: make(map[string]route)} }

// Handle registers h for typ. With roles, only principals holding one of
// them may send typ; the others get forbidden. Registering a type twice is
// a wiring bug and panics.
func (r *Router) Handle(typ string, h Handler, roles ...auth.Role) {
	if !isRequestType(typ) {
		panic(fmt.Sprintf("signaling: bad request type %q", typ))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.routes[typ]; dup {
		panic(fmt.Sprintf("signaling: %s registered twice", typ))
	}
	r.routes[typ] = route{handler: h, roles: roles}
}

// answerAtOnce makes the reader answer these types itself, as they
// arrive, instead of queueing them on a line (dispatch.go). Their handlers
// must do no I/O and be quick: they hold up the reading of the connection.
func (r *Router) answerAtOnce(types ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, typ := range types {
		rt, ok := r.routes[typ]
		if !ok {
			panic(fmt.Sprintf("signaling: %s is not registered", typ))
		}
		rt.atOnce = true
		r.routes[typ] = rt
	}
}

func (r *Router) lookup(typ string) (route, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rt, ok := r.routes[typ]
	return rt, ok
}

// Types lists the registered request types, sorted.
func (r *Router) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ts := make([]string, 0, len(r.routes))
	for t := range r.routes {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

func (rt route) allows(p auth.Principal) error {
	if len(rt.roles) == 0 || p.Is(rt.roles...) {
		return nil
	}
	names := make([]string, len(rt.roles))
	for i, r := range rt.roles {
		names[i] = string(r)
	}
	return Forbidden(fmt.Sprintf("this needs the role %s; you are %s", strings.Join(names, " or "), p.Role))
}
