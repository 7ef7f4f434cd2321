package routing

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
)

// One chunk of offers is a handful of statements for all its chats: each
// chat still gets its offers and its offered events numbered after its
// own last seq, in the plan's order, and a chat no longer queued is left
// alone.
func TestAChunkOffersEachChatWithItsOwnSeqsAndSkipsOnesNoLongerQueued(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, a := f.customer(t, "Vera")
	_, b := f.customer(t, "Walt")
	_, gone := f.customer(t, "Xena")
	// b has a private event more than a, so the two chats' seqs differ.
	if _, err := f.svc.pool.Exec(ctx, `UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1`, b); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.pool.Exec(ctx, `UPDATE conversations SET state = 'closed' WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	plan := []plannedOffer{
		{b, []auth.UserID{f.bob.UserID}},
		{gone, []auth.UserID{f.alice.UserID}},
		{a, []auth.UserID{f.alice.UserID, f.bob.UserID}},
	}
	var made []madeOffer
	err := pgx.BeginFunc(ctx, f.svc.pool, func(tx pgx.Tx) error {
		var err error
		made, err = offerChunkTx(ctx, tx, plan, time.Now().Add(time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	told := ""
	for _, o := range made {
		told += fmt.Sprintf("[%d %s", o.c.ID, o.c.State)
		for _, ev := range o.evs {
			told += fmt.Sprintf(" %d:%s:%s", ev.Seq, ev.Kind, ev.Author.Name)
		}
		told += "]"
	}
	want := fmt.Sprintf("[%d offered 3:offered:Bob][%d offered 2:offered:Alice 3:offered:Bob]", b, a)
	if told != want {
		t.Fatalf("made:\n got %s\nwant %s", told, want)
	}
	stored := func(id conversation.ID) string {
		t.Helper()
		var out string
		if err := f.svc.pool.QueryRow(ctx, `SELECT c.state || ' ' || c.last_seq || coalesce((SELECT string_agg(' ' || e.seq || ':' || e.kind || ':' || e.author_name, '' ORDER BY e.seq)
				FROM conversation_events e WHERE e.conversation_id = c.id AND e.private), '') || ' offers ' ||
				(SELECT count(*) FROM offers o WHERE o.conversation_id = c.id AND o.state = 'pending')
			FROM conversations c WHERE c.id = $1`, id).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for id, want := range map[conversation.ID]string{
		a:    "offered 3 2:offered:Alice 3:offered:Bob offers 2",
		b:    "offered 3 3:offered:Bob offers 1",
		gone: "closed 1 offers 0",
	} {
		if got := stored(id); got != want {
			t.Errorf("chat %d stored:\n got %s\nwant %s", id, got, want)
		}
	}
}
