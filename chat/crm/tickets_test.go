package crm

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"parley/auth"
	"parley/mail"
	"parley/mail/mailtest"
)

// kinds are the kinds of a thread's events, in order.
func kinds(evs []Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

// A ticket goes unassigned → assigned → closed → reopened (assigned
// again, its assignee kept) → unassigned, each change an event numbered
// without gaps and told to those who may see it, not to the others.
func TestATicketsStatesEachAnEventToldToThoseWhoSeeIt(t *testing.T) {
	ctx := context.Background()
	f := newTicketFixture(t)
	bob := f.bob.UserID
	tk, err := f.tk.Create(ctx, f.sam, CreateInput{QueueID: f.support, Title: "  Printer on fire ", Priority: "high",
		AssigneeID: &bob, Text: "Smoke in the office"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Title != "Printer on fire" || tk.State != StateAssigned || tk.Assignee == nil || tk.Assignee.ID != int64(bob) ||
		tk.Priority != "high" || tk.Source != SourceManual || tk.Queue.ID != int64(f.support) || tk.LastSeq != 3 {
		t.Fatalf("made %+v", tk)
	}
	if tk, err = f.tk.Close(ctx, f.bob, tk.ID); err != nil || tk.State != StateClosed || tk.ClosedAt == nil {
		t.Fatalf("close: %+v, %v", tk, err)
	}
	if _, err := f.tk.Close(ctx, f.bob, tk.ID); codeOf(err) != "conflict" {
		t.Fatalf("closing it again: %v, want conflict", err)
	}
	if tk, err = f.tk.Reopen(ctx, f.sam, tk.ID); err != nil || tk.State != StateAssigned || tk.ClosedAt != nil {
		t.Fatalf("reopen: %+v, %v", tk, err)
	}
	if _, err := f.tk.Reopen(ctx, f.sam, tk.ID); codeOf(err) != "conflict" {
		t.Fatalf("reopening it again: %v, want conflict", err)
	}
	if tk, err = f.tk.Assign(ctx, f.bob, tk.ID, nil); err != nil || tk.State != StateUnassigned || tk.Assignee != nil {
		t.Fatalf("unassign: %+v, %v", tk, err)
	}
	// Closed unassigned, then assigned: it stays closed, with its assignee.
	if _, err = f.tk.Close(ctx, f.bob, tk.ID); err != nil {
		t.Fatal(err)
	}
	if tk, err = f.tk.Assign(ctx, f.sue, tk.ID, &bob); err != nil || tk.State != StateClosed || tk.Assignee == nil {
		t.Fatalf("assign a closed ticket: %+v, %v", tk, err)
	}
	th, err := f.tk.Get(ctx, f.bob, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"created", "assigned", "note", "closed", "reopened", "unassigned", "closed", "assigned"}
	if got := kinds(th.Events); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i, ev := range th.Events {
		if ev.Seq != i+1 || ev.TicketID != tk.ID {
			t.Fatalf("event %d is %+v", i, ev)
		}
	}
	if th.Ticket.LastSeq != len(want) {
		t.Fatalf("last_seq %d, want %d", th.Ticket.LastSeq, len(want))
	}
	var data struct {
		Assignee Ref `json:"assignee"`
	}
	if err := json.Unmarshal(th.Events[1].Data, &data); err != nil || data.Assignee.ID != int64(bob) || data.Assignee.Name != "Bob" {
		t.Fatalf("assigned's data %s", th.Events[1].Data)
	}
	if a := th.Events[2].Author; a.Kind != "agent" || a.Name != "Sam" || th.Events[2].Text != "Smoke in the office" {
		t.Fatalf("the note %+v", th.Events[2])
	}
	// Six changes, the making one of them (refusals change nothing):
	// those who see Support's tickets were told each; Alice (Sales) and
	// Carl none.
	for _, p := range []auth.Principal{f.ada, f.sue, f.sam, f.bob} {
		got := f.told.waitFor(t, p.UserID, tk.ID, 6)
		if len(got) != 6 {
			t.Errorf("%s was told %d changes, want 6", p.Name, len(got))
		}
		if last := got[len(got)-1]; last.State != StateClosed || last.Assignee == nil {
			t.Errorf("%s was last told %+v", p.Name, last)
		}
	}
	for _, p := range []auth.Principal{f.alice, f.carl} {
		if got := f.told.of(p.UserID, tk.ID); len(got) != 0 {
			t.Errorf("%s, who may not see it, was told %d changes", p.Name, len(got))
		}
	}
}

// The assignee must be an agent of the ticket's queue; taking an
// unassigned ticket is assigning it to oneself.
func TestTheAssigneeMustBeAnAgentOfTheTicketsQueue(t *testing.T) {
	ctx := context.Background()
	f := newTicketFixture(t)
	tk := f.ticket(t, f.sales, "Parcel never arrived")
	for _, p := range []auth.Principal{f.bob, f.carl, f.sue} {
		id := p.UserID
		if _, err := f.tk.Assign(ctx, f.ada, tk.ID, &id); codeOf(err) != "bad_request" || !strings.Contains(err.Error(), `"assignee_id"`) {
			t.Errorf("assigned to %s, not of Sales: %v", p.Name, err)
		}
	}
	f.exec(t, `UPDATE users SET disabled = true WHERE id = $1`, f.carl.UserID)
	f.exec(t, `INSERT INTO queue_members (queue_id, user_id) VALUES ($1, $2)`, f.sales, f.carl.UserID)
	carl := f.carl.UserID
	if _, err := f.tk.Assign(ctx, f.ada, tk.ID, &carl); codeOf(err) != "bad_request" {
		t.Errorf("assigned to a disabled agent: %v", err)
	}
	alice := f.alice.UserID
	got, err := f.tk.Assign(ctx, f.alice, tk.ID, &alice)
	if err != nil || got.State != StateAssigned || got.Assignee.Name != "Alice" {
		t.Fatalf("Alice takes it: %+v, %v", got, err)
	}
	// Again: nothing changes, no event.
	if again, err := f.tk.Assign(ctx, f.alice, tk.ID, &alice); err != nil || again.LastSeq != got.LastSeq {
		t.Fatalf("taking it again: %+v, %v", again, err)
	}
}

// A reply is an e-mail to the customer through the outbox, committed with
// the reply event: the SMTP server receives the text under the ticket's
// subject, and nothing else of the thread (the note stays private).
func TestAReplyIsAnEmailThroughTheOutbox(t *testing.T) {
	ctx := context.Background()
	f := newTicketFixture(t)
	f.exec(t, `TRUNCATE mail_outbox`) // the other tests' replies are never sent
	srv := mailtest.Start(t)
	sender, err := mail.NewSender(f.pool, mail.Settings{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone,
		From: "desk@example.com"}, slog.New(slog.DiscardHandler), mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sender.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	tk, err := f.tk.Create(ctx, f.alice, CreateInput{QueueID: f.sales, Title: "Parcel never arrived",
		Email: "vera@example.com", Text: "PRIVATE: refund approved by the lead"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := f.tk.Reply(ctx, f.alice, ReplyInput{TicketID: tk.ID, Text: "We have sent it again."})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != EventReply || ev.Channel != "email" || ev.Direction != "out" || ev.Seq != 3 || ev.Author.Name != "Alice" {
		t.Fatalf("the reply event %+v", ev)
	}
	got := srv.Wait(t, 1)[0]
	if len(got.To) != 1 || got.To[0] != "vera@example.com" {
		t.Fatalf("sent to %v", got.To)
	}
	wantSubject := "[#" + tk.ID.String() + "] Parcel never arrived"
	if s := got.Header("Subject"); s != wantSubject {
		t.Errorf("subject %q, want %q", s, wantSubject)
	}
	if !strings.Contains(got.Data, "We have sent it again.") {
		t.Errorf("the mail lacks the reply:\n%s", got.Data)
	}
	if strings.Contains(got.Data, "PRIVATE") {
		t.Errorf("the mail carries the private note:\n%s", got.Data)
	}
	var data struct {
		To     string `json:"to"`
		MailID int64  `json:"mail_id"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil || data.To != "vera@example.com" || data.MailID == 0 {
		t.Fatalf("the reply's data %s", ev.Data)
	}
	// Another address, given; then a ticket without one: refused, nothing
	// queued, no event.
	if _, err := f.tk.Reply(ctx, f.alice, ReplyInput{TicketID: tk.ID, Text: "Copy", To: "lead@example.org"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Wait(t, 2)[1]; got.To[0] != "lead@example.org" {
		t.Fatalf("the second reply went to %v", got.To)
	}
	bare, err := f.tk.Create(ctx, f.alice, CreateInput{QueueID: f.sales, Title: "No address"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.tk.Reply(ctx, f.alice, ReplyInput{TicketID: bare.ID, Text: "Hello?"}); codeOf(err) != "bad_request" ||
		!strings.Contains(err.Error(), `"to"`) {
		t.Fatalf("a reply without an address: %v", err)
	}
	var queued int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM mail_outbox WHERE cause = 'ticket' AND cause_id = $1`, bare.ID).
		Scan(&queued); err != nil || queued != 0 {
		t.Fatalf("%d mails queued for a refused reply (%v)", queued, err)
	}
	if th, err := f.tk.Get(ctx, f.alice, bare.ID); err != nil || th.Ticket.LastSeq != 1 {
		t.Fatalf("the refused reply left an event: %+v, %v", th.Ticket, err)
	}
}

// Each bad field is a bad_request naming it.
func TestEveryBadTicketFieldIsNamed(t *testing.T) {
	ctx := context.Background()
	f := newTicketFixture(t)
	tk := f.ticket(t, f.sales, "Parcel")
	zero, neg := auth.UserID(0), int64(-1)
	long := strings.Repeat("x", MaxTitle+1)
	blank, urgentish := "  ", "asap"
	cases := []struct {
		name, field string
		do          func() error
	}{
		{"create without a title", `"title"`, func() error {
			_, err := f.tk.Create(ctx, f.ada, CreateInput{QueueID: f.sales})
			return err
		}},
		{"create with a long title", `"title"`, func() error {
			_, err := f.tk.Create(ctx, f.ada, CreateInput{QueueID: f.sales, Title: long})
			return err
		}},
		{"create with a bad priority", `"priority"`, func() error {
			_, err := f.tk.Create(ctx, f.ada, CreateInput{QueueID: f.sales, Title: "x", Priority: "asap"})
			return err
		}},
		{"create without a queue", `"queue_id"`, func() error {
			_, err := f.tk.Create(ctx, f.ada, CreateInput{Title: "x"})
			return err
		}},
		{"create in a queue that does not exist", `"queue_id"`, func() error {
			_, err := f.tk.Create(ctx, f.ada, CreateInput{Title: "x", QueueID: 999999})
			return err
		}},
		{"create in a queue not one's own", `"queue_id"`, func() error {
			_, err := f.tk.Create(ctx, f.bob, CreateInput{Title: "x", QueueID: f.sales})
			return err
		}},
		{"create with a bad e-mail", `"email"`, func() error {
			_, err := f.tk.Create(ctx, f.ada, CreateInput{QueueID: f.sales, Title: "x", Email: "vera"})
			return err
		}},
		{"create with no such contact", `"contact_id"`, func() error {
			c := int64(999999)
			_, err := f.tk.Create(ctx, f.ada, CreateInput{QueueID: f.sales, Title: "x", ContactID: &c})
			return err
		}},
		{"create with a zero assignee", `"assignee_id"`, func() error {
			_, err := f.tk.Create(ctx, f.ada, CreateInput{QueueID: f.sales, Title: "x", AssigneeID: &zero})
			return err
		}},
		{"create from a chat and a queue", `"conversation_id"`, func() error {
			_, err := f.tk.Create(ctx, f.ada, CreateInput{QueueID: f.sales, Title: "x", ConversationID: 1})
			return err
		}},
		{"update with nothing", `nothing to change`, func() error {
			_, err := f.tk.Update(ctx, f.ada, UpdateInput{TicketID: tk.ID})
			return err
		}},
		{"update to a blank title", `"title"`, func() error {
			_, err := f.tk.Update(ctx, f.ada, UpdateInput{TicketID: tk.ID, Title: &blank})
			return err
		}},
		{"update to a bad priority", `"priority"`, func() error {
			_, err := f.tk.Update(ctx, f.ada, UpdateInput{TicketID: tk.ID, Priority: &urgentish})
			return err
		}},
		{"update to a bad contact", `"contact_id"`, func() error {
			_, err := f.tk.Update(ctx, f.ada, UpdateInput{TicketID: tk.ID, ContactID: Of(neg)})
			return err
		}},
		{"update without a ticket", `"ticket_id"`, func() error {
			_, err := f.tk.Update(ctx, f.ada, UpdateInput{Priority: &urgentish})
			return err
		}},
		{"reply without text", `"text"`, func() error {
			_, err := f.tk.Reply(ctx, f.ada, ReplyInput{TicketID: tk.ID, Text: " "})
			return err
		}},
		{"reply with a long text", `"text"`, func() error {
			_, err := f.tk.Reply(ctx, f.ada, ReplyInput{TicketID: tk.ID, Text: strings.Repeat("x", MaxText+1)})
			return err
		}},
		{"reply to a bad address", `"to"`, func() error {
			_, err := f.tk.Reply(ctx, f.ada, ReplyInput{TicketID: tk.ID, Text: "hi", To: "not an address"})
			return err
		}},
		{"note without text", `"text"`, func() error { _, err := f.tk.Note(ctx, f.ada, tk.ID, ""); return err }},
		{"search by a bad state", `"state"`, func() error {
			_, err := f.tk.Search(ctx, f.ada, SearchInput{State: "done"})
			return err
		}},
		{"search with a bad limit", `"limit"`, func() error {
			_, err := f.tk.Search(ctx, f.ada, SearchInput{Limit: 101})
			return err
		}},
		{"search with a bad cursor", `"cursor"`, func() error {
			_, err := f.tk.Search(ctx, f.ada, SearchInput{Cursor: "nonsense"})
			return err
		}},
		{"search by a text too long", `"text"`, func() error {
			_, err := f.tk.Search(ctx, f.ada, SearchInput{Text: long})
			return err
		}},
	}
	for _, c := range cases {
		err := c.do()
		if codeOf(err) != "bad_request" || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want bad_request naming %s", c.name, err, c.field)
		}
	}
}

// An update writes one changed event with the fields that changed.
func TestAnUpdateListsWhatChanged(t *testing.T) {
	ctx := context.Background()
	f := newTicketFixture(t)
	tk := f.ticket(t, f.sales, "Parcel")
	title, prio := "Parcel lost", "urgent"
	same := "Parcel lost"
	got, err := f.tk.Update(ctx, f.alice, UpdateInput{TicketID: tk.ID, Title: &title, Priority: &prio})
	if err != nil || got.Title != title || got.Priority != prio {
		t.Fatalf("update: %+v, %v", got, err)
	}
	if again, err := f.tk.Update(ctx, f.alice, UpdateInput{TicketID: tk.ID, Title: &same}); err != nil || again.LastSeq != got.LastSeq {
		t.Fatalf("an update that changes nothing: %+v, %v", again, err)
	}
	th, err := f.tk.Get(ctx, f.alice, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := th.Events[len(th.Events)-1]
	var data struct {
		Fields []struct {
			Field string `json:"field"`
			Old   string `json:"old"`
			New   string `json:"new"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(last.Data, &data); err != nil || last.Kind != EventChanged || len(data.Fields) != 2 ||
		data.Fields[0].Field != "title" || data.Fields[0].Old != "Parcel" || data.Fields[1].New != "urgent" {
		t.Fatalf("the changed event %s %s", last.Kind, last.Data)
	}
	// The search finds it by its new title.
	page, err := f.tk.Search(ctx, f.alice, SearchInput{Text: "LOST"})
	if err != nil || len(page.Tickets) != 1 || page.Tickets[0].ID != tk.ID {
		t.Fatalf("search by the new title: %+v, %v", page, err)
	}
}

// The search's filters, its pages, and the counts of the supervisor
// console, over the tickets the caller may see.
func TestSearchFiltersPagesAndCounts(t *testing.T) {
	ctx := context.Background()
	f := newTicketFixture(t)
	q := f.queue(t, "Returns", f.alice, f.bob) // a queue of this test alone
	alice, bob := f.alice.UserID, f.bob.UserID
	var made []Ticket
	for i, title := range []string{"Parcel one", "Parcel two", "Refund three", "Parcel four", "Parcel five"} {
		in := CreateInput{QueueID: q, Title: title}
		switch i {
		case 1, 2:
			in.AssigneeID = &alice
		case 3:
			in.AssigneeID = &bob
		}
		tk, err := f.tk.Create(ctx, f.ada, in)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, tk)
	}
	if _, err := f.tk.Close(ctx, f.alice, made[2].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tk.Favourite(ctx, f.bob, made[0].ID, true); err != nil {
		t.Fatal(err)
	}
	ids := func(p Page) []TicketID {
		var out []TicketID
		for _, tk := range p.Tickets {
			out = append(out, tk.ID)
		}
		return out
	}
	search := func(p auth.Principal, in SearchInput) []TicketID {
		t.Helper()
		in.QueueID = q
		page, err := f.tk.Search(ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		return ids(page)
	}
	cases := []struct {
		name string
		p    auth.Principal
		in   SearchInput
		want []TicketID
	}{
		{"every one, newest change first", f.ada, SearchInput{}, []TicketID{made[2].ID, made[4].ID, made[3].ID, made[1].ID, made[0].ID}},
		{"open", f.ada, SearchInput{State: "open"}, []TicketID{made[4].ID, made[3].ID, made[1].ID, made[0].ID}},
		{"closed", f.ada, SearchInput{State: "closed"}, []TicketID{made[2].ID}},
		{"unassigned", f.ada, SearchInput{State: "unassigned"}, []TicketID{made[4].ID, made[0].ID}},
		{"mine", f.alice, SearchInput{Mine: true}, []TicketID{made[2].ID, made[1].ID}},
		{"favourites", f.bob, SearchInput{Favourites: true}, []TicketID{made[0].ID}},
		{"text", f.ada, SearchInput{Text: "parcel f"}, []TicketID{made[4].ID, made[3].ID}},
		{"assignee", f.ada, SearchInput{AssigneeID: bob}, []TicketID{made[3].ID}},
		{"a queue Carl does not see", f.carl, SearchInput{}, nil},
	}
	for _, c := range cases {
		if got := search(c.p, c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// Two at a time: three pages, the last without a cursor.
	var all []TicketID
	cursor := ""
	for range 3 {
		page, err := f.tk.Search(ctx, f.ada, SearchInput{QueueID: q, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(page)...)
		cursor = page.Cursor
	}
	if want := cases[0].want; !slices.Equal(all, want) || cursor != "" {
		t.Errorf("paged %v (cursor %q), want %v", all, cursor, want)
	}
	// Carl sees none of them: his counts have none of their agents.
	c, err := f.tk.Counts(ctx, f.carl)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range append(c.Assigned, c.Closed...) {
		if a.Agent != nil && (a.Agent.ID == int64(alice) || a.Agent.ID == int64(bob)) {
			t.Errorf("Carl counts %+v", a)
		}
	}
	// Alice sees Sales' and Returns': Returns' agents are counted (Sales'
	// unassigned tickets of other tests add to Unassigned).
	c, err = f.tk.Counts(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	count := func(cs []AgentCount, id auth.UserID) int {
		for _, a := range cs {
			if a.Agent != nil && a.Agent.ID == int64(id) {
				return a.Count
			}
		}
		return 0
	}
	if c.Unassigned < 2 || count(c.Assigned, alice) != 1 || count(c.Assigned, bob) != 1 || count(c.Closed, alice) != 1 {
		t.Errorf("Alice's counts %+v", c)
	}
}
