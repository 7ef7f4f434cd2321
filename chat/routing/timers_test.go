package routing

import (
	"context"
	"testing"
	"time"

	"parley/chat/chattest"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// A timed step that takes long (here a look at the queues' rules that
// waits for a row lock) does not hold the passes: a chat that arrives
// meanwhile is offered at once. When the passes waited for the timed
// steps, a slow look at the rules made most of the tail of queued →
// offer.
func TestASlowLookAtTheRulesDoesNotHoldTheOffers(t *testing.T) {
	f := newFixture(t, Options{DBTimeout: time.Minute})
	ctx := context.Background()
	// A chat whose customer left without a presence change, in a queue
	// with auto finish and nobody to route to: the rules mark it, and
	// that UPDATE waits for the row lock this test holds.
	other, err := f.qs.Create(ctx, queues.Queue{Key: chattest.Unique("rules"), Name: "Rules"})
	if err != nil {
		t.Fatal(err)
	}
	f.set(t, `UPDATE queues SET auto_finish_seconds = 30 WHERE id = $1`, other.ID)
	held, _, err := f.conv.Start(ctx, chattest.Visitor("Held", other.Key), conversation.StartInput{Name: "Held"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := f.svc.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // releases the lock at the end
	if _, err := tx.Exec(ctx, `SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE`, held.ID); err != nil {
		t.Fatal(err)
	}

	f.connect(f.alice)
	f.connect(f.bob)
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.svc.Run(run); close(done) }()
	defer func() { _ = tx.Rollback(ctx); cancel(); <-done }()

	// Wait until the look at the rules is stuck on the lock.
	if !until(t, 10*time.Second, func() bool {
		var n int
		if err := f.svc.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE conversations SET customer_left_at%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}) {
		t.Fatal("the look at the rules never waited for the held chat")
	}

	// A chat arrives in the routed queue while the rules wait.
	p := chattest.Visitor("Next", f.q.Key)
	f.connect(p)
	c, _, err := f.conv.Start(ctx, p, conversation.StartInput{Name: "Next"})
	if err != nil {
		t.Fatal(err)
	}
	if !until(t, 5*time.Second, func() bool {
		var state string
		if err := f.svc.pool.QueryRow(ctx, `SELECT state FROM conversations WHERE id = $1`, c.ID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		return state == "offered"
	}) {
		t.Fatal("the new chat was not offered within 5 s while the rules waited")
	}
}

// until polls cond every 20 ms until it holds (true) or d has passed
// (false).
func until(t *testing.T, d time.Duration, cond func() bool) bool {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			return false
		}
	}
	return true
}

// The router rests between passes in proportion to the chats a pass
// offered: as long as the pass took after a pass of a whole chunk or
// more, hardly at all after a slow pass of a few chats (the database's
// time, not the router's work), so that the chats that queued meanwhile
// do not wait twice as long.
func TestTheRouterRestsAfterAPassInProportionToWhatItOffered(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		took    time.Duration
		offered int
		want    time.Duration
	}{
		{1 * ms, 1, passGap},
		{1 * ms, 1000, passGap},
		{200 * ms, 0, 200 * ms},
		{256 * ms, 4, 264 * ms},
		{200 * ms, offerChunk / 2, 300 * ms},
		{200 * ms, offerChunk, 400 * ms},
		{200 * ms, 3 * offerChunk, 400 * ms},
	} {
		if got := nextPass(c.took, c.offered); got != c.want {
			t.Errorf("after a pass of %s that offered %d chats the next starts %s after it, not %s", c.took, c.offered, got, c.want)
		}
	}
}
