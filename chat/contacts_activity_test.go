package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/queues"
)

// activityNames are a page's activities as "c<id>" (a conversation) or
// "t<id>" (a ticket).
func activityNames(acts []Activity) []string {
	var out []string
	for _, a := range acts {
		switch a.Kind {
		case "conversation":
			out = append(out, fmt.Sprintf("c%d", a.Conversation.ID))
		case "ticket":
			out = append(out, fmt.Sprintf("t%d", a.Ticket.ID))
		}
	}
	return out
}

// allActivities reads every page of p's view of contact id, limit at a
// time.
func (f *contactsFixture) allActivities(t *testing.T, p auth.Principal, id ContactID, limit int) []string {
	t.Helper()
	var out []string
	cursor := ""
	for range 20 {
		page, err := f.svc.GetContact(context.Background(), p, ContactGetInput{ContactID: id, Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Activities) > limit {
			t.Fatalf("a page of %d, limit %d", len(page.Activities), limit)
		}
		out = append(out, activityNames(page.Activities)...)
		if cursor = page.Cursor; cursor == "" {
			return out
		}
	}
	t.Fatal("more than 20 pages")
	return nil
}

func TestAContactsActivitiesAreWhatTheCallerMayFindNewestFirst(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	vera := f.create(t, ContactInput{Name: ptr("Vera")})
	other, err := f.svc.CreateQueue(ctx, Queue{Key: chattest.Unique("other"), Name: "Other"}) // nobody's
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }
	// Three chats with Vera (Alice is the agent of the second), one with
	// somebody else.
	var chats []ConversationID
	for i, minute := range []int{0, 10, 20} {
		_, id := f.customer(t, fmt.Sprint("Vera ", i))
		f.set(t, `UPDATE conversations SET queued_at = $2 WHERE id = $1`, id, at(minute))
		if _, err := f.svc.Pair(ctx, f.sup, id, vera.ID); err != nil {
			t.Fatal(err)
		}
		chats = append(chats, id)
	}
	f.set(t, `UPDATE conversations SET agent_id = $2 WHERE id = $1`, chats[1], f.alice.UserID)
	f.customer(t, "Nora")
	// Tickets of Vera: in the queue (Alice's and Bob's), in another queue,
	// in another queue but assigned to Alice; and one of nobody.
	ticket := func(q QueueID, minute int, assignee *auth.UserID, contact *ContactID) int64 {
		var id int64
		err := f.pool.QueryRow(ctx, `INSERT INTO tickets (title, queue_id, contact_id, assignee_id, state, source, created_at)
			VALUES ('T', $1, $2, $3, CASE WHEN $3::bigint IS NULL THEN 'unassigned' ELSE 'assigned' END, 'manual', $4) RETURNING id`,
			q, contact, assignee, at(minute)).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	inQueue := ticket(f.q.ID, 5, nil, &vera.ID)
	elsewhere := ticket(other.ID, 15, nil, &vera.ID)
	alices := ticket(other.ID, 20, &f.alice.UserID, &vera.ID) // the same minute as the third chat
	ticket(f.q.ID, 25, nil, nil)

	c := func(i int) string { return fmt.Sprintf("c%d", chats[i]) }
	tk := func(id int64) string { return fmt.Sprintf("t%d", id) }
	for _, row := range []struct {
		who  string
		p    auth.Principal
		want []string
	}{
		// Sue oversees every queue: everything, a chat before a ticket of
		// the same minute.
		{"a supervisor of every queue", f.sup, []string{c(2), tk(alices), tk(elsewhere), c(1), tk(inQueue), c(0)}},
		// Alice: the chat she is the agent of (history.search's rule), the
		// tickets of her queue and the one assigned to her.
		{"an agent", f.alice, []string{tk(alices), c(1), tk(inQueue)}},
		// Bob: no chat of his; his queue's ticket.
		{"another agent", f.bob, []string{tk(inQueue)}},
	} {
		for _, limit := range []int{1, 2, 50} {
			if got := f.allActivities(t, row.p, vera.ID, limit); !slices.Equal(got, row.want) {
				t.Errorf("%s, %d a page: %v, want %v", row.who, limit, got, row.want)
			}
		}
	}

	page, err := f.svc.GetContact(ctx, f.sup, ContactGetInput{ContactID: vera.ID})
	if err != nil || page.Contact.ID != vera.ID || len(page.Changes) != 1 || page.Cursor != "" {
		t.Fatalf("contact.get: %+v, %v", page, err)
	}
	for _, bad := range []ContactGetInput{{ContactID: vera.ID, Limit: 51}, {ContactID: vera.ID, Limit: -1},
		{ContactID: vera.ID, Cursor: "nonsense"}, {ContactID: vera.ID, Cursor: "MS4yLjM"}} {
		if _, err := f.svc.GetContact(ctx, f.sup, bad); !errors.Is(err, queues.ErrBadInput) {
			t.Errorf("%+v: %v, want bad_request", bad, err)
		}
	}
	if _, err := f.svc.GetContact(ctx, f.sup, ContactGetInput{ContactID: vera.ID + 1000}); !errors.Is(err, queues.ErrNotFound) {
		t.Errorf("no such contact: %v", err)
	}
	if _, err := f.svc.GetContact(ctx, chattest.Visitor("v", f.q.Key), ContactGetInput{ContactID: vera.ID}); !errors.Is(err, queues.ErrForbidden) {
		t.Errorf("a customer: %v", err)
	}
}
