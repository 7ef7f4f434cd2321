package routing

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// runLog runs the fixture's conversation log, so Send works.
func (f *fixture) runLog(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.conv.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
}

func TestAnAgentWhoseOfferWasTakenCannotSend(t *testing.T) {
	f := newFixture(t)
	f.runLog(t)
	ctx := context.Background()
	_, a := f.customer(t, "Vera")
	if _, err := f.svc.offerAll(ctx, f.q, []plannedOffer{{a, []auth.UserID{f.alice.UserID, f.bob.UserID}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.conv.Send(ctx, f.bob, conversation.SendInput{ConversationID: a, ClientID: "b1", Text: "I have it"}); err != nil {
		t.Fatalf("an offered agent sends: %v", err)
	}
	if _, _, err := f.svc.Accept(ctx, f.alice, a); err != nil {
		t.Fatal(err)
	}
	_, err := f.conv.Send(ctx, f.bob, conversation.SendInput{ConversationID: a, ClientID: "b2", Text: "still here"})
	if !errors.Is(err, queues.ErrNotFound) {
		t.Fatalf("send after the offer was taken: %v, want not_found", err)
	}
	if _, err := f.conv.Send(ctx, f.alice, conversation.SendInput{ConversationID: a, ClientID: "a1", Text: "Hello"}); err != nil {
		t.Fatalf("the accepting agent sends: %v", err)
	}
}

// The log's tests set chats up offered and accepted without the router
// (chat/conversation's state_test.go); this is what they copy: the rows
// and events an offer and an accept commit.
func TestAnOfferAndAnAcceptCommitTheseRowsAndEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, a := f.customer(t, "Vera")
	state := func() string {
		t.Helper()
		var st string
		var agent *auth.UserID
		if err := f.svc.pool.QueryRow(ctx, `SELECT state, agent_id FROM conversations WHERE id = $1`, a).
			Scan(&st, &agent); err != nil {
			t.Fatal(err)
		}
		rows, err := f.svc.pool.Query(ctx, `SELECT o.state, u.display_name FROM offers o JOIN users u ON u.id = o.user_id
			WHERE o.conversation_id = $1 ORDER BY u.display_name`, a)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := st
		if agent != nil {
			out += fmt.Sprintf(" agent=%d", *agent)
		}
		for rows.Next() {
			var os, name string
			if err := rows.Scan(&os, &name); err != nil {
				t.Fatal(err)
			}
			out += " " + name + ":" + os
		}
		_, evs, err := f.conv.Resume(ctx, f.sup, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			out += fmt.Sprintf(" | %d %s %s private=%v", ev.Seq, ev.Kind, ev.Author.Name, ev.Private)
		}
		return out
	}

	if _, err := f.svc.offerAll(ctx, f.q, []plannedOffer{{a, []auth.UserID{f.alice.UserID, f.bob.UserID}}}); err != nil {
		t.Fatal(err)
	}
	want := "offered Alice:pending Bob:pending | 1 queued Vera private=false | 2 offered Alice private=true | 3 offered Bob private=true"
	if got := state(); got != want {
		t.Fatalf("offered:\n got %s\nwant %s", got, want)
	}
	if _, _, err := f.svc.Accept(ctx, f.alice, a); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("active agent=%d Alice:accepted Bob:taken | 1 queued Vera private=false | 2 offered Alice private=true"+
		" | 3 offered Bob private=true | 4 accepted Alice private=false", f.alice.UserID)
	if got := state(); got != want {
		t.Fatalf("accepted:\n got %s\nwant %s", got, want)
	}
}

// An accept reads its queue's settings from the cache inside its
// transaction; on a miss it reads them with no connection held and runs
// again. Read inside the transaction, a miss waits for a second
// connection of the pool while holding one: with a pool of one
// connection, the accept would never end.
func TestAnAcceptWithTheQueueNotCachedNeedsOneConnection(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, a := f.customer(t, "Vera")
	if _, err := f.svc.offerAll(ctx, f.q, []plannedOffer{{a, []auth.UserID{f.alice.UserID}}}); err != nil {
		t.Fatal(err)
	}
	cfg := f.svc.pool.Config()
	cfg.MaxConns = 1
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	qs := queues.New(one, queues.NewLocalCache()) // empty: the accept misses
	conv := conversation.New(one, f.bus, chattest.Quiet, qs, conversation.Options{Presence: f.svc.presence})
	r := New(one, chattest.Quiet, qs, conv, Options{Presence: f.svc.presence})
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Take(tctx, f.alice, a); err != nil {
		t.Fatalf("accept on a pool of one connection, the queue not cached: %v", err)
	}
	if st, _ := f.state(t, a); st != conversation.StateActive {
		t.Fatalf("chat %d is %s after the accept, want active", a, st)
	}
}
