package main

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"parley/signaling/client"
)

// Wire shapes of docs/protocol.md that the chat workloads read.

type wireEvent struct {
	ConversationID int64  `json:"conversation_id"`
	Seq            int    `json:"seq"`
	Kind           string `json:"kind"`
	Author         struct {
		Kind string `json:"kind"`
	} `json:"author"`
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
}

type wireConversation struct {
	ID    int64  `json:"id"`
	State string `json:"state"`
	Queue struct {
		ID int64 `json:"id"`
	} `json:"queue"`
	QueuedAt time.Time `json:"queued_at"`
	Customer struct {
		Name string `json:"name"`
	} `json:"customer"`
}

type withEvents struct {
	Conversation wireConversation `json:"conversation"`
	Events       []wireEvent      `json:"events"`
}

// customer is one visitor in the widget: it starts a chat, waits for an
// agent, and resumes after every reconnect from the highest seq it saw.
type customer struct {
	run  *chatRun
	idx  int
	name string
	p    *peer

	mu        sync.Mutex // p, conv, highest, startSent, accepted
	conv      int64
	highest   int
	startSent time.Time
	accepted  bool
}

// peer is the customer's connection; nil until its visitor token came.
func (c *customer) peer() *peer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.p
}

// conversation is the customer's chat, 0 until chat.start answered.
func (c *customer) conversation() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conv
}

func (c *customer) setPeer(p *peer) {
	c.mu.Lock()
	c.p = p
	c.mu.Unlock()
}

func (c *customer) connected(ctx context.Context, cl *client.Client) error {
	c.mu.Lock()
	conv, after := c.conv, c.highest
	c.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var raw json.RawMessage
	var err error
	if conv == 0 {
		c.mu.Lock()
		c.startSent = time.Now()
		c.mu.Unlock()
		raw, err = cl.Request(rctx, "chat.start", map[string]any{"name": c.name})
	} else {
		raw, err = cl.Request(rctx, "chat.resume", map[string]any{"conversation_id": conv, "after_seq": after})
	}
	if err != nil {
		return err
	}
	var ans withEvents
	if err := json.Unmarshal(raw, &ans); err != nil {
		return err
	}
	if conv == 0 {
		c.mu.Lock()
		c.conv = ans.Conversation.ID
		c.mu.Unlock()
		c.run.bindCustomer(ans.Conversation.ID, c)
	}
	for _, ev := range ans.Events {
		c.apply(ev)
	}
	return nil
}

func (c *customer) event(ctx context.Context, cl *client.Client, env client.Envelope) {
	switch env.Type {
	case "session.resync":
		c.checkPositions(ctx, cl)
	case "chat.event":
		var ev wireEvent
		if json.Unmarshal(env.Data, &ev) != nil {
			return
		}
		c.mu.Lock()
		conv, h := c.conv, c.highest
		c.mu.Unlock()
		if ev.ConversationID == conv && h > 0 && ev.Seq > h+1 && !c.catchUp(ctx, cl) {
			// The bus lost what lies below it, and it could not be
			// fetched now: applying this one would skip the rest for
			// good. The next position check or connection fetches all.
			return
		}
		c.apply(ev)
	}
}

// checkPositions is the position check: the chat resumes when it is
// behind.
func (c *customer) checkPositions(ctx context.Context, cl *client.Client) {
	c.mu.Lock()
	conv, h := c.conv, c.highest
	c.mu.Unlock()
	if conv != 0 && len(behind(ctx, cl, map[int64]int{conv: h})) > 0 {
		c.catchUp(ctx, cl)
	}
}

// catchUp fetches and applies what follows the highest seq applied; false
// when it could not.
func (c *customer) catchUp(ctx context.Context, cl *client.Client) bool {
	c.mu.Lock()
	conv, h := c.conv, c.highest
	c.mu.Unlock()
	evs, err := resumeAfter(ctx, cl, conv, h)
	if err != nil {
		return false // the next check, or the next connection, tries again
	}
	c.run.refetched.Add(int64(len(evs)))
	for _, ev := range evs {
		c.apply(ev)
	}
	return true
}

