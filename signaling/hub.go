// Package signaling is the websocket surface: it upgrades /ws, checks the
// Origin and the principal, decodes envelopes, dispatches each request type
// to the handler a domain registered, and delivers bus events to the local
// connections that subscribed to them.
package signaling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"parley/auth"
	"parley/bus"
)

// Config tunes the websocket surface. DefaultConfig fills every field.
type Config struct {
	Version        string        // reported by session.hello
	MaxFrameBytes  int           // larger frames close the connection with 1009
	SendQueue      int           // frames queued per connection before it counts as slow
	SendQueueBytes int           // bytes queued per connection before it counts as slow
	SocketBuffer   int           // the kernel's send buffer per connection, in bytes; 0 leaves the system's
	WriteTimeout   time.Duration // per frame; a write that takes longer ends the connection as slow
	PingInterval   time.Duration
	PongTimeout    time.Duration // no frame or pong for this long ends the connection
	RequestTimeout time.Duration // per request handler
	InFlight       int           // requests per connection taken and not yet answered
	RatePerSecond  float64       // sustained requests per connection
	RateBurst      int           // requests allowed at once above the rate
	ClosingRetry   time.Duration // retry_ms of session.closing
	// ResyncWave connections are told session.resync at a time, ResyncPace
	// apart, so that the clients of a node do not all ask again at once.
	ResyncWave int
	ResyncPace time.Duration
}

// DefaultConfig is the configuration of a fresh server.
func DefaultConfig() Config {
	return Config{
		Version:        "dev",
		MaxFrameBytes:  64 << 10,
		SendQueue:      256,
		SendQueueBytes: 1 << 20,
		SocketBuffer:   64 << 10,
		WriteTimeout:   5 * time.Second,
		PingInterval:   25 * time.Second,
		PongTimeout:    60 * time.Second,
		RequestTimeout: 15 * time.Second,
		InFlight:       16,
		RatePerSecond:  30,
		RateBurst:      60,
		ClosingRetry:   2 * time.Second,
		ResyncWave:     200,
		ResyncPace:     20 * time.Millisecond,
	}
}

// Hub holds the node's connections and their bus subscriptions.
type Hub struct {
	cfg     Config
	bus     bus.Bus
	router  *Router
	log     *slog.Logger
	metrics *metrics

	mu       sync.Mutex
	conns    map[*Conn]struct{}
	byKey    map[string]map[*Conn]struct{} // the connections of each principal, by its key
	subjects map[string]*subject
	closing  bool
	pinging  bool           // the ping schedule runs (ping.go)
	nextSlot uint32         // the ping slot of the next connection
	wg       sync.WaitGroup // one per live connection
	watchers []Observer

	workers workerPool // runs the connections' lines (dispatch.go) and their readers (poll.go)
}

// Observer hears of every connection that opens and ends on this node
// (presence). It is called on that connection's own goroutine, so it delays
// no one else; it should still be quick.
type Observer interface {
	Connected(p auth.Principal)
	Disconnected(p auth.Principal)
}

// Observe adds o. Call it before serving.
func (h *Hub) Observe(o Observer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers = append(h.watchers, o)
}

func (h *Hub) observers() []Observer {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Observer(nil), h.watchers...)
}

// subject is one bus subscription shared by this node's connections. Its
// first subscriber makes the bus subscription without holding the hub's
// mutex; those who join meanwhile wait for ready, so no one's Subscribe
// returns before events flow.
type subject struct {
	conns map[*Conn]struct{} // under the hub's mutex
	ready chan struct{}      // closed once the bus subscription is made or has failed
	err   error              // why it failed; written before ready is closed
	unsub func()             // under the hub's mutex; nil until the subscription is made
}

// NewHub makes a hub that dispatches through router and registers the
// session.* types on it. reg may be nil (no metrics).
func NewHub(cfg Config, b bus.Bus, router *Router, log *slog.Logger, reg prometheus.Registerer) *Hub {
	h := &Hub{
		cfg:      cfg,
		bus:      b,
		router:   router,
		log:      log,
		metrics:  newMetrics(reg),
		conns:    make(map[*Conn]struct{}),
		byKey:    make(map[string]map[*Conn]struct{}),
		subjects: make(map[string]*subject),
	}
	h.registerSession()
	router.answerAtOnce(helloType, "session.ping")
	// The end of a principal's access reaches every node; each acts on
	// its own connections. Without this subscription no end of access
	// would be heard here: say so loudly.
	if _, err := b.Subscribe(bus.AccessSubject, h.accessEnded); err != nil {
		log.Error("subscribe to the ends of access", "err", err)
	}
	return h
}

// Count is the number of open connections.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// add registers a new connection and subscribes it to its principal's
// subject and the broadcast subject. It fails once shutdown has begun.
func (h *Hub) add(c *Conn) bool {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return false
	}
	h.conns[c] = struct{}{}
	key := c.principal.Key()
	if h.byKey[key] == nil {
		h.byKey[key] = make(map[*Conn]struct{})
	}
	h.byKey[key][c] = struct{}{}
	c.pingSlot = h.nextSlot % pingSlots
	h.nextSlot++
	h.startPingingLocked()
	h.wg.Add(1)
	h.mu.Unlock()
	h.metrics.conns.Inc()
	if err := c.Subscribe(bus.PrincipalSubject(c.principal.Key())); err != nil {
		c.logger().Error("subscribe principal", "err", err)
	}
	if err := c.Subscribe(bus.BroadcastSubject); err != nil {
		c.logger().Error("subscribe broadcast", "err", err)
	}
	for _, o := range h.observers() {
		o.Connected(c.principal)
	}
	return true
}

