package crm

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// The rule in Go (sees), in SQL (sql, as ticket.search and ticket.counts
// use it) and from the ticket's side (watchersSQL, whom ticket.changed
// reaches) agree with one table of who may see which ticket.
func TestTheTicketRuleInGoAndInSQLAgree(t *testing.T) {
	ctx := context.Background()
	f := newTicketFixture(t)
	sales := f.ticket(t, f.sales, "Sales, unassigned")
	support := f.assignedTo(t, f.support, f.bob, "Support, Bob's")
	carls := f.assignedTo(t, f.sales, f.carl, "Sales, Carl's though he left the queue")
	tickets := []Ticket{sales, support, carls}
	want := map[string][]TicketID{
		"Ada":   {sales.ID, support.ID, carls.ID}, // admin: every ticket
		"Sue":   {sales.ID, support.ID, carls.ID}, // supervisor given no queue: every queue
		"Sam":   {support.ID},                     // supervisor given Support
		"Alice": {sales.ID, carls.ID},             // agent of Sales
		"Bob":   {support.ID},                     // agent of Support, and its assignee
		"Carl":  {carls.ID},                       // agent of no queue: the ticket assigned to him
	}
	for _, p := range f.staff() {
		v, err := viewerOf(ctx, f.pool, p)
		if err != nil {
			t.Fatal(err)
		}
		var inGo []TicketID
		for _, tk := range tickets {
			if v.sees(tk.queueID(), tk.assigneeID()) {
				inGo = append(inGo, tk.ID)
			}
		}
		a := args{[]TicketID{sales.ID, support.ID, carls.ID}}
		rows, err := f.pool.Query(ctx, `SELECT t.id FROM tickets t WHERE t.id = ANY ($1) AND `+v.sql(&a)+` ORDER BY t.id`, a...)
		if err != nil {
			t.Fatal(err)
		}
		inSQL, err := pgx.CollectRows(rows, pgx.RowTo[TicketID])
		if err != nil {
			t.Fatal(err)
		}
		var watched []TicketID
		for _, tk := range tickets {
			if slices.Contains(watchers(t, f, tk.ID), p.UserID) {
				watched = append(watched, tk.ID)
			}
		}
		w := want[p.Name]
		if !slices.Equal(inGo, w) || !slices.Equal(inSQL, w) || !slices.Equal(watched, w) {
			t.Errorf("%s sees %v in Go, %v in SQL, is told of %v; want %v", p.Name, inGo, inSQL, watched, w)
		}
	}
	for _, p := range []auth.Principal{f.customer, f.guest} {
		if _, err := viewerOf(ctx, f.pool, p); codeOf(err) != "forbidden" {
			t.Errorf("%s: %v, want forbidden", p.Kind, err)
		}
	}
}

// watchers are the users watchersSQL finds for ticket id.
func watchers(t *testing.T, f *ticketFixture, id TicketID) []auth.UserID {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), watchersSQL, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []auth.UserID
	for rows.Next() {
		var u auth.UserID
		var star bool
		if err := rows.Scan(&u, &star); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return out
}

// Every request of a ticket, by every role and relation: those who may
// see the ticket reach it, other staff are told not_found (as for a
// ticket that does not exist), customers and guests forbidden.
func TestEveryTicketRequestByEveryRoleAndRelation(t *testing.T) {
	ctx := context.Background()
	f := newTicketFixture(t)
	type op struct {
		name string
		ok   string // the code when the caller sees the ticket: "" or the op's own refusal
		do   func(p auth.Principal, tk Ticket) error
	}
	alice := f.alice.UserID
	// Each op runs on a ticket of its own, in each relation, by everyone.
	ops := []op{
		{"get", "", func(p auth.Principal, tk Ticket) error { _, err := f.tk.Get(ctx, p, tk.ID); return err }},
		{"update", "", func(p auth.Principal, tk Ticket) error {
			title := "Renamed by " + p.Name
			_, err := f.tk.Update(ctx, p, UpdateInput{TicketID: tk.ID, Title: &title})
			return err
		}},
		{"assign", "", func(p auth.Principal, tk Ticket) error {
			to := alice // an agent of the ticket's queue
			if tk.queueID() == f.support {
				to = f.bob.UserID
			}
			_, err := f.tk.Assign(ctx, p, tk.ID, &to)
			return err
		}},
		{"unassign", "", func(p auth.Principal, tk Ticket) error { _, err := f.tk.Assign(ctx, p, tk.ID, nil); return err }},
		{"close", "", func(p auth.Principal, tk Ticket) error { _, err := f.tk.Close(ctx, p, tk.ID); return err }},
		{"reopen", "conflict", func(p auth.Principal, tk Ticket) error { _, err := f.tk.Reopen(ctx, p, tk.ID); return err }},
		{"reply", "", func(p auth.Principal, tk Ticket) error {
			_, err := f.tk.Reply(ctx, p, ReplyInput{TicketID: tk.ID, Text: "We sent it again"})
			return err
		}},
		{"note", "", func(p auth.Principal, tk Ticket) error { _, err := f.tk.Note(ctx, p, tk.ID, "a note"); return err }},
		{"favourite", "", func(p auth.Principal, tk Ticket) error {
			_, err := f.tk.Favourite(ctx, p, tk.ID, true)
			return err
		}},
	}
	// The relations, each a ticket of its own per request.
	relations := []struct {
		name string
		make func(title string) Ticket
		sees []auth.Principal
	}{
		{"of Sales, unassigned", func(title string) Ticket { return f.ticket(t, f.sales, title) },
			[]auth.Principal{f.ada, f.sue, f.alice}},
		{"of Sales, assigned to Carl of no queue", func(title string) Ticket { return f.assignedTo(t, f.sales, f.carl, title) },
			[]auth.Principal{f.ada, f.sue, f.alice, f.carl}},
		{"of Support, unassigned", func(title string) Ticket { return f.ticket(t, f.support, title) },
			[]auth.Principal{f.ada, f.sue, f.sam, f.bob}},
	}
	everyone := append(f.staff(), f.customer, f.guest)
	for _, o := range ops {
		for _, r := range relations {
			for _, p := range everyone {
				tk := r.make(o.name)
				want := "not_found"
				switch {
				case !p.IsStaff():
					want = "forbidden"
				case slices.ContainsFunc(r.sees, func(s auth.Principal) bool { return s.UserID == p.UserID }):
					want = o.ok
				}
				if got := codeOf(o.do(p, tk)); got != want {
					t.Errorf("%s of a ticket %s by %s %s: %q, want %q", o.name, r.name, p.Role, p.Name, got, want)
				}
			}
		}
	}
	for _, p := range []auth.Principal{f.customer, f.guest} {
		if _, err := f.tk.Search(ctx, p, SearchInput{}); codeOf(err) != "forbidden" {
			t.Errorf("search by %s: %v, want forbidden", p.Kind, err)
		}
		if _, err := f.tk.Counts(ctx, p); codeOf(err) != "forbidden" {
			t.Errorf("counts by %s: %v, want forbidden", p.Kind, err)
		}
		if _, err := f.tk.Create(ctx, p, CreateInput{QueueID: f.sales, Title: "x"}); codeOf(err) != "forbidden" {
			t.Errorf("create by %s: %v, want forbidden", p.Kind, err)
		}
	}
}
