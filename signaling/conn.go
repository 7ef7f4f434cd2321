package signaling

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"parley/auth"
)

// Conn is one websocket connection: an actor with one reader and one
// writer. The reader runs only while the client's bytes wait (poll.go):
// it answers what needs no I/O itself and hands the rest to the
// connection's lines (dispatch.go), a bounded number at a time. Everyone else only enqueues frames with
// Send; the queue is bounded by frames and by bytes, and a connection
// that cannot keep up is closed, never waited on.
//
// The writer runs only while there is something to write (write.go): an
// idle connection holds no goroutine and no queue.
type Conn struct {
	id        string
	principal auth.Principal
	nc        net.Conn        // the socket, written by write.go alone
	rc        syscall.RawConn // nc's descriptor, for the poller; nil: read on a goroutine
	hub       *Hub
	cfg       Config
	pingSlot  uint32 // which tick of the hub's ping schedule pings it

	qmu      sync.Mutex
	queue    []outFrame // waiting for the writer; nil while empty
	qbytes   int        // bytes of the text frames in queue
	writing  bool       // a writer goroutine runs (or the connection is closing)
	closeReq *closeFrame

	wmu       sync.Mutex // held while a frame or batch is written to nc
	closeSent bool       // under wmu: a close frame went out; nothing follows it

	done     chan struct{} // closed when the connection ends
	readDone chan struct{} // closed when the reader has stopped reading
	ctx      context.Context
	cancel   context.CancelFunc

	endOnce  sync.Once
	closedAs closeFrame

	// The read side (poll.go).
	rstate   atomic.Int32 // readParked, readRunning…: who may read
	lastRead atomic.Int64 // when the client was last heard from, in Unix nanoseconds
	pollID   uint64       // the socket's number in the poller
	ended    func()       // ServeWebsocket's caller's, run once the connection has ended

	// The reader's state, touched by whichever goroutine owns the read
	// side (rstate) and by nothing else.
	fr      frameReader
	helloed bool
	limit   *rate.Limiter // requests answered
	flood   *rate.Limiter // requests refused before the client is cut off

	// Requests handed to lines (dispatch.go).
	slots   chan struct{} // one per request taken and not yet answered
	linesMu sync.Mutex
	lines   map[string]*line
	workers sync.WaitGroup // one per running line

	subMu sync.Mutex
	subs  map[string]struct{}
}

type closeFrame struct {
	code   int
	reason string
}

// newConn takes the socket of an upgraded websocket; gorilla's Conn is
// not kept, as the server frames and reads itself (write.go, poll.go).
func newConn(nc net.Conn, id string, p auth.Principal, hub *Hub) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := hub.cfg
	setSocketBuffer(nc, cfg.SocketBuffer)
	c := &Conn{
		id:        id,
		principal: p,
		nc:        nc,
		hub:       hub,
		cfg:       cfg,
		done:      make(chan struct{}),
		readDone:  make(chan struct{}),
		ctx:       ctx,
		cancel:    cancel,
		limit:     rate.NewLimiter(rate.Limit(cfg.RatePerSecond), cfg.RateBurst),
		flood:     rate.NewLimiter(rate.Limit(cfg.RatePerSecond), cfg.RateBurst),
		slots:     make(chan struct{}, max(cfg.InFlight, 1)),
		lines:     make(map[string]*line),
		subs:      make(map[string]struct{}),
	}
	if sc, ok := nc.(syscall.Conn); ok { // *net.TCPConn; not *tls.Conn
		c.rc, _ = sc.SyscallConn()
	}
	c.touch() // the ping schedule (ping.go) counts its pong timeout from here
	return c
}

// setSocketBuffer sets the kernel's send buffer of the socket under nc to
// n bytes (0: leave it). Left alone, Linux grows it up to 4 MiB
// (net.ipv4.tcp_wmem), and a client that stops reading is noticed only
// once that is full: with small events, after tens of seconds. Small, it
// fills at once and the bounded queue and the write deadline decide.
func setSocketBuffer(nc net.Conn, n int) {
	for n > 0 {
		switch c := nc.(type) {
		case interface{ SetWriteBuffer(int) error }: // *net.TCPConn
			c.SetWriteBuffer(n) //nolint:errcheck // best effort: the deadline still bounds
			return
		case interface{ NetConn() net.Conn }: // *tls.Conn
			nc = c.NetConn()
		default:
			return
		}
	}
}

// logger is the hub's logger with the connection's ids. It is made when
// something is logged (a connect, a disconnect, an error), not kept: an
// idle connection does not hold one (about 0.5 KiB).
func (c *Conn) logger() *slog.Logger {
	return c.hub.log.With("conn", c.id, "principal", c.principal.Key())
}

// ID is the connection's id, unique on this server.
func (c *Conn) ID() string { return c.id }