// apply takes one event, once: anything at or below the highest seq seen
// was applied already.
func (c *customer) apply(ev wireEvent) {
	now := time.Now()
	c.mu.Lock()
	if ev.ConversationID != c.conv || ev.Seq <= c.highest {
		c.mu.Unlock()
		return
	}
	c.highest = ev.Seq
	first := false
	if ev.Kind == "accepted" && !c.accepted {
		c.accepted, first = true, true
	}
	wait := now.Sub(c.startSent)
	c.mu.Unlock()
	switch {
	case first:
		c.run.customerAccepted(wait)
	case ev.Kind == "message" && ev.Author.Kind == "agent":
		if at, ok := parseMessageText(ev.Text); ok {
			c.run.ledger.receive(ev.ClientID, ev.ConversationID, at, now)
		}
	case ev.Kind == "closed":
		c.run.closedEarly.Add(1)
	}
}

// agent is one agent in the desk: available, it accepts every offer,
// and after a reconnect resumes its chats and takes the offers still
// pending (agent.state), as the desk does after a reload.
type agent struct {
	run      *chatRun
	idx      int
	username string
	p        *peer

	mu    sync.Mutex
	chats map[int64]*int // conversation → highest seq seen
}

func (a *agent) connected(ctx context.Context, cl *client.Client) error {
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := cl.Request(rctx, "agent.status", map[string]any{"status": "available"}); err != nil {
		return err
	}
	raw, err := cl.Request(rctx, "chat.mine", nil)
	if err != nil {
		return err
	}
	var mine struct {
		Conversations []wireConversation `json:"conversations"`
	}
	if err := json.Unmarshal(raw, &mine); err != nil {
		return err
	}
	for _, conv := range mine.Conversations {
		if !a.run.ours(conv) {
			a.closeStray(rctx, cl, conv.ID) // left open by an earlier run on this server
			continue
		}
		a.mu.Lock()
		h, known := a.chats[conv.ID]
		if !known {
			// Accepted, but the answer was lost with the connection.
			h = new(int)
			a.chats[conv.ID] = h
		}
		after := *h
		a.mu.Unlock()
		raw, err := cl.Request(rctx, "chat.resume", map[string]any{"conversation_id": conv.ID, "after_seq": after})
		if err != nil {
			return err
		}
		var ans withEvents
		if err := json.Unmarshal(raw, &ans); err != nil {
			return err
		}
		for _, ev := range ans.Events {
			a.apply(ev)
		}
		if !known {
			a.run.bindAgent(conv.ID, a)
		}
	}
	raw, err = cl.Request(rctx, "agent.state", nil)
	if err != nil {
		return err
	}
	var st struct {
		Offers []struct {
			Conversation wireConversation `json:"conversation"`
		} `json:"offers"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	for _, o := range st.Offers {
		a.accept(rctx, cl, o.Conversation)
	}
	return nil
}

func (a *agent) event(ctx context.Context, cl *client.Client, env client.Envelope) {
	switch env.Type {
	case "session.resync":
		a.checkPositions(ctx, cl)
	case "chat.event":
		var ev wireEvent
		if json.Unmarshal(env.Data, &ev) != nil {
			return
		}
		a.mu.Lock()
		h := a.chats[ev.ConversationID]
		gap := h != nil && *h > 0 && ev.Seq > *h+1
		a.mu.Unlock()
		if gap && !a.catchUp(ctx, cl, ev.ConversationID) {
			// The bus lost what lies below it, and it could not be
			// fetched now: applying this one would skip the rest for
			// good. The next position check or connection fetches all.
			return
		}
		a.apply(ev)
	case "chat.offer":
		var o struct {
			Conversation wireConversation `json:"conversation"`
		}
		if json.Unmarshal(env.Data, &o) != nil {
			return
		}
		a.run.offers.Add(1)
		if lat := time.Since(o.Conversation.QueuedAt); o.Conversation.QueuedAt.UnixNano() < a.run.measureFrom.Load() {
			a.run.offerLatFirst.add(lat)
		} else {
			a.run.offerLat.add(lat)
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		a.accept(rctx, cl, o.Conversation)
		cancel()
	case "chat.offer_ended", "agent.status":
		keepWorking(ctx, cl, env, &a.run.missedOffers, &a.run.paused)
	}
}

// keepWorking is what every load-test agent does with the offers it let
// time out and the pauses they bring: counts them (missed, paused) and,
// paused by the server for a missed offer, sets itself available again.
func keepWorking(ctx context.Context, cl *client.Client, env client.Envelope, missed, paused *atomic.Int64) {
	switch env.Type {
	case "chat.offer_ended":
		var d struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(env.Data, &d) == nil && d.Reason == "timeout" {
			missed.Add(1)
		}
	case "agent.status":
		var d struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(env.Data, &d) == nil && d.Status != "available" {
			paused.Add(1)
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			cl.Request(rctx, "agent.status", map[string]any{"status": "available"}) //nolint:errcheck // the next reconnect sets it again
			cancel()
		}
	}
}

// checkPositions is the position check: each chat that is behind
// resumes.
func (a *agent) checkPositions(ctx context.Context, cl *client.Client) {
	a.mu.Lock()
	shown := make(map[int64]int, len(a.chats))
	for id, h := range a.chats {
		shown[id] = *h
	}
	a.mu.Unlock()
	for _, id := range behind(ctx, cl, shown) {
		a.catchUp(ctx, cl, id)
	}
}

// catchUp fetches and applies what follows the highest seq applied of
// chat id; false when it could not.
func (a *agent) catchUp(ctx context.Context, cl *client.Client, id int64) bool {
	a.mu.Lock()
	h := a.chats[id]
	after := 0
	if h != nil {
		after = *h
	}
	a.mu.Unlock()
	evs, err := resumeAfter(ctx, cl, id, after)
	if err != nil {
		return false // the next check, or the next connection, tries again
	}
	a.run.refetched.Add(int64(len(evs)))
	for _, ev := range evs {
		a.apply(ev)
	}
	return true
}

// accept takes an offered chat and follows it from its first event.
func (a *agent) accept(ctx context.Context, cl *client.Client, conv wireConversation) {
	id := conv.ID
	a.mu.Lock()
	_, have := a.chats[id]
	a.mu.Unlock()
	if have {
		return
	}
	t0 := time.Now()
	raw, err := cl.Request(ctx, "chat.accept", map[string]any{"conversation_id": id})
	if err != nil {
		var ce *client.Error
		if errors.As(err, &ce) {
			a.run.acceptErrors.Add(1)
		}
		return
	}
	a.run.acceptLat.add(time.Since(t0))
	var ans withEvents
	if err := json.Unmarshal(raw, &ans); err != nil {
		return
	}
	if !a.run.ours(conv) {
		a.closeStray(ctx, cl, id) // left waiting by an earlier run on this server
		return
	}
	a.mu.Lock()
	a.chats[id] = new(int)
	a.mu.Unlock()
	for _, ev := range ans.Events {
		a.apply(ev)
	}
	a.run.bindAgent(id, a)
}

func (a *agent) closeStray(ctx context.Context, cl *client.Client, id int64) {
	a.run.strayChats.Add(1)
	cl.Request(ctx, "chat.close", map[string]any{"conversation_id": id}) //nolint:errcheck // best effort
}

func (a *agent) apply(ev wireEvent) {
	now := time.Now()
	a.mu.Lock()
	h := a.chats[ev.ConversationID]
	if h == nil || ev.Seq <= *h {
		a.mu.Unlock()
		return
	}
	if ev.Seq != *h+1 && *h != 0 {
		// Agents see every event of their chats: a gap that catchUp could
		// not fill is an event lost.
		a.run.seqGaps.Add(1)
	}
	*h = ev.Seq
	a.mu.Unlock()
	switch ev.Kind {
	case "message":
		if ev.Author.Kind == "customer" {
			if at, ok := parseMessageText(ev.Text); ok {
				a.run.ledger.receive(ev.ClientID, ev.ConversationID, at, now)
			}
		}
	case "closed":
		a.run.closedEarly.Add(1)
	}
}

// conversations lists the agent's chats.
func (a *agent) conversations() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]int64, 0, len(a.chats))
	for id := range a.chats {
		out = append(out, id)
	}
	return out
}
