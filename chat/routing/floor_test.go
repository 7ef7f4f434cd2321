package routing

import (
	"context"
	"slices"
	"testing"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// The supervisors' floor hears of every change it shows from the chat
// service, on the bus, after the commit (chat/conversation/floor_changes.go): no trigger
// tells it any more (migration 0027). Each test drives one class of paths
// and checks what each step told the floor.

// heard follows the floor's changes on the fixture's bus. The memory bus
// delivers a publish before Publish returns, so after a Flush every change
// marked so far is in ch.
type heard struct {
	n  *conversation.FloorNotifier
	ch chan conversation.FloorChange
}

func (f *fixture) hear(t *testing.T) *heard {
	t.Helper()
	h := &heard{n: f.floor, ch: make(chan conversation.FloorChange, 256)}
	unsub, err := f.bus.Subscribe(conversation.FloorSubject, func(frame []byte) {
		if c, err := conversation.DecodeFloorChange(frame); err == nil {
			h.ch <- c
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return h
}

// quiet forgets what was told so far.
func (h *heard) quiet() {
	h.n.Flush()
	for len(h.ch) > 0 {
		<-h.ch
	}
}

// told checks that what was told since the last quiet or told names queue
// q, or everything (all: it must be everything).
func (h *heard) told(t *testing.T, what string, q queues.QueueID, all bool) {
	t.Helper()
	h.n.Flush()
	var got []conversation.FloorChange
	ok := false
	for len(h.ch) > 0 {
		c := <-h.ch
		got = append(got, c)
		ok = ok || c.All || (!all && slices.Contains(c.Queues, q))
	}
	if !ok {
		want := "everything"
		if !all {
			want = "queue " + q.String()
		}
		t.Errorf("%s: the floor was told %+v, want %s", what, got, want)
	}
}

func TestTheFloorHearsOfAChatQueuedOfferedAndBackInItsQueue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	h := f.hear(t)
	f.connect(f.alice)
	f.connect(f.bob)
	h.quiet()
	_, id := f.customer(t, "Ann")
	h.told(t, "a chat started", f.q.ID, false)

	f.route(t)
	first := f.pending(t, id)
	if len(first) != 1 {
		t.Fatalf("offers %v, want one", first)
	}
	h.told(t, "a chat offered", f.q.ID, false)

	agent := f.alice
	if first[0] == f.bob.UserID {
		agent = f.bob
	}
	if err := f.svc.Reject(ctx, agent, id); err != nil {
		t.Fatal(err)
	}
	h.told(t, "an offer rejected", f.q.ID, false)

	f.route(t)
	if len(f.pending(t, id)) != 1 {
		t.Fatalf("offers %v after the reject, want one to the other agent", f.pending(t, id))
	}
	h.quiet()
	f.set(t, `UPDATE offers SET deadline = now() - interval '1 second' WHERE conversation_id = $1`, id)
	if err := f.svc.expireOffers(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.pending(t, id)) != 0 {
		t.Fatal("the offer past its deadline is still pending")
	}
	h.told(t, "an offer expired, the chat back in its queue", f.q.ID, false)
}

func TestTheFloorHearsOfAnAcceptATransferAndASteer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	h := f.hear(t)
	other, err := f.qs.Create(ctx, queues.Queue{Key: f.q.Key + "-other", Name: "Other"}, f.alice.UserID, f.bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []auth.Principal{f.alice, f.bob, f.sup} {
		f.connect(p)
	}
	_, id := f.customer(t, "Ann")
	h.quiet()
	if _, _, err := f.svc.Accept(ctx, f.alice, id); err != nil {
		t.Fatal(err)
	}
	h.told(t, "a chat accepted", 0, true)

	if _, err := f.svc.Transfer(ctx, f.alice, id, Target{QueueID: other.ID}); err != nil {
		t.Fatal(err)
	}
	h.told(t, "a chat transferred to another queue", 0, true)

	if _, _, err := f.svc.Accept(ctx, f.bob, id); err != nil {
		t.Fatal(err)
	}
	h.quiet()
	if _, err := f.svc.Assign(ctx, f.sup, id, Target{UserID: f.alice.UserID}); err != nil {
		t.Fatal(err)
	}
	h.told(t, "a supervisor steered the chat to another agent", 0, true)
}

func TestTheFloorHearsOfATeamACloseAndAWrapUp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	h := f.hear(t)
	customer, id := f.teamChat(t)
	if _, err := f.svc.Invite(ctx, f.alice, id, Target{UserID: f.bob.UserID}); err != nil {
		t.Fatal(err)
	}
	h.quiet()
	if _, _, err := f.svc.Accept(ctx, f.bob, id); err != nil {
		t.Fatal(err)
	}
	h.told(t, "a colleague joined", 0, true)
	if err := f.conv.Leave(ctx, f.bob, id); err != nil {
		t.Fatal(err)
	}
	h.told(t, "a colleague left", 0, true)
	if err := f.conv.Close(ctx, customer, id, ""); err != nil {
		t.Fatal(err)
	}
	h.told(t, "the customer closed the chat", 0, true)
	if err := f.conv.Close(ctx, f.alice, id, ""); err != nil {
		t.Fatal(err)
	}
	h.told(t, "the agent wrapped the chat up", 0, true)
	if got := f.kinds(t, id); got[len(got)-1] != conversation.KindWrappedUp {
		t.Fatalf("events %v, want a wrap-up last", got)
	}

	_, id = f.customer(t, "Ben")
	if _, _, err := f.svc.Accept(ctx, f.alice, id); err != nil {
		t.Fatal(err)
	}
	h.quiet()
	if err := f.conv.Close(ctx, f.alice, id, ""); err != nil {
		t.Fatal(err)
	}
	h.told(t, "the agent closed the chat", 0, true)
}

func TestTheFloorHearsOfAChatTheSystemEnds(t *testing.T) {
	f := newFixture(t)
	h := f.hear(t)
	_, id := f.customer(t, "Ann")
	f.set(t, `UPDATE queues SET max_wait_seconds = 60 WHERE id = $1`, f.q.ID)
	f.set(t, `UPDATE conversations SET queued_at = now() - interval '2 minutes' WHERE id = $1`, id)
	h.quiet()
	f.enforce(t)
	if state, by := f.state(t, id); state != conversation.StateClosed || by != "system" {
		t.Fatalf("the chat is %s (by %q), want closed by the system", state, by)
	}
	h.told(t, "the system ended a chat that waited too long", f.q.ID, false)
}
