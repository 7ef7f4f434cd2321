package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// chatRun is the shared state of one chat workload run.
type chatRun struct {
	cfg    chatConfig
	tag    string // in every customer's name: tells this run's chats from others'
	ledger *ledger

	mu    sync.Mutex
	pairs map[int64]*pair // by conversation

	accepted     atomic.Int64 // customers who saw their chat accepted
	acceptedCh   chan struct{}
	offers       atomic.Int64
	acceptErrors atomic.Int64
	missedOffers atomic.Int64
	paused       atomic.Int64
	strayChats   atomic.Int64
	closedEarly  atomic.Int64
	seqGaps      atomic.Int64
	refetched    atomic.Int64 // events fetched again after the bus lost them (gaps, position checks)
	up           atomic.Int64 // connections ready now

	offerLat latencies // queued → offer received by the agent
	// offerLatFirst is queued → offer of the chats queued before
	// measureFrom (Unix nanoseconds): the warm-up's (chatConfig.warmup).
	offerLatFirst latencies
	measureFrom   atomic.Int64
	acceptLat     latencies // chat.accept round trip
	waitLat       latencies // customer: chat.start sent → accepted event

	sends sync.WaitGroup // messages not yet acked or failed
}

// pair is a conversation's two sides.
type pair struct {
	conv     int64
	customer *customer
	agent    *agent
}

func newChatRun(cfg chatConfig) *chatRun {
	b := make([]byte, 3)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz"[rand.IntN(26)]
	}
	return &chatRun{cfg: cfg, tag: "LT-" + string(b), ledger: newLedger(), pairs: map[int64]*pair{}, acceptedCh: make(chan struct{})}
}

// ours says whether a conversation belongs to this run (by the tag in its
// customer's name); others were left on a running server by earlier runs.
func (r *chatRun) ours(c wireConversation) bool {
	return strings.HasPrefix(c.Customer.Name, r.tag+" ")
}

func (r *chatRun) pairOf(conv int64) *pair {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pairs[conv]
	if p == nil {
		p = &pair{conv: conv}
		r.pairs[conv] = p
	}
	return p
}

func (r *chatRun) bindCustomer(conv int64, c *customer) {
	p := r.pairOf(conv)
	r.mu.Lock()
	p.customer = c
	r.mu.Unlock()
}

func (r *chatRun) bindAgent(conv int64, a *agent) {
	p := r.pairOf(conv)
	r.mu.Lock()
	p.agent = a
	r.mu.Unlock()
}

func (r *chatRun) customerAccepted(wait time.Duration) {
	r.waitLat.add(wait)
	if r.accepted.Add(1) == int64(r.cfg.customers) {
		close(r.acceptedCh)
	}
}

// complete lists the conversations with both sides.
func (r *chatRun) complete() []pair {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]pair, 0, len(r.pairs))
	for _, p := range r.pairs {
		if p.customer != nil && p.agent != nil {
			out = append(out, *p)
		}
	}
	return out
}

// sendLoops starts both sides of every complete chat: each sends a
// message every interval, from a random phase, from from until until.
func (r *chatRun) sendLoops(ctx context.Context, from, until time.Time) *sync.WaitGroup {
	var loops sync.WaitGroup
	for _, p := range r.complete() {
		loops.Add(2)
		go func() {
			defer loops.Done()
			r.sendLoop(ctx, p.customer.peer(), p.conv, fmt.Sprintf("c%d-", p.customer.idx), from, until)
		}()
		go func() {
			defer loops.Done()
			r.sendLoop(ctx, p.agent.p, p.conv, fmt.Sprintf("a%d-%d-", p.agent.idx, p.conv), from, until)
		}()
	}
	return &loops
}

func (r *chatRun) sendLoop(ctx context.Context, p *peer, conv int64, prefix string, from, until time.Time) {
	at := from.Add(rand.N(r.cfg.interval))
	for n := 1; at.Before(until); n++ {
		sleepCtx(ctx, time.Until(at))
		if ctx.Err() != nil {
			return
		}
		r.sends.Add(1)
		go r.send(ctx, p, conv, prefix+fmt.Sprint(n))
		at = at.Add(r.cfg.interval)
	}
}

// send sends one message until it is acknowledged: after a lost
// connection, again with the same client_id on the next one (the server
// stores a client_id once).
func (r *chatRun) send(ctx context.Context, p *peer, conv int64, id string) {
	defer r.sends.Done()
	now := time.Now()
	r.ledger.send(id, conv, now)
	raw, err := p.request(ctx, "chat.send", map[string]any{
		"conversation_id": conv, "client_id": id, "text": messageText(now, r.cfg.textSize),
	}, time.Minute, r.ledger.resend)
	if err != nil {
		code := "not answered before the run ended"
		if ce := clientError(err); ce != "" {
			code = ce
		}
		r.ledger.fail(id, code)
		return
	}
	var ack struct {
		Seq       int  `json:"seq"`
		Duplicate bool `json:"duplicate"`
	}
	if err := json.Unmarshal(raw, &ack); err != nil || ack.Seq <= 0 {
		r.ledger.fail(id, "ack without seq")
		return
	}
	r.ledger.ack(id, ack.Seq, ack.Duplicate)
}

// peersUp is the number of connections ready now.
func (r *chatRun) peersUp(delta int) { r.up.Add(int64(delta)) }
