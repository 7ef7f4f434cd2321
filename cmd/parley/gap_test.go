package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"parley/signaling/client"
	"parley/store/storetest"
)

// The bus loses events on purpose: node B reaches NATS through a proxy the
// test cuts. An agent on B who follows the protocol (drop what it has
// shown, fill a gap below a newer event with chat.resume, and on
// session.resync check chat.position and resume what it lacks) still ends
// up with every message exactly once, in order.

// follower is a client that follows one conversation as the protocol asks:
// it keeps the highest seq it has shown, drops anything at or below it,
// fills a gap below a newer event with chat.resume, and on session.resync
// asks chat.position and resumes when it is behind.
type follower struct {
	t       *testing.T
	c       *client.Client
	id      int64
	shown   int
	texts   []string // the customer's messages, in the order shown
	resyncs int
}

func (f *follower) show(evs ...event) {
	for _, e := range evs {
		if e.Seq <= f.shown {
			continue
		}
		if e.Seq != f.shown+1 {
			f.t.Fatalf("seq %d shown after %d", e.Seq, f.shown)
		}
		f.shown = e.Seq
		if e.Kind == "message" && e.Author.Kind == "customer" {
			f.texts = append(f.texts, e.Text)
		}
	}
}

func (f *follower) resume() {
	var out withEvents
	request(f.t, f.c, "chat.resume", map[string]any{"conversation_id": f.id, "after_seq": f.shown}, &out)
	f.show(out.Events...)
}

// check is the position check: the client's 15-second timer, or its
// answer to session.resync.
func (f *follower) check() {
	last, err := f.c.Positions(ctxFor(f.t), []int64{f.id})
	if err != nil {
		f.t.Fatalf("chat.position: %v", err)
	}
	if last[f.id] > f.shown {
		f.resume()
	}
}

// handle takes one frame from the server.
func (f *follower) handle(ev client.Envelope) {
	switch ev.Type {
	case "session.resync":
		f.resyncs++
		f.check()
	case "chat.event":
		var e event
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			f.t.Fatal(err)
		}
		if e.ConversationID != f.id {
			return
		}
		if e.Seq > f.shown+1 {
			f.resume() // a gap below it
		}
		f.show(e)
	}
}

// until handles frames until done says so, or fails after a deadline.
func (f *follower) until(what string, done func() bool) {
	f.t.Helper()
	deadline := time.After(20 * time.Second)
	for !done() {
		select {
		case ev, ok := <-f.c.Events():
			if !ok {
				f.t.Fatalf("connection closed waiting for %s", what)
			}
			f.handle(ev)
		case <-deadline:
			f.t.Fatalf("no %s within 20s: shown %d, messages %v", what, f.shown, f.texts)
		}
	}
}

// gapNodes is a chat across two nodes: the customer on A, its agent
// alice accepted it on A and follows it on B too, whose link to NATS the
// proxy can cut. (Presence is still per node: alice stays connected to A,
// where the chat was routed to her.)
type gapNodes struct {
	ns    *natsserver.Server
	proxy *storetest.Proxy
	a, b  *chatServer
	cust  *client.Client
	conv  conv
	agent *follower
}

func newGapNodes(t *testing.T) *gapNodes {
	t.Helper()
	ns := startNATS(t)
	proxy := storetest.NewProxyTo(t, ns.Addr().String())
	a := newChatServer(t, "", "--nats-url", ns.ClientURL())
	b := &chatServer{server: start(t, a.server.db, "--nats-url", "nats://"+proxy.Addr()), db: a.db, queue: a.queue}

	alice := a.agent(t, "alice")
	cust := a.customer(t, a.visitorToken(t, ""))
	c := startChat(t, cust, "Nina")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	g := &gapNodes{ns: ns, proxy: proxy, a: a, b: b, cust: cust, conv: c,
		agent: &follower{t: t, c: b.agent(t, "alice"), id: c.ID}}
	g.agent.resume()
	return g
}

// send has the customer send messages with these texts, each acknowledged
// (so stored) before the next.
func (g *gapNodes) send(t *testing.T, texts ...string) {
	t.Helper()
	for _, text := range texts {
		request(t, g.cust, "chat.send", map[string]any{"conversation_id": g.conv.ID, "client_id": text, "text": text}, nil)
	}
}

// cut cuts node B off NATS and waits until the NATS server has dropped
// its connection, so nothing published from then on reaches B.
func (g *gapNodes) cut(t *testing.T) {
	t.Helper()
	before := g.ns.NumClients()
	g.proxy.Cut()
	deadline := time.Now().Add(15 * time.Second)
	for g.ns.NumClients() >= before {
		if time.Now().After(deadline) {
			t.Fatal("the NATS server kept node B's connection")
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

func texts(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func sameTexts(t *testing.T, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the agent showed %v, want %v", got, want)
	}
}

// Messages lost while node B was cut off, then more after it is back: the
// agent on B shows every one once, in order.
func TestEventsTheBusLostReachTheAgentOnceAndInOrder(t *testing.T) {
	t.Parallel()
	g := newGapNodes(t)
	before, lost, after := texts("before-", 3), texts("lost-", 10), texts("after-", 3)
	g.send(t, before...)
	g.agent.until("the messages before the cut", func() bool { return len(g.agent.texts) == len(before) })
	g.cut(t)
	g.send(t, lost...)
	g.proxy.Restore()
	g.agent.until("session.resync", func() bool { return g.agent.resyncs > 0 })
	g.send(t, after...)
	want := append(append(before, lost...), after...)
	g.agent.until("every message", func() bool { return len(g.agent.texts) >= len(want) })
	sameTexts(t, g.agent.texts, want)
}

// The last events are lost and nothing comes after them: no gap shows, and
// only the position check (on session.resync, or the client's timer)
// finds them.
func TestTheLastEventsTheBusLostAreFoundByThePositionCheck(t *testing.T) {
	t.Parallel()
	g := newGapNodes(t)
	lost := texts("last-", 3)
	g.send(t, "first")
	g.agent.until("the first message", func() bool { return len(g.agent.texts) == 1 })
	g.cut(t)
	g.send(t, lost...)
	g.proxy.Restore()
	g.agent.until("the lost messages", func() bool { return len(g.agent.texts) == 1+len(lost) })
	sameTexts(t, g.agent.texts, append([]string{"first"}, lost...))
	if g.agent.resyncs == 0 {
		t.Fatal("found without session.resync")
	}
	// The timer's check finds nothing more to fetch.
	shown := g.agent.shown
	g.agent.check()
	if g.agent.shown != shown {
		t.Fatalf("a second check moved the agent from %d to %d", shown, g.agent.shown)
	}
}