// remove takes c out of the hub: first out of the connections, so a
// subscription made for it from now on is undone at once (subscribe), then
// out of every subject it follows.
func (h *Hub) remove(c *Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	key := c.principal.Key()
	delete(h.byKey[key], c)
	if len(h.byKey[key]) == 0 {
		delete(h.byKey, key)
	}
	h.mu.Unlock()
	c.subMu.Lock()
	for s := range c.subs {
		h.unsubscribe(c, s)
	}
	c.subs = map[string]struct{}{}
	c.subMu.Unlock()
	h.metrics.conns.Dec()
	for _, o := range h.observers() {
		o.Disconnected(c.principal)
	}
	h.wg.Done()
}

// subscribe adds c to the subject name, making the node's bus
// subscription if c is its first connection. No bus call is made under
// the hub's mutex: the subject is entered in the map at once, empty of
// any subscription, so connections that come meanwhile share it (and
// wait for it) instead of making a second one, and one that leaves
// meanwhile leaves the undoing to its maker.
func (h *Hub) subscribe(c *Conn, name string) error {
	h.mu.Lock()
	if _, live := h.conns[c]; !live {
		h.mu.Unlock()
		return nil // the connection has ended: there is no one to deliver to
	}
	s, shared := h.subjects[name]
	if !shared {
		s = &subject{conns: make(map[*Conn]struct{}), ready: make(chan struct{})}
		h.subjects[name] = s
	}
	s.conns[c] = struct{}{}
	h.mu.Unlock()

	if shared {
		<-s.ready
	} else {
		unsub, err := h.bus.Subscribe(name, func(frame []byte) { h.deliver(s, frame) })
		h.mu.Lock()
		s.err, s.unsub = err, unsub
		if err != nil && h.subjects[name] == s {
			delete(h.subjects, name) // the next subscriber tries again
		}
		left := err == nil && len(s.conns) == 0 // all left while it was made
		h.mu.Unlock()
		close(s.ready)
		if left {
			unsub()
		}
	}
	if s.err != nil {
		h.mu.Lock()
		delete(s.conns, c)
		h.mu.Unlock()
		return s.err
	}
	// The connection may have ended while the subscription was made,
	// after remove took its subjects: it must not stay in this one.
	h.mu.Lock()
	_, live := h.conns[c]
	h.mu.Unlock()
	if !live {
		h.unsubscribe(c, name)
	}
	return nil
}

// unsubscribe takes c out of the subject name, and ends the bus
// subscription, outside the hub's mutex, when c was the last.
func (h *Hub) unsubscribe(c *Conn, name string) {
	h.mu.Lock()
	s, ok := h.subjects[name]
	if !ok {
		h.mu.Unlock()
		return
	}
	if _, in := s.conns[c]; !in {
		h.mu.Unlock()
		return
	}
	delete(s.conns, c)
	var unsub func()
	if len(s.conns) == 0 {
		delete(h.subjects, name)
		unsub = s.unsub // nil while it is being made: its maker ends it
	}
	h.mu.Unlock()
	if unsub != nil {
		unsub()
	}
}

// deliver hands one frame, marshalled once, to every local subscriber of
// a subject. Send never blocks.
func (h *Hub) deliver(s *subject, frame []byte) {
	h.mu.Lock()
	targets := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		targets = append(targets, c)
	}
	h.mu.Unlock()
	for _, c := range targets {
		c.Send(frame)
	}
}

// accessEnded acts on a bus.AccessEnded frame: the principal's connections
// on this node drop the subjects and get the event, or are closed.
func (h *Hub) accessEnded(frame []byte) {
	var env struct {
		Type string          `json:"type"`
		Data bus.AccessEnded `json:"data"`
	}
	if err := json.Unmarshal(frame, &env); err != nil || env.Type != bus.AccessEndedType {
		h.log.Error("bad frame on the access subject", "err", err)
		return
	}
	a := env.Data
	h.mu.Lock()
	conns := make([]*Conn, 0, len(h.byKey[a.Principal]))
	for c := range h.byKey[a.Principal] {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		if a.Close {
			c.Close(a.CloseCode, a.CloseReason)
			continue
		}
		for _, s := range a.Subjects {
			c.Unsubscribe(s)
		}
		if len(a.Event) > 0 {
			c.Send(a.Event)
		}
	}
}

// CloseSignedOut closes every connection of the user p, on every node, with
// 4001 "signed out": its session has ended (logout). It goes over the bus,
// so nodes where p has no connection ignore it.
func (h *Hub) CloseSignedOut(p auth.Principal) {
	frame, err := bus.Frame(bus.AccessEndedType, bus.AccessEnded{Principal: p.Key(), Close: true,
		CloseCode: CloseCodeSignedOut, CloseReason: "signed out"})
	if err != nil {
		h.log.Error("encode access ended", "err", err)
		return
	}
	if err := h.bus.Publish(bus.AccessSubject, frame); err != nil {
		h.log.Error("publish access ended", "err", err)
	}
}

// CloseCodeSignedOut is the close code of a connection whose user signed out.
const CloseCodeSignedOut = 4001

// Shutdown stops accepting connections, tells every client with
// session.closing, closes each with 1001 after its queue is flushed, and
// waits for them to end or for ctx to expire (then ends the rest at once).
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	conns := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	frame, err := bus.Frame("session.closing", map[string]any{
		"reason":   "server shutting down",
		"retry_ms": h.cfg.ClosingRetry.Milliseconds(),
	})
	if err != nil {
		return err
	}
	for _, c := range conns {
		c.Send(frame)
		c.Close(websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		h.workers.stop()
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			c.abort(closeFrame{websocket.CloseGoingAway, "server shutting down"})
		}
		<-done
		h.workers.stop()
		return ctx.Err()
	}
}

func newConnID() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "c-" + hex.EncodeToString(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
