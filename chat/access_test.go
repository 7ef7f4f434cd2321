package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/auth"
)

// The rule of who reads a conversation (mayRead) and what a history shows
// (historyScope, mayReadPrivate), over every role and relation.
func TestWhoReadsAConversationAndItsHistory(t *testing.T) {
	f := newWriterFixture(t)
	ctx := context.Background()
	n := fixtureSeq.Add(1)
	other, err := f.svc.CreateQueue(ctx, Queue{Key: fmt.Sprintf("other-%d-%d", n, time.Now().UnixNano()%1e9), Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	var carol, admin auth.Principal
	for _, u := range []struct {
		p    *auth.Principal
		name string
		role auth.Role
	}{{&carol, "Carol", auth.RoleAgent}, {&admin, "Ada", auth.RoleAdmin}} {
		nu, err := f.svc.pool.Exec(ctx, `INSERT INTO users (username, display_name, role, password_hash)
			VALUES ($1, $2, $3, 'x')`, fmt.Sprintf("%s-%d-%d", strings.ToLower(u.name), n, time.Now().UnixNano()%1e9), u.name, u.role)
		if err != nil || nu.RowsAffected() != 1 {
			t.Fatal(err)
		}
		*u.p = auth.Principal{Kind: auth.KindUser, Role: u.role, Name: u.name}
		if err := f.svc.pool.QueryRow(ctx, `SELECT max(id) FROM users WHERE display_name = $1`, u.name).Scan(&u.p.UserID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.pool.Exec(ctx, `INSERT INTO queue_members VALUES ($1, $2)`, other.ID, carol.UserID); err != nil {
		t.Fatal(err)
	}
	// The visitor's earlier chat, had by alice, with a private note; then
	// its current one, offered to bob.
	vera, earlier := f.customer(t, "Vera")
	if _, _, err := f.svc.Accept(ctx, f.alice, earlier); err != nil {
		t.Fatal(err)
	}
	f.batch(t, sendCase{p: f.alice, conv: earlier, clientID: "n1", text: "alice's note", private: true})
	if err := f.svc.Close(ctx, f.alice, earlier, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.pool.Exec(ctx, `UPDATE conversations SET customer_email = 'shared@example.com' WHERE id = $1`,
		earlier); err != nil {
		t.Fatal(err)
	}
	// Before it, another visitor of the other queue, with the same e-mail.
	wendy := auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "wendy-" + fmt.Sprint(n), Scope: other.Key}
	if _, _, err := f.svc.Start(ctx, wendy, StartInput{Name: "Wendy", Email: "shared@example.com"}); err != nil {
		t.Fatal(err)
	}
	current, _, err := f.svc.Start(ctx, vera, StartInput{Name: "Vera", Email: "shared@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.offerAll(ctx, f.q, []plannedOffer{{current.ID, []auth.UserID{f.bob.UserID}}}); err != nil {
		t.Fatal(err)
	}
	stranger := vera
	stranger.Subject = "someone-else"
	otherScope := vera
	otherScope.Scope = other.Key
	guest := auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g", Scope: "room"}

	type want struct {
		read    bool
		history string // "" forbidden; else which earlier rows it shows
	}
	for _, tc := range []struct {
		name string
		p    auth.Principal
		want want
	}{
		{"the conversation's customer", vera, want{true, ""}},
		{"another visitor", stranger, want{false, ""}},
		{"the same subject in another queue", otherScope, want{false, ""}},
		{"an agent it is offered to", f.bob, want{true, "public"}},
		{"the agent who had the earlier chat, not offered this one", f.alice, want{false, ""}},
		{"an agent of another queue", carol, want{false, ""}},
		{"a supervisor", f.sup, want{true, "all"}},
		{"an admin", admin, want{true, "all"}},
		{"a guest", guest, want{false, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := getConversation(ctx, f.svc.pool, current.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.svc.mayRead(ctx, tc.p, c) == nil; got != tc.want.read {
				t.Errorf("mayRead %v, want %v", got, tc.want.read)
			}
			h, _, err := f.svc.History(ctx, tc.p, current.ID, 0, 0)
			got := ""
			switch {
			case err != nil && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden)):
			case err != nil:
				t.Fatal(err)
			case len(h) != 1 || h[0].Conversation.ID != earlier:
				t.Fatalf("history %+v, want only the earlier chat of the same visitor", h)
			default:
				got = "public"
				for _, ev := range h[0].Events {
					if ev.Private && ev.Text == "alice's note" {
						got = "all"
					}
				}
			}
			if got != tc.want.history {
				t.Errorf("history shows %q, want %q", got, tc.want.history)
			}
		})
	}
}
