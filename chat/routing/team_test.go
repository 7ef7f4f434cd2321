package routing

import (
	"context"
	"errors"
	"sync"
	"testing"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// teamChat is a chat of the fixture's queue that alice has accepted, with
// alice, bob and the supervisor connected.
func (f *fixture) teamChat(t *testing.T) (auth.Principal, conversation.ID) {
	t.Helper()
	for _, p := range []auth.Principal{f.alice, f.bob, f.sup} {
		f.connect(p)
	}
	customer, id := f.customer(t, "Vera")
	if _, _, err := f.svc.Accept(context.Background(), f.alice, id); err != nil {
		t.Fatal(err)
	}
	return customer, id
}

// kinds lists the kinds of chat id's events, in seq order, checking that
// the numbering has no gap.
func (f *fixture) kinds(t *testing.T, id conversation.ID) []string {
	t.Helper()
	rows, err := f.svc.pool.Query(context.Background(),
		`SELECT seq, kind FROM conversation_events WHERE conversation_id = $1 ORDER BY seq`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var seq int
		var kind string
		if err := rows.Scan(&seq, &kind); err != nil {
			t.Fatal(err)
		}
		if seq != len(out)+1 {
			t.Fatalf("seq %d after %d events", seq, len(out))
		}
		out = append(out, kind)
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// An invitation accepted while the customer closes the chat is one or the
// other, never half of each: bob joined before the close, or the close
// withdrew the invitation and bob's accept is refused.
func TestAnInvitationAcceptedWhileTheCustomerClosesIsOneOrTheOther(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	joinedFirst, closedFirst := 0, 0
	for i := 0; i < 12; i++ {
		customer, id := f.teamChat(t)
		if _, err := f.svc.Invite(ctx, f.alice, id, Target{UserID: f.bob.UserID}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var acceptErr, closeErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, _, acceptErr = f.svc.Accept(ctx, f.bob, id) }()
		go func() { defer wg.Done(); closeErr = f.conv.Close(ctx, customer, id, "") }()
		wg.Wait()
		if closeErr != nil {
			t.Fatalf("the customer's close: %v", closeErr)
		}
		c, err := conversation.Get(ctx, f.svc.pool, id, false)
		if err != nil {
			t.Fatal(err)
		}
		kinds := f.kinds(t, id)
		inChat := conversation.HasAgent(c, f.bob.UserID)
		switch {
		case acceptErr == nil:
			joinedFirst++
			if !inChat || count(kinds, conversation.KindJoined) != 1 || kinds[len(kinds)-1] != conversation.KindClosed {
				t.Fatalf("bob's accept succeeded: in the chat %v, events %v", inChat, kinds)
			}
		case errors.Is(acceptErr, queues.ErrConflict) || errors.Is(acceptErr, queues.ErrNotFound):
			closedFirst++
			if inChat || count(kinds, conversation.KindJoined) != 0 {
				t.Fatalf("bob's accept was refused (%v) but he is in the chat %v, events %v", acceptErr, inChat, kinds)
			}
		default:
			t.Fatal(acceptErr)
		}
		if p := f.pending(t, id); len(p) != 0 {
			t.Fatalf("offers outlive the close: %v", p)
		}
		if err := f.conv.Close(ctx, f.alice, id, ""); err != nil { // the wrap-up frees alice's place
			t.Fatal(err)
		}
	}
	t.Logf("bob joined first %d times, the close came first %d times", joinedFirst, closedFirst)
}

// Two tabs of the invited agent accept at once: one joins, the other is
// refused, and the chat has one joined event.
func TestTwoAcceptsOfOneInvitationJoinOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, id := f.teamChat(t)
	if _, err := f.svc.Invite(ctx, f.alice, id, Target{UserID: f.bob.UserID}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, _, errs[i] = f.svc.Accept(ctx, f.bob, id) }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, queues.ErrConflict):
			t.Fatalf("a losing accept: %v, want conflict", err)
		}
	}
	if kinds := f.kinds(t, id); ok != 1 || count(kinds, conversation.KindJoined) != 1 {
		t.Fatalf("%d accepts succeeded; events %v", ok, kinds)
	}
}

// Two invitations at once, to two colleagues: one is made, the other is
// refused naming whom the first invited.
func TestTwoInvitationsAtOnceMakeOne(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, id := f.teamChat(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range []auth.Principal{f.bob, f.sup} {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = f.svc.Invite(ctx, f.alice, id, Target{UserID: p.UserID}) }()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("invitations: %v, %v; want one made and one refused", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, queues.ErrConflict) {
			t.Fatalf("the refused invitation: %v, want conflict", err)
		}
	}
	var pending int
	if err := f.svc.pool.QueryRow(ctx, `SELECT count(*) FROM offers WHERE conversation_id = $1 AND state = 'pending'`,
		id).Scan(&pending); err != nil || pending != 1 {
		t.Fatalf("%d pending offers (%v)", pending, err)
	}
}

// Two transfers crossing, Alice's chat to Bob and Bob's to Alice, both
// accepted at once: each accept touches both agents' rows (the one who
// takes the chat, the one who hands it on), and both go through. Each
// took them in its own order and PostgreSQL failed one with "deadlock
// detected" (the T1 load test met it under load).
func TestTransfersCrossingBetweenTwoAgentsBothGoThrough(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, p := range []auth.Principal{f.alice, f.bob} {
		f.connect(p)
	}
	for round := range 20 {
		_, fromAlice := f.customer(t, "Ada")
		_, fromBob := f.customer(t, "Ben")
		for _, take := range []struct {
			p  auth.Principal
			id conversation.ID
		}{{f.alice, fromAlice}, {f.bob, fromBob}} {
			if _, _, err := f.svc.Accept(ctx, take.p, take.id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.Transfer(ctx, f.alice, fromAlice, Target{UserID: f.bob.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Transfer(ctx, f.bob, fromBob, Target{UserID: f.alice.UserID}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() { defer wg.Done(); _, _, errs[0] = f.svc.Accept(ctx, f.bob, fromAlice) }()
		go func() { defer wg.Done(); _, _, errs[1] = f.svc.Accept(ctx, f.alice, fromBob) }()
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: accept %d of the crossing transfers: %v", round, i, err)
			}
		}
		for _, done := range []struct {
			p  auth.Principal
			id conversation.ID
		}{{f.bob, fromAlice}, {f.alice, fromBob}} {
			if err := f.conv.Close(ctx, done.p, done.id, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
}
