package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/signaling/client"
)

// transferRun is the shared state of one T1 run.
type transferRun struct {
	cfg    transferConfig
	chat   *chatRun // the customers' side: the run's tag, accepted chats, chats closed early
	queues [2]int64
	desks  []*desk
	// customerOf is each conversation's customer, set before the transfers.
	customerOf map[int64]*customer

	mu       sync.Mutex
	holder   map[int64]*desk // conversation → the agent whose accept answered last
	queueOf  map[int64]int64 // conversation → its queue, as that accept answered
	pending  map[int64]*transfer
	offered  map[*desk]int       // transfer offers made to each agent and not yet accepted
	msgs     map[string]*custMsg // by client_id
	inflight int                 // messages sent, neither acked nor failed
	sent     int
	acked    int
	failed   int
	errors   map[string]int // failed messages by error code
	resends  map[string]int // attempts after the first, by reason

	started, done, timedOut, skipped int
	toAgent, toQueue                 int            // transfers done, by kind
	refusals                         map[string]int // refused transfers by code and message
	acceptErrs                       map[string]int // failed accepts by code and message

	transferLat latencies // chat.transfer sent → the new agent's accept answer
	agentLat    latencies // the same, transfers to an agent
	queueLat    latencies // the same, transfers to a queue
	requestLat  latencies // chat.transfer round trip
	acceptLat   latencies // chat.accept round trip
	liveLat     latencies // a customer's message: sent → first live receipt by an agent

	offers       atomic.Int64 // chat.offer events, every kind
	missedOffers atomic.Int64
	paused       atomic.Int64
	seqGaps      atomic.Int64
	strayChats   atomic.Int64

	sends sync.WaitGroup
}

// custMsg is one customer message: its unique text (carrying its
// client_id) and its fate.
type custMsg struct {
	conv   int64
	text   string
	sentAt time.Time
	acked  bool
	failed bool
	live   bool // an agent received it live (not only in an accept answer)
}

// transfer is one hand-over under way.
type transfer struct {
	n     int // the run's n-th transfer
	conv  int64
	from  *desk
	to    *desk // nil: to a queue
	queue int64
	start time.Time
	done  chan struct{}
}

func newTransferRun(cfg transferConfig) *transferRun {
	return &transferRun{
		cfg:        cfg,
		chat:       newChatRun(chatConfig{customers: cfg.customers, interval: cfg.interval, textSize: cfg.textSize}),
		customerOf: map[int64]*customer{}, holder: map[int64]*desk{}, queueOf: map[int64]int64{}, pending: map[int64]*transfer{},
		offered: map[*desk]int{}, msgs: map[string]*custMsg{}, errors: map[string]int{},
		resends: map[string]int{}, refusals: map[string]int{}, acceptErrs: map[string]int{},
	}
}

// readyChats are the customers' conversations that an agent accepted.
func (x *transferRun) readyChats(customers []*customer) map[int64]bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := map[int64]bool{}
	for _, c := range customers {
		if conv := c.conversation(); conv != 0 && x.holder[conv] != nil {
			out[conv] = true
		}
	}
	return out
}

func (x *transferRun) busy(conv int64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.pending[conv] != nil
}

func (x *transferRun) skip() {
	x.mu.Lock()
	x.skipped++
	x.mu.Unlock()
}

func (x *transferRun) doneCount() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.done
}

func (x *transferRun) timedOutCount() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.timedOut
}

func (x *transferRun) refusedCount() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, k := range x.refusals {
		n += k
	}
	return n
}

// leastLoaded is the agent other than from with the fewest chats and
// transfer offers, ties broken at random. x.mu is held.
func (x *transferRun) leastLoaded(from *desk) *desk {
	load := map[*desk]int{}
	for _, d := range x.holder {
		load[d]++
	}
	for d, n := range x.offered {
		load[d] += n
	}
	var best *desk
	start := rand.IntN(len(x.desks))
	for i := range x.desks {
		d := x.desks[(start+i)%len(x.desks)]
		if d != from && (best == nil || load[d] < load[best]) {
			best = d
		}
	}
	return best
}

// prepare picks the target of a transfer of conv, to a queue (the one it
// is not in) or to the least busy other agent, and marks conv as having a
// transfer under way.
func (x *transferRun) prepare(conv int64, toQueue bool) *transfer {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.started++
	t := &transfer{n: x.started, conv: conv, from: x.holder[conv], done: make(chan struct{})}
	if toQueue {
		t.queue = x.queues[0]
		if x.queueOf[conv] == t.queue {
			t.queue = x.queues[1]
		}
	} else {
		t.to = x.leastLoaded(t.from)
		x.offered[t.to]++
	}
	x.pending[conv] = t
	return t
}

