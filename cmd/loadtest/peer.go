package main

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"parley/signaling/client"
)

// session is what a peer's owner (a customer, an agent) does with its
// connections: restore its state on each new one (start, resume, accept),
// then take its events. Both run on the peer's own goroutine, one after
// the other, so events that arrive while connected is answered wait until
// it has applied the answer: an event is never applied before the ones
// the answer carries (the rule of docs/protocol.md, chat.resume).
type session interface {
	connected(ctx context.Context, c *client.Client) error
	event(ctx context.Context, c *client.Client, ev client.Envelope)
}

// peer is one principal's websocket, kept open for the whole run: it
// connects, says hello, lets its session restore state, hands it events
// until the connection ends, and connects again, as the widget and the
// desk do after a server restart. With several nodes it has their URLs,
// its home node first: when a node cannot be reached, or tells it to go
// (session.closing), it connects to the next one, as a page behind a load
// balancer would land on another node.
type peer struct {
	urls   []string
	token  string
	events int // event buffer of each connection
	s      session
	up     func(delta int) // told of each connection made ready (+1) and lost (-1)

	mu         sync.Mutex
	at         int            // index in urls of the node it connects to
	moves      int            // connections made ready on another node than the previous one
	conn       *client.Client // nil while down
	gen        int            // connections made ready so far
	changed    chan struct{}  // closed and replaced whenever conn changes
	reconnects int
	lastErr    error
	firstUp    chan struct{} // closed when the first connection is ready
}

func newPeer(urls []string, token string, events int, s session, up func(int)) *peer {
	return &peer{urls: urls, token: token, events: events, s: s, up: up, changed: make(chan struct{}), firstUp: make(chan struct{})}
}

// run keeps the peer connected until ctx ends.
func (p *peer) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	last := -1  // the node of the last ready connection
	failed := 0 // nodes failed in a row
	fail := func(err error) {
		p.noteErr(err)
		failed++
		p.next()
		if failed%len(p.urls) == 0 { // every node tried: wait
			sleepCtx(ctx, jitter(backoff))
			backoff = min(2*backoff, 2*time.Second)
		}
	}
	for ctx.Err() == nil {
		p.mu.Lock()
		at := p.at
		p.mu.Unlock()
		c, _, err := client.Connect(ctx, p.urls[at], client.Options{Token: p.token, Events: p.events})
		if err != nil {
			fail(err)
			continue
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		if err := p.s.connected(ctx, c); err != nil {
			c.Close()
			stop()
			fail(err)
			continue
		}
		backoff, failed = 100*time.Millisecond, 0
		if last >= 0 && last != at {
			p.mu.Lock()
			p.moves++
			p.mu.Unlock()
		}
		last = at
		p.set(c)
		retry := p.serve(ctx, c)
		stop()
		p.set(nil)
		if ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		p.reconnects++
		p.mu.Unlock()
		// Spread the reconnections as a crowd of browsers would.
		sleepCtx(ctx, retry+jitter(300*time.Millisecond))
	}
}

// serve hands c's events to the session until c ends, and has a
// positionChecker check every positionEvery. It returns the retry delay a
// session.closing asked for.
func (p *peer) serve(ctx context.Context, c *client.Client) (retry time.Duration) {
	var tick <-chan time.Time
	pc, checks := p.s.(positionChecker)
	if checks {
		t := time.NewTicker(jitter(positionEvery))
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return retry
			}
			if ev.Type == "session.closing" {
				var d struct {
					RetryMS int `json:"retry_ms"`
				}
				if json.Unmarshal(ev.Data, &d) == nil {
					retry = time.Duration(d.RetryMS) * time.Millisecond
				}
				// This node is going away: the next one.
				p.next()
				continue
			}
			p.s.event(ctx, c, ev)
		case <-tick:
			pc.checkPositions(ctx, c)
		}
	}
}

// readyOn is the URL of the node of the peer's ready connection; empty
// while it has none.
func (p *peer) readyOn() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return ""
	}
	return p.urls[p.at]
}

// next makes the peer's next connection go to the next node.
func (p *peer) next() {
	p.mu.Lock()
	p.at = (p.at + 1) % len(p.urls)
	p.mu.Unlock()
}

func (p *peer) set(c *client.Client) {
	p.mu.Lock()
	p.conn = c
	if c != nil {
		p.gen++
		if p.gen == 1 {
			close(p.firstUp)
		}
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	if c != nil {
		p.up(1)
	} else {
		p.up(-1)
	}
}

func (p *peer) noteErr(err error) {
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
}

// current waits for a ready connection newer than generation after (0:
// any) and returns it with its generation.
func (p *peer) current(ctx context.Context, after int) (*client.Client, int, error) {
	for {
		p.mu.Lock()
		c, gen, ch := p.conn, p.gen, p.changed
		p.mu.Unlock()
		if c != nil && gen > after {
			return c, gen, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// request sends one request on the current connection. Requests cut off
// by a lost connection, refused for rate, or answered unavailable are sent
// again (on the next connection, for a lost one) until ctx ends; other
// errors are returned. Only idempotent requests go through here.
// resent, when not nil, is told why each attempt after the first is made.
// timeout bounds each attempt: the server answers every request, so it
// is only a guard against a connection that hangs.
func (p *peer) request(ctx context.Context, typ string, data any, timeout time.Duration, resent func(why string)) (json.RawMessage, error) {
	gen := 0
	why := ""
	for attempt := 0; ; attempt++ {
		c, g, err := p.current(ctx, gen)
		if err != nil {
			return nil, err
		}
		if attempt > 0 && resent != nil {
			resent(why)
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		out, err := c.Request(rctx, typ, data)
		cancel()
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ce *client.Error
		switch {
		case errors.As(err, &ce) && (ce.Code == "rate_limited" || ce.Code == "unavailable"):
			why = ce.Code
			sleepCtx(ctx, jitter(time.Duration(attempt+1)*100*time.Millisecond))
		case errors.As(err, &ce):
			return nil, err
		case errors.Is(err, context.DeadlineExceeded):
			why = "timeout" // on a live connection: send it again there
		default:
			// The connection is failing (ErrClosed, a failed write): wait
			// for the next one.
			why = "connection lost"
			gen = g
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// jitter is d ± 50 %.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1)
}
