package signaling_test

import (
	"strings"
	"testing"
	"time"

	"parley/auth"
	"parley/chat"
	"parley/signaling/client"
)

// ticketTypes are the ticket.* requests, each with data naming ticket id
// (and conversation 999999, which nobody reads, for ticket.link).
func ticketRequests(id chat.TicketID, queue chat.QueueID, assignee auth.UserID) []struct {
	typ  string
	data map[string]any
} {
	return []struct {
		typ  string
		data map[string]any
	}{
		{"ticket.search", map[string]any{"text": "parcel"}},
		{"ticket.counts", nil},
		{"ticket.get", map[string]any{"ticket_id": id}},
		{"ticket.create", map[string]any{"queue_id": queue, "title": "By hand"}},
		{"ticket.update", map[string]any{"ticket_id": id, "priority": "high"}},
		{"ticket.assign", map[string]any{"ticket_id": id, "assignee_id": assignee}},
		{"ticket.note", map[string]any{"ticket_id": id, "text": "a note"}},
		{"ticket.favourite", map[string]any{"ticket_id": id, "favourite": true}},
		{"ticket.close", map[string]any{"ticket_id": id}},
		{"ticket.reopen", map[string]any{"ticket_id": id}},
		{"ticket.reply", map[string]any{"ticket_id": id, "text": "hello"}}, // no address: bad_request
		{"ticket.link", map[string]any{"conversation_id": 999999, "ticket_id": id}},
	}
}

// Over the wire: customers and guests are refused every ticket.* request;
// staff who see the ticket reach it (reply without an address and link of
// a chat they do not read are refused in their own words); staff who do
// not see it are told not_found.
func TestTicketRequestsByRoleOverTheWire(t *testing.T) {
	e := newStaffEnv(t)
	visitor, _, err := e.auth.IssueVisitor(e.queue.Key, "", "Vera", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	guest, _, err := e.auth.IssueGuest("room-1", "Gus", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dial := func(token string) *client.Client {
		c, _, err := client.Connect(ctxT(t), e.url, client.Options{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	agent := e.connect(t, e.agent)
	raw, err := agent.Request(ctxT(t), "ticket.create", map[string]any{"queue_id": e.queue.ID, "title": "Parcel never arrived"})
	if err != nil {
		t.Fatal(err)
	}
	var tk chat.Ticket
	decode(t, raw, &tk)
	outsider := e.login(t, "outsider-"+t.Name(), auth.RoleAgent) // of no queue
	callers := []struct {
		name string
		conn *client.Client
		want map[string]string // type → code; absent: ""
	}{
		{"customer", dial(visitor), nil},
		{"guest", dial(guest), nil},
		// Each closes the ticket, then reopens it.
		{"agent of the queue", agent, map[string]string{"ticket.reply": "bad_request", "ticket.link": "not_found"}},
		{"supervisor", e.connect(t, e.super), map[string]string{"ticket.reply": "bad_request", "ticket.link": "not_found"}},
		{"admin", e.connect(t, e.admin), map[string]string{"ticket.reply": "bad_request", "ticket.link": "not_found"}},
		{"agent of no queue", e.connect(t, outsider), map[string]string{"ticket.get": "not_found", "ticket.create": "bad_request",
			"ticket.update": "not_found", "ticket.assign": "not_found", "ticket.note": "not_found", "ticket.favourite": "not_found",
			"ticket.close": "not_found", "ticket.reopen": "not_found", "ticket.reply": "not_found", "ticket.link": "not_found"}},
	}
	for _, c := range callers {
		for _, r := range ticketRequests(tk.ID, e.queue.ID, e.agent.User.ID) {
			want := "forbidden"
			if c.want != nil {
				want = c.want[r.typ]
			}
			_, err := c.conn.Request(ctxT(t), r.typ, r.data)
			got := ""
			if err != nil {
				got = wireCode(err)
			}
			if got != want {
				t.Errorf("%s sends %s: %q (%v), want %q", c.name, r.typ, got, err, want)
			}
		}
	}
}

// ticket.changed reaches every connection of those who may see the
// ticket, and none of the others'.
func TestTicketChangedReachesThoseWhoSeeTheTicket(t *testing.T) {
	e := newStaffEnv(t)
	agent := e.connect(t, e.agent)
	super1, super2 := e.connect(t, e.super), e.connect(t, e.super)
	outsider := e.connect(t, e.login(t, "outsider-"+t.Name(), auth.RoleAgent))
	raw, err := agent.Request(ctxT(t), "ticket.create", map[string]any{"queue_id": e.queue.ID, "title": "Parcel never arrived",
		"assignee_id": e.agent.User.ID})
	if err != nil {
		t.Fatal(err)
	}
	var tk chat.Ticket
	decode(t, raw, &tk)
	for name, c := range map[string]*client.Client{"the agent": agent, "the supervisor's tab 1": super1, "the supervisor's tab 2": super2} {
		var got struct {
			Ticket chat.Ticket `json:"ticket"`
		}
		decode(t, nextEvent(t, c, "ticket.changed").Data, &got)
		if got.Ticket.ID != tk.ID || got.Ticket.State != "assigned" || got.Ticket.Assignee == nil {
			t.Errorf("%s was told %+v", name, got.Ticket)
		}
	}
	// The change was told before the answer; the outsider's answer to a
	// ping comes after anything queued for it.
	if _, err := outsider.Request(ctxT(t), "session.ping", nil); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-outsider.Events():
			if ev.Type == "ticket.changed" {
				t.Fatalf("an agent of no queue was told %s", ev.Data)
			}
			continue
		default:
		}
		break
	}
}

// A wrong JSON type is a bad_request naming the field.
func TestTicketFieldsOfTheWrongTypeAreNamed(t *testing.T) {
	e := newStaffEnv(t)
	agent := e.connect(t, e.agent)
	for _, r := range []struct {
		typ   string
		data  map[string]any
		field string
	}{
		{"ticket.assign", map[string]any{"ticket_id": 1, "assignee_id": "bob"}, `"assignee_id"`},
		{"ticket.assign", map[string]any{"ticket_id": 1}, `"assignee_id"`},
		{"ticket.link", map[string]any{"conversation_id": 1, "ticket_id": "seven"}, `"ticket_id"`},
		{"ticket.link", map[string]any{"conversation_id": 1}, `"ticket_id"`},
		{"ticket.update", map[string]any{"ticket_id": 1, "contact_id": "x"}, `"contact_id"`},
		{"ticket.get", map[string]any{}, `"ticket_id"`},
		{"ticket.search", map[string]any{"limit": "ten"}, `"limit"`},
		{"ticket.favourite", map[string]any{"ticket_id": 1}, `"favourite"`},
		{"ticket.create", map[string]any{"title": 7}, `"title"`},
	} {
		_, err := agent.Request(ctxT(t), r.typ, r.data)
		if wireCode(err) != "bad_request" || !strings.Contains(err.Error(), r.field) {
			t.Errorf("%s %v: %v, want bad_request naming %s", r.typ, r.data, err, r.field)
		}
	}
}