// Principal is who the connection speaks for.
func (c *Conn) Principal() auth.Principal { return c.principal }

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// slow disconnects a client that does not read fast enough.
func (c *Conn) slow(msg string, args ...any) {
	if c.end(slowConsumer) {
		c.hub.metrics.slow.Inc()
		c.logger().Warn(msg+", disconnecting", args...)
		go c.writeClose(slowConsumer, abortCloseTimeout)
	}
}

var slowConsumer = closeFrame{websocket.ClosePolicyViolation, "slow consumer"}

// Subscribe delivers the bus subject's events to this connection until it
// unsubscribes or ends.
func (c *Conn) Subscribe(subject string) error {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	if _, ok := c.subs[subject]; ok {
		return nil
	}
	if err := c.hub.subscribe(c, subject); err != nil {
		return err
	}
	c.subs[subject] = struct{}{}
	return nil
}

// Unsubscribe stops a subject's events.
func (c *Conn) Unsubscribe(subject string) {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	if _, ok := c.subs[subject]; ok {
		delete(c.subs, subject)
		c.hub.unsubscribe(c, subject)
	}
}

// abort ends the connection now, from any goroutine, without waiting on
// the network: the close frame is written from a goroutine of its own
// with a short deadline, so a peer whose buffers are full cannot hold up
// the caller. Such a peer may see only the TCP close; the reason is
// logged and counted.
func (c *Conn) abort(cf closeFrame) {
	if c.end(cf) {
		go c.writeClose(cf, abortCloseTimeout)
	}
}

const abortCloseTimeout = time.Second

// end marks the connection ended, once; it reports whether this call did.
func (c *Conn) end(cf closeFrame) bool {
	ended := false
	c.endOnce.Do(func() {
		ended = true
		c.closedAs = cf
		close(c.done)
		c.cancel()
	})
	return ended
}

// writeFailed ends the connection after a failed write. A write that ran
// out of time means the peer stopped reading: it is a slow consumer. Its
// buffers are full, so no close frame is tried; the socket is closed.
func (c *Conn) writeFailed(err error, reason string) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if c.end(slowConsumer) {
			c.hub.metrics.slow.Inc()
			c.logger().Warn("write timed out, disconnecting", "timeout", c.cfg.WriteTimeout)
		}
	} else {
		c.end(closeFrame{websocket.CloseAbnormalClosure, reason})
	}
	c.closeSocket()
}

// readEnded ends the connection after a failed read (the peer went
// away, or the socket was closed here).
func (c *Conn) readEnded(error) {
	if c.end(closeFrame{websocket.CloseAbnormalClosure, "read failed"}) {
		c.closeSocket()
	}
}

// handle checks a request and answers it at once when that needs no I/O
// (a bad frame, an unknown type, a missing hello, a role refused, and the
// types the router answers at once); the rest go to their line.
func (c *Conn) handle(frame []byte) {
	env, err := DecodeRequest(frame)
	if err != nil {
		c.hub.metrics.envelopes.WithLabelValues("invalid").Inc()
		c.reply(env.ID, nil, err)
		return
	}
	rt, ok := c.hub.router.lookup(env.Type)
	label := env.Type
	if !ok {
		label = "unknown"
	}
	c.hub.metrics.envelopes.WithLabelValues(label).Inc()
	switch {
	case !ok:
		c.reply(env.ID, nil, &Error{CodeUnknownType, "no request type " + env.Type})
		return
	case !c.helloed && env.Type != helloType:
		c.reply(env.ID, nil, &Error{CodeHelloRequired, "send session.hello first"})
		return
	}
	if err := rt.allows(c.principal); err != nil {
		c.reply(env.ID, nil, err)
		return
	}
	j := job{rt, &Request{Conn: c, Type: env.Type, ID: env.ID, Data: env.Data}, time.Now()}
	if rt.atOnce {
		data, err := c.call(j)
		if err == nil && env.Type == helloType {
			c.helloed = true
		}
		c.reply(j.req.ID, data, err)
		return
	}
	c.dispatch(lineOf(env.Data), j)
}

// call runs the request's handler with the request's deadline,
// RequestTimeout after it was read. A request whose deadline passed while
// it waited behind others of its line is not handled: it is unavailable.
func (c *Conn) call(j job) (any, error) {
	ctx, cancel := context.WithDeadline(c.ctx, j.read.Add(c.cfg.RequestTimeout))
	defer cancel()
	if ctx.Err() != nil {
		return nil, &Error{CodeUnavailable, "the request waited too long behind earlier ones and was not handled; try again"}
	}
	data, err := j.rt.handler(ctx, j.req)
	c.hub.metrics.latency.WithLabelValues(j.req.Type).Observe(time.Since(j.read).Seconds())
	return data, err
}

// reply answers request id with data or err.
func (c *Conn) reply(id string, data any, err error) {
	if err == nil {
		frame, encErr := encodeAck(id, data)
		if encErr == nil {
			c.Send(frame)
			return
		}
		err = encErr
	}
	we := toWire(err, c.logger().With("request", id))
	c.hub.metrics.errors.WithLabelValues(we.Code).Inc()
	c.Send(encodeError(id, we))
}
