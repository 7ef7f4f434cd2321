package main

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"parley/signaling/client"
)

// desk is one agent of a T1 run: available, it accepts every offer (routed
// chats, and the transfers made to it), keeps what it saw of each chat it
// has, and forgets a chat when its access ends (the chat was transferred
// away).
type desk struct {
	x        *transferRun
	idx      int
	id       int64 // the agent's user id, the target of transfers to it
	username string
	p        *peer

	mu    sync.Mutex
	views map[int64]*view // the chats it has now
}

// view is what an agent saw of a chat since it took it: the accept
// answer's events and the live events after them, each seq once.
type view struct {
	highest int
	events  map[int]wireEvent // by seq
	texts   map[string]int    // customer message text → events with it
}

func newView() *view {
	return &view{events: map[int]wireEvent{}, texts: map[string]int{}}
}

// add takes one event, once by seq: false when its seq was seen already.
func (v *view) add(ev wireEvent) bool {
	if _, seen := v.events[ev.Seq]; seen {
		return false
	}
	v.events[ev.Seq] = ev
	if ev.Seq > v.highest {
		v.highest = ev.Seq
	}
	if ev.Kind == "message" && ev.Author.Kind == "customer" {
		v.texts[ev.Text]++
	}
	return true
}

// has says whether the desk has conv and saw the customer message text in it.
func (d *desk) has(conv int64, text string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.views[conv]
	return v != nil && v.texts[text] > 0
}

// viewOf is a copy of what the desk saw of conv, nil when it does not have it.
func (d *desk) viewOf(conv int64) *view {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.views[conv]
	if v == nil {
		return nil
	}
	c := newView()
	for _, ev := range v.events {
		c.add(ev)
	}
	return c
}

func (d *desk) connected(ctx context.Context, cl *client.Client) error {
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
		if !d.x.chat.ours(conv) {
			d.closeStray(rctx, cl, conv.ID)
			continue
		}
		d.mu.Lock()
		v := d.views[conv.ID]
		if v == nil {
			v = newView() // accepted, but the answer was lost with the connection
			d.views[conv.ID] = v
		}
		after := v.highest
		d.mu.Unlock()
		raw, err := cl.Request(rctx, "chat.resume", map[string]any{"conversation_id": conv.ID, "after_seq": after})
		if err != nil {
			return err
		}
		var ans withEvents
		if err := json.Unmarshal(raw, &ans); err != nil {
			return err
		}
		for _, ev := range ans.Events {
			d.apply(ev, false)
		}
		d.x.resumed(conv.ID, d, ans.Conversation)
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
		d.accept(rctx, cl, o.Conversation)
	}
	return nil
}

func (d *desk) event(ctx context.Context, cl *client.Client, env client.Envelope) {
	switch env.Type {
	case "chat.event":
		var ev wireEvent
		if json.Unmarshal(env.Data, &ev) == nil {
			d.apply(ev, true)
		}
	case "chat.offer":
		var o struct {
			Kind         string           `json:"kind"`
			Conversation wireConversation `json:"conversation"`
		}
		if json.Unmarshal(env.Data, &o) != nil {
			return
		}
		d.x.offers.Add(1)
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		d.accept(rctx, cl, o.Conversation)
		cancel()
	case "chat.access_ended":
		// Transferred away (or the offer of it ended): its events stopped.
		var e struct {
			ConversationID int64 `json:"conversation_id"`
		}
		if json.Unmarshal(env.Data, &e) == nil {
			d.mu.Lock()
			delete(d.views, e.ConversationID)
			d.mu.Unlock()
		}
	case "chat.offer_ended", "agent.status":
		keepWorking(ctx, cl, env, &d.x.missedOffers, &d.x.paused)
	}
}

// accept takes an offered chat (routed or transferred to this agent): its
// answer is the whole history, the start of the agent's view of it.
func (d *desk) accept(ctx context.Context, cl *client.Client, conv wireConversation) {
	id := conv.ID
	d.mu.Lock()
	_, have := d.views[id]
	d.mu.Unlock()
	if have {
		return
	}
	t0 := time.Now()
	raw, err := cl.Request(ctx, "chat.accept", map[string]any{"conversation_id": id})
	now := time.Now()
	if err != nil {
		d.x.acceptFailed(err)
		return
	}
	d.x.acceptLat.add(now.Sub(t0))
	var ans withEvents
	if err := json.Unmarshal(raw, &ans); err != nil {
		d.x.acceptFailed(err)
		return
	}
	if !d.x.chat.ours(ans.Conversation) {
		d.closeStray(ctx, cl, id) // left waiting by an earlier run on this server
		return
	}
	d.mu.Lock()
	d.views[id] = newView()
	d.mu.Unlock()
	for _, ev := range ans.Events {
		d.apply(ev, false)
	}
	d.x.took(id, d, ans.Conversation, now)
}

func (d *desk) closeStray(ctx context.Context, cl *client.Client, id int64) {
	d.x.strayChats.Add(1)
	cl.Request(ctx, "chat.close", map[string]any{"conversation_id": id}) //nolint:errcheck // best effort
}

// apply adds one event to the view of its chat; live says it came as a
// chat.event (not in an answer).
func (d *desk) apply(ev wireEvent, live bool) {
	now := time.Now()
	d.mu.Lock()
	v := d.views[ev.ConversationID]
	if v == nil || ev.Seq <= 0 {
		d.mu.Unlock()
		return
	}
	if live && ev.Seq > v.highest+1 && v.highest != 0 {
		d.x.seqGaps.Add(1) // an agent sees every event of its chats
	}
	fresh := v.add(ev)
	d.mu.Unlock()
	if fresh && live && ev.Kind == "message" && ev.Author.Kind == "customer" {
		d.x.live(ev.ClientID, now)
	}
}
