package main

import (
	"context"
	"os"
	"slices"
	"testing"

	"parley/auth"
	"parley/chat/search"
	"parley/store"
)

// A small fill makes a history that holds together (numbering, times,
// agents, counts) and that the search finds in, twice over in the same
// database; h1 runs on it. The same generator fills the million messages
// of docs/benchmarks.md.
func TestFillMakesAHistoryTheSearchFinds(t *testing.T) {
	ctx := context.Background()
	base := os.Getenv("PARLEY_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	dbURL, drop, err := freshDatabase(base, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Log(err)
		}
	})
	pool, err := store.Open(ctx, dbURL, store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := fillSettings{conversations: 300, messages: 3000, queues: 3, agents: 6, days: 30, seed: 1}
	var fills []filled
	for range 2 {
		f, err := fillDB(ctx, pool, s)
		if err != nil {
			t.Fatal(err)
		}
		if f.messages != s.messages {
			t.Fatalf("%d messages, want %d", f.messages, s.messages)
		}
		fills = append(fills, f)
	}
	check := func(what, sql string, want int) {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != want {
			t.Errorf("%s: %d, want %d", what, n, want)
		}
	}
	check("conversations", `SELECT count(*) FROM conversations`, 600)
	check("messages and comments", `SELECT count(*) FROM conversation_events WHERE kind IN ('message', 'comment')`, 6000)
	check("conversations whose last_seq is not their events' count and last seq",
		`SELECT count(*) FROM conversations c WHERE last_seq <> (SELECT count(*) FROM conversation_events e WHERE e.conversation_id = c.id)
			OR last_seq <> (SELECT max(seq) FROM conversation_events e WHERE e.conversation_id = c.id)
			OR last_public_seq <> (SELECT count(*) FROM conversation_events e WHERE e.conversation_id = c.id AND NOT private)`, 0)
	check("events before their conversation started, or after it closed",
		`SELECT count(*) FROM conversation_events e JOIN conversations c ON c.id = e.conversation_id
			WHERE e.created_at < c.queued_at OR e.created_at > coalesce(c.closed_at, 'infinity')`, 0)
	check("closed conversations without a status or a close event",
		`SELECT count(*) FROM conversations c WHERE state = 'closed' AND (close_status IS NULL OR closed_at IS NULL
			OR NOT EXISTS (SELECT 1 FROM conversation_events e WHERE e.conversation_id = c.id AND e.kind = 'closed'))`, 0)
	check("leads who are not among the agents", `SELECT count(*) FROM conversations c WHERE agent_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM conversation_agents a WHERE a.conversation_id = c.id AND a.user_id = c.agent_id)`, 0)
	check("open conversations", `SELECT count(*) FROM conversations WHERE state <> 'closed'`, 2)
	check("the indexes built again", `SELECT count(*) FROM pg_indexes
		WHERE indexname IN ('conversation_events_words', 'conversations_contact')`, 2)

	srch := search.New(pool)
	f := fills[1]
	sue := auth.Principal{Kind: auth.KindUser, Role: auth.RoleSupervisor, UserID: auth.UserID(f.supervisor)}
	sam := auth.Principal{Kind: auth.KindUser, Role: auth.RoleSupervisor, UserID: auth.UserID(f.scoped)}
	page, err := srch.Search(ctx, sue, search.Query{Text: "order"})
	if err != nil || len(page.Results) != search.DefaultLimit || page.Cursor == "" {
		t.Fatalf("Sue's search: %d results, cursor %q, %v", len(page.Results), page.Cursor, err)
	}
	tr, err := srch.Get(ctx, sue, page.Results[0].Conversation.ID)
	if err != nil || tr.Events[0].Kind != "queued" || tr.Events[0].OffsetMS != 0 {
		t.Fatalf("transcript: %+v, %v", tr, err)
	}
	page, err = srch.Search(ctx, sam, search.Query{Text: "order", Limit: ptrTo(100)})
	if err != nil || len(page.Results) == 0 {
		t.Fatalf("Sam's search: %v, %v", page, err)
	}
	for _, r := range page.Results {
		if !slices.Contains(f.queues[:2], int64(r.Conversation.Queue.ID)) {
			t.Fatalf("Sam, given two queues, found one of %s", r.Conversation.Queue.Name)
		}
	}

	res, err := h1(ctx, pool, h1Settings{searches: 40, target: 10e9, seed: 1})
	if err != nil || !res.Pass || res.Figures["p95_ms"] <= 0 {
		t.Fatalf("h1: %+v, %v", res, err)
	}
}
