package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
	"parley/fault"
)

func ptr[T any](v T) *T { return &v }

// Each filter finds exactly its conversations, newest first.
func TestEachFilterFindsItsConversations(t *testing.T) {
	f := newFixture(t)
	day := func(d int) string { return f.now.AddDate(0, 0, d).Format(time.DateOnly) }
	cases := []struct {
		name string
		q    Query
		want []conversation.ID
	}{
		{"nothing: every conversation, newest first", Query{}, []conversation.ID{f.sales2, f.support2, f.support1, f.sales1}},
		{"a word", Query{Text: "parcel"}, []conversation.ID{f.support2, f.sales1}},
		{"a word in capitals", Query{Text: "PRINTER"}, []conversation.ID{f.support2, f.support1}},
		{"two words, both", Query{Text: "parcel printer"}, []conversation.ID{f.support2}},
		{"a phrase", Query{Text: `"never arrived"`}, []conversation.ID{f.sales1}},
		{"or", Query{Text: "fire or arrived"}, []conversation.ID{f.support1, f.sales1}},
		{"not", Query{Text: "parcel -printer"}, []conversation.ID{f.sales1}},
		{"a private message's word", Query{Text: "refund"}, []conversation.ID{f.sales1}},
		{"a comment's word", Query{Text: "toner"}, []conversation.ID{f.support1}},
		{"a word nobody wrote", Query{Text: "banana"}, []conversation.ID{}},
		{"contact by name", Query{Contact: "jo"}, []conversation.ID{f.support2, f.sales1}},
		{"contact by name, both words", Query{Contact: "Jo Smi"}, []conversation.ID{f.sales1}},
		{"contact by e-mail", Query{Contact: "kim@lee.io"}, []conversation.ID{f.support1}},
		{"contact by part of an e-mail", Query{Contact: "brown@exam"}, []conversation.ID{f.support2}},
		{"agent, lead or not", Query{AgentID: f.alice.UserID}, []conversation.ID{f.support2, f.sales1}},
		{"agent", Query{AgentID: f.bob.UserID}, []conversation.ID{f.support2, f.support1}},
		{"queue", Query{QueueID: f.sales}, []conversation.ID{f.sales2, f.sales1}},
		{"from a date", Query{From: day(-5)}, []conversation.ID{f.sales2, f.support2, f.support1}},
		{"to a date, through its end", Query{To: day(-5)}, []conversation.ID{f.support1, f.sales1}},
		{"a range of times", Query{From: f.now.AddDate(0, 0, -6).Format(time.RFC3339), To: f.now.AddDate(0, 0, -1).Format(time.RFC3339)},
			[]conversation.ID{f.support1}},
		{"open", Query{Status: StatusOpen}, []conversation.ID{f.sales2, f.support1}},
		{"closed", Query{Status: StatusClosed}, []conversation.ID{f.support2, f.sales1}},
		{"close status", Query{CloseStatus: "spam"}, []conversation.ID{f.support2}},
		{"important", Query{Important: ptr(true)}, []conversation.ID{f.support1}},
		{"not important", Query{Important: ptr(false)}, []conversation.ID{f.sales2, f.support2, f.sales1}},
		{"several filters", Query{Text: "parcel", Contact: "jo", Status: StatusClosed, QueueID: f.support, AgentID: f.alice.UserID},
			[]conversation.ID{f.support2}},
	}
	// A window of 1 or 2 conversations makes the text searches test the
	// newest and ask the index for the rest; 1000, test them all.
	for _, window := range []int{1000, 2, 1} {
		f.s.window = window
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s, window %d", tc.name, window), func(t *testing.T) {
				page, err := f.s.Search(context.Background(), f.ada, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(page); !slices.Equal(got, tc.want) {
					t.Fatalf("found %v, want %v", names(f, got), names(f, tc.want))
				}
				if page.Cursor != "" {
					t.Fatalf("a cursor %q on the only page", page.Cursor)
				}
			})
		}
	}
}

func names(f *fixture, ids []conversation.ID) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, f.name(id))
	}
	return out
}

