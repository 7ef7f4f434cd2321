package search

import (
	"context"
	"slices"
	"testing"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
	"parley/fault"
)

// Who may search, open and mark what: every role against every
// conversation of the fixture. Customers and guests are forbidden
// everything; staff find and open only what the rule gives them, and are
// told not_found for the rest, as for an id that does not exist.
func TestWhoMaySearchOpenAndMarkWhat(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	all := []conversation.ID{f.sales2, f.support2, f.support1, f.sales1}
	cases := []struct {
		who  string
		p    auth.Principal
		sees []conversation.ID // nil: forbidden
	}{
		{"admin", f.ada, all},
		{"supervisor of every queue", f.sue, all},
		{"supervisor given Support", f.sam, []conversation.ID{f.support2, f.support1}},
		{"agent Alice: her chats, led or joined", f.alice, []conversation.ID{f.support2, f.sales1}},
		{"agent Bob", f.bob, []conversation.ID{f.support2, f.support1}},
		{"customer", f.customer, nil},
		{"guest", f.guest, nil},
	}
	for _, tc := range cases {
		t.Run(tc.who, func(t *testing.T) {
			page, err := f.s.Search(ctx, tc.p, Query{})
			if tc.sees == nil {
				for what, err := range map[string]error{
					"search": err,
					"get":    second(f.s.Get(ctx, tc.p, f.sales1)),
					"mark":   f.s.Mark(ctx, tc.p, f.sales1, true),
					"filters": func() error {
						_, _, err := f.s.Filters(ctx, tc.p)
						return err
					}(),
				} {
					if code, _ := fault.Describe(err, quiet); code != fault.Forbidden {
						t.Errorf("%s: %v, want forbidden", what, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); !slices.Equal(got, tc.sees) {
				t.Errorf("search found %v, want %v", names(f, got), names(f, tc.sees))
			}
			for _, id := range all {
				want := fault.NotFound
				if slices.Contains(tc.sees, id) {
					want = ""
				}
				_, err := f.s.Get(ctx, tc.p, id)
				if code, _ := fault.Describe(err, quiet); err != nil && code != want || err == nil && want != "" {
					t.Errorf("get %s: %v, want %q", f.name(id), err, want)
				}
				err = f.s.Mark(ctx, tc.p, id, false)
				if code, _ := fault.Describe(err, quiet); err != nil && code != want || err == nil && want != "" {
					t.Errorf("mark %s: %v, want %q", f.name(id), err, want)
				}
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

// A supervisor given Support never finds a Sales conversation, whatever
// the filters name: Sales' queue, its agent, its customer, its words.
func TestAScopedSupervisorNeverFindsAnotherQueuesConversation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var queries []Query
	for _, text := range []string{"", "parcel", "refund", "hello", "arrived"} {
		for _, contact := range []string{"", "jo", "smith", "max"} {
			for _, agent := range []auth.UserID{0, f.alice.UserID, f.bob.UserID} {
				for _, queue := range []queues.QueueID{0, f.sales, f.support} {
					for _, status := range []string{"", StatusOpen, StatusClosed} {
						queries = append(queries, Query{Text: text, Contact: contact, AgentID: agent, QueueID: queue, Status: status})
					}
				}
			}
		}
	}
	queries = append(queries, Query{CloseStatus: "resolved"}, Query{Important: ptr(false)}, Query{Important: ptr(true)})
	found := 0
	for _, q := range queries {
		page, err := f.s.Search(ctx, f.sam, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Results {
			found++
			if r.Conversation.Queue.ID != f.support {
				t.Fatalf("%+v found %s of %s", q, f.name(r.Conversation.ID), r.Conversation.Queue.Name)
			}
		}
	}
	if found == 0 {
		t.Fatal("the queries found nothing at all: they prove nothing")
	}
}

// The rule in Go (sees, for get and mark) and in SQL (the search's
// condition) agree on every principal and conversation, including a
// supervisor who is an agent of a chat outside its queues.
func TestTheRuleInGoAndInSQLAgree(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Sam, given Support, took a Sales chat as its agent.
	own := f.conv(t, conv{queue: f.sales, name: "Sam's own", state: "active", agents: []auth.Principal{f.sam}, at: f.now})
	// A chat led by Alice whose conversation_agents row is missing: the
	// lead is an agent all the same.
	f.exec(t, `DELETE FROM conversation_agents WHERE conversation_id = $1 AND user_id = $2`, f.sales1, f.alice.UserID)
	for _, p := range []auth.Principal{f.ada, f.sue, f.sam, f.alice, f.bob} {
		w, err := whoIs(ctx, f.pool, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []conversation.ID{f.sales1, f.sales2, f.support1, f.support2, own} {
			c, err := conversation.Get(ctx, f.pool, id, false)
			if err != nil {
				t.Fatal(err)
			}
			var a args
			a.add(id)
			var inSQL bool
			if err := f.pool.QueryRow(ctx, `SELECT `+w.sql(&a)+` FROM conversations c WHERE c.id = $1`, a...).Scan(&inSQL); err != nil {
				t.Fatal(err)
			}
			if inGo := w.sees(c); inGo != inSQL {
				t.Errorf("%s on %s: Go says %v, SQL %v", p.Name, f.name(id), inGo, inSQL)
			}
		}
	}
	if w, _ := whoIs(ctx, f.pool, f.sam); !w.sees(mustGet(t, f, own)) {
		t.Error("Sam does not see the chat it is the agent of")
	}
	if w, _ := whoIs(ctx, f.pool, f.alice); !w.sees(mustGet(t, f, f.sales1)) {
		t.Error("Alice does not see the chat she leads")
	}
}

func mustGet(t *testing.T, f *fixture, id conversation.ID) conversation.Conversation {
	t.Helper()
	c, err := conversation.Get(context.Background(), f.pool, id, false)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