// transfer sends t's chat.transfer from the agent who has the chat and
// waits until the accept of an agent who then has it is answered.
func (x *transferRun) transfer(ctx context.Context, t *transfer) {
	data := map[string]any{"conversation_id": t.conv}
	if t.to != nil {
		data["user_id"] = t.to.id
	} else {
		data["queue_id"] = t.queue
	}
	// Not peer.request: a transfer is not idempotent, so it is sent once.
	cl, _, err := t.from.p.current(ctx, 0)
	var start time.Time
	if err == nil {
		x.mu.Lock()
		t.start = time.Now() // from here took may time it
		start = t.start
		x.mu.Unlock()
		if c := x.customerOf[t.conv]; c != nil {
			// The customer writes at that very moment.
			for k := range x.cfg.handover {
				x.sends.Add(1)
				go x.send(ctx, c.peer(), t.conv, fmt.Sprintf("c%d-t%d-%d", c.idx, t.n, k+1))
			}
		}
		rctx, cancel := context.WithTimeout(ctx, x.cfg.transferTimeout)
		_, err = cl.Request(rctx, "chat.transfer", data)
		cancel()
		if err == nil {
			x.requestLat.add(time.Since(start))
		}
	}
	if err != nil {
		x.mu.Lock()
		x.end(t)
		x.refusals[why(err)]++
		x.mu.Unlock()
		return
	}
	timer := time.NewTimer(time.Until(start.Add(x.cfg.transferTimeout)))
	defer timer.Stop()
	select {
	case <-t.done:
	case <-ctx.Done():
	case <-timer.C:
		x.mu.Lock()
		if x.pending[t.conv] == t {
			x.end(t)
			x.timedOut++
		}
		x.mu.Unlock()
	}
}

// end forgets transfer t. x.mu is held.
func (x *transferRun) end(t *transfer) {
	if x.pending[t.conv] == t {
		delete(x.pending, t.conv)
		if t.to != nil {
			x.offered[t.to]--
		}
	}
}

// took records that d's accept of conv was answered at now: d has the chat,
// and the transfer of it under way, if d is its target, is done.
func (x *transferRun) took(conv int64, d *desk, c wireConversation, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.holder[conv] = d
	x.queueOf[conv] = c.Queue.ID
	t := x.pending[conv]
	if t == nil || t.start.IsZero() || (t.to != nil && t.to != d) {
		return
	}
	x.end(t)
	lat := now.Sub(t.start)
	x.transferLat.add(lat)
	if t.to != nil {
		x.agentLat.add(lat)
		x.toAgent++
	} else {
		x.queueLat.add(lat)
		x.toQueue++
	}
	x.done++
	close(t.done)
}

// resumed records that d has conv after a reconnect (chat.mine).
func (x *transferRun) resumed(conv int64, d *desk, c wireConversation) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.holder[conv] = d
	x.queueOf[conv] = c.Queue.ID
}

// send sends one customer message until it is acknowledged: after a lost
// connection, again with the same client_id.
func (x *transferRun) send(ctx context.Context, p *peer, conv int64, id string) {
	defer x.sends.Done()
	now := time.Now()
	text := taggedText(now, id, x.cfg.textSize)
	x.mu.Lock()
	x.msgs[id] = &custMsg{conv: conv, text: text, sentAt: now}
	x.sent++
	x.inflight++
	x.mu.Unlock()
	raw, err := p.request(ctx, "chat.send", map[string]any{"conversation_id": conv, "client_id": id, "text": text},
		time.Minute, x.resent)
	code := ""
	var ack struct {
		Seq int `json:"seq"`
	}
	switch {
	case err != nil:
		code = "not answered before the run ended"
		if ce := clientError(err); ce != "" {
			code = ce
		}
	case json.Unmarshal(raw, &ack) != nil || ack.Seq <= 0:
		code = "ack without seq"
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	m := x.msgs[id]
	x.inflight--
	if code != "" {
		m.failed = true
		x.failed++
		x.errors[code]++
		return
	}
	m.acked = true
	x.acked++
}

// why is an error as the report says it: a refusal's code and message.
func why(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code + " “" + ce.Message + "”"
	}
	return err.Error()
}

func (x *transferRun) acceptFailed(err error) {
	x.mu.Lock()
	x.acceptErrs[why(err)]++
	x.mu.Unlock()
}

func (x *transferRun) resent(why string) {
	x.mu.Lock()
	x.resends[why]++
	x.mu.Unlock()
}

// live records a customer message an agent received as a live event.
func (x *transferRun) live(id string, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if m := x.msgs[id]; m != nil && !m.live {
		m.live = true
		x.liveLat.add(now.Sub(m.sentAt))
	}
}

// settled reports whether every message is answered, no transfer is under
// way, and every acked message is in the view of the agent who has its
// chat.
func (x *transferRun) settled() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.inflight > 0 || len(x.pending) > 0 {
		return false
	}
	for _, m := range x.msgs {
		if !m.acked {
			continue
		}
		d := x.holder[m.conv]
		if d == nil || !d.has(m.conv, m.text) {
			return false
		}
	}
	return true
}

// The text of a T1 message: C1's (marker, send time) with the client_id
// after it, so that every message of the run has its own text.
func taggedText(at time.Time, id string, size int) string {
	s := textMarker + fmt.Sprint(at.UnixNano()) + ":" + id + ":"
	if pad := size - len(s); pad > 0 {
		s += strings.Repeat("x", pad)
	}
	return s
}