// A result carries the conversation's summary and the first matching
// event's snippet, its words marked as hits.
func TestAResultHasTheSummaryAndASnippetOfTheMatch(t *testing.T) {
	f := newFixture(t)
	page, err := f.s.Search(context.Background(), f.sue, Query{Text: "refund"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 1 {
		t.Fatalf("%d results", len(page.Results))
	}
	r := page.Results[0]
	c := r.Conversation
	if c.Customer.Name != "Jo Smith" || c.Customer.Email != "jo.smith@example.com" || c.Queue.Name != "Sales" ||
		c.Agent == nil || c.Agent.Name != "Alice" || len(c.Agents) != 1 || c.State != "closed" ||
		c.CloseStatus == nil || *c.CloseStatus != "resolved" || c.ClosedAt == nil || r.Important {
		t.Fatalf("summary %+v", r)
	}
	m := r.Match
	if m == nil || m.Seq != 3 || !m.Private || m.Kind != "message" {
		t.Fatalf("match %+v", m)
	}
	var text strings.Builder
	var hits []string
	for _, p := range m.Snippet {
		text.WriteString(p.Text)
		if p.Hit {
			hits = append(hits, p.Text)
		}
	}
	if text.String() != "refund approved by the team lead" || !slices.Equal(hits, []string{"refund"}) {
		t.Fatalf("snippet %+v", m.Snippet)
	}
	page, err = f.s.Search(context.Background(), f.sue, Query{Contact: "kim"})
	if err != nil || len(page.Results) != 1 || page.Results[0].Match != nil || !page.Results[0].Important {
		t.Fatalf("without text: %+v, %v", page, err)
	}
}

// Pages follow each other by their cursor, each conversation once, and
// conversations that start meanwhile do not shift the pages.
func TestPagesFollowTheCursorAndNewConversationsDoNotShiftThem(t *testing.T) {
	f := newFixture(t)
	var want []conversation.ID
	for i := range 25 {
		want = append(want, f.conv(t, conv{queue: f.sales, name: "Pat", state: "closed", closeStatus: "done",
			agents: []auth.Principal{f.alice}, at: f.now.Add(-time.Hour).Add(time.Duration(-i) * time.Second)},
			ev{kind: "message", author: "customer", text: "paging test"}))
	}
	// Two that started at the same time: the id orders them.
	same := f.now.Add(-2 * time.Hour)
	for range 2 {
		want = append(want, 0)
		copy(want[len(want)-1:], []conversation.ID{f.conv(t, conv{queue: f.sales, name: "Pat", state: "queued", at: same},
			ev{kind: "message", author: "customer", text: "paging test"})})
	}
	n := len(want)
	want[n-2], want[n-1] = want[n-1], want[n-2]
	f.s.window = 4 // the pages need the index past the newest four
	var got []conversation.ID
	q := Query{Text: "paging", Limit: ptr(10)}
	for pages := 0; ; pages++ {
		page, err := f.s.Search(context.Background(), f.ada, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(page)...)
		if page.Cursor == "" {
			if pages != 2 {
				t.Fatalf("%d pages, want 3", pages+1)
			}
			break
		}
		// A conversation starts between two pages.
		f.conv(t, conv{queue: f.sales, name: "Newcomer", state: "queued", at: time.Now()},
			ev{kind: "message", author: "customer", text: "paging test"})
		q.Cursor = page.Cursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged %v\nwant  %v", got, want)
	}
}

// Bad queries are answered bad_request, naming the field.
func TestBadQueriesNameTheField(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		q     Query
		field string
	}{
		{Query{Text: "!!! ???"}, `"text"`},
		{Query{Text: strings.Repeat("a", 201)}, `"text"`},
		{Query{Text: "a\x00b"}, `text`},
		{Query{Contact: "@@"}, `"contact"`},
		{Query{Contact: "a b c d e f g h i"}, `"contact"`},
		{Query{AgentID: -1}, `"agent_id"`},
		{Query{QueueID: -3}, `"queue_id"`},
		{Query{From: "yesterday"}, `"from"`},
		{Query{To: "2026-13-01"}, `"to"`},
		{Query{From: "2026-12-02", To: "2026-12-01"}, `"from"`},
		{Query{From: "2026-12-02T10:00:00Z", To: "2026-12-02T10:00:00Z"}, `"from"`},
		{Query{Status: "resolved"}, `"status"`},
		{Query{CloseStatus: strings.Repeat("x", 201)}, `"close_status"`},
		{Query{Limit: ptr(0)}, `"limit"`},
		{Query{Limit: ptr(101)}, `"limit"`},
		{Query{Cursor: "not-a-cursor"}, `"cursor"`},
		{Query{Cursor: "MTIzNA"}, `"cursor"`}, // "1234": no id
	}
	for _, tc := range cases {
		_, err := f.s.Search(context.Background(), f.ada, tc.q)
		code, msg := fault.Describe(err, quiet)
		if code != fault.BadRequest || !strings.Contains(msg, tc.field) {
			t.Errorf("%+v: %s %q, want bad_request naming %s", tc.q, code, msg, tc.field)
		}
	}
	for _, limit := range []int{1, 100} {
		if _, err := f.s.Search(context.Background(), f.ada, Query{Limit: ptr(limit)}); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
}

// The transcript has every event, private ones and comments too, each
// with its time after the start, and a place for the feedback.
func TestTheTranscriptHasEveryEventWithItsOffset(t *testing.T) {
	f := newFixture(t)
	tr, err := f.s.Get(context.Background(), f.sue, f.sales1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Conversation.ID != f.sales1 || tr.Important || tr.Feedback != nil || len(tr.Events) != 4 {
		t.Fatalf("transcript %+v", tr)
	}
	for i, e := range tr.Events {
		if e.Seq != i+1 || e.OffsetMS != int64(i+1)*60000 {
			t.Errorf("event %d: seq %d, offset %d ms", i, e.Seq, e.OffsetMS)
		}
	}
	if !tr.Events[2].Private || tr.Events[2].Text != "refund approved by the team lead" || tr.Events[3].Status != "resolved" {
		t.Fatalf("events %+v", tr.Events)
	}
	tr, err = f.s.Get(context.Background(), f.bob, f.support1)
	if err != nil || len(tr.Events) != 2 || tr.Events[1].Kind != "comment" || !tr.Events[1].Private || !tr.Important {
		t.Fatalf("with a comment: %+v, %v", tr, err)
	}
	if _, err := f.s.Get(context.Background(), f.ada, 999999999); !errors.Is(err, queues.ErrNotFound) {
		t.Fatalf("an id that does not exist: %v", err)
	}
}

// The mark is kept and is a filter.
func TestTheImportantMarkIsKeptAndFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.s.Mark(ctx, f.alice, f.sales1, true); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Mark(ctx, f.sam, f.support1, false); err != nil {
		t.Fatal(err)
	}
	page, err := f.s.Search(ctx, f.ada, Query{Important: ptr(true)})
	if err != nil || !slices.Equal(ids(page), []conversation.ID{f.sales1}) {
		t.Fatalf("important: %v, %v", names(f, ids(page)), err)
	}
	tr, err := f.s.Get(ctx, f.ada, f.sales1)
	if err != nil || !tr.Important {
		t.Fatalf("transcript: %v, %v", tr.Important, err)
	}
	if err := f.s.Mark(ctx, f.ada, 999999999, true); !errors.Is(err, queues.ErrNotFound) {
		t.Fatalf("an id that does not exist: %v", err)
	}
}

// The filters offered: the queues one oversees and their agents; an
// agent its own queues and itself.
func TestFiltersOfferTheQueuesAndAgentsInScope(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		who            auth.Principal
		queues, agents []string
	}{
		{f.ada, []string{"Sales", "Support"}, []string{"Ada", "Alice", "Bob"}},
		{f.sue, []string{"Sales", "Support"}, []string{"Alice", "Bob", "Sue"}},
		{f.sam, []string{"Support"}, []string{"Bob", "Sam"}},
		{f.alice, []string{"Sales"}, []string{"Alice"}},
	} {
		qs, agents, err := f.s.Filters(context.Background(), tc.who)
		if err != nil {
			t.Fatal(err)
		}
		var gq, ga []string
		for _, q := range qs {
			gq = append(gq, q.Name)
		}
		for _, a := range agents {
			ga = append(ga, a.Name)
		}
		if !slices.Equal(gq, tc.queues) || !slices.Equal(ga, tc.agents) {
			t.Errorf("%s: queues %v agents %v, want %v %v", tc.who.Name, gq, ga, tc.queues, tc.agents)
		}
	}
}
