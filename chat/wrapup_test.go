package chat

import (
	"context"
	"errors"
	"testing"

	"parley/auth"
)

func TestAChatTheCustomerEndedStaysWithItsAgentUntilWrappedUpWithAStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.set(t, `UPDATE queues SET statuses = '{Resolved,Spam}' WHERE id = $1`, f.q.ID)
	customer, id := f.customer(t, "Ann")
	if _, _, err := f.svc.Accept(ctx, f.alice, id); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(ctx, customer, id, ""); err != nil {
		t.Fatal(err)
	}

	// The customer's side: ended at once.
	mine, err := f.svc.Mine(ctx, customer)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 0 {
		t.Fatalf("the customer still has %d open chats, want none", len(mine))
	}
	c, _, err := f.svc.Resume(ctx, customer, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != StateClosed || c.WrapUpDue {
		t.Fatalf("the customer sees state %s, wrap_up_due %v; want closed, and nothing of the wrap-up", c.State, c.WrapUpDue)
	}

	// The agent's side: still in the list, due, counted toward capacity.
	mine, err = f.svc.Mine(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 1 || mine[0].ID != id || !mine[0].WrapUpDue || mine[0].State != StateClosed {
		t.Fatalf("Alice's chats %+v, want chat %d closed with wrap_up_due", mine, id)
	}
	if st, err := f.svc.State(ctx, f.alice); err != nil || st.OpenChats != 1 {
		t.Fatalf("Alice has %d open chats (%v), want 1 (the chat to wrap up)", st.OpenChats, err)
	}

	// No status, or one not in the list, is refused.
	for _, status := range []string{"", "Whatever"} {
		err := f.svc.Close(ctx, f.alice, id, status)
		var coded interface{ Code() string }
		if !errors.As(err, &coded) || coded.Code() != "bad_request" {
			t.Fatalf("wrap-up with status %q: %v, want bad_request", status, err)
		}
	}
	// Nobody else wraps it up; the customer cannot close it again.
	if err := f.svc.Close(ctx, f.bob, id, "Resolved"); err == nil {
		t.Fatal("Bob wrapped up Alice's chat")
	}
	if err := f.svc.Close(ctx, customer, id, ""); err == nil {
		t.Fatal("the customer closed the chat twice")
	}

	if err := f.svc.Close(ctx, f.alice, id, "Resolved"); err != nil {
		t.Fatal(err)
	}
	mine, err = f.svc.Mine(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 0 {
		t.Fatalf("after the wrap-up Alice still has %+v", mine)
	}
	c, evs, err := f.svc.Resume(ctx, f.alice, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.CloseStatus == nil || *c.CloseStatus != "Resolved" || c.WrapUpDue {
		t.Fatalf("after the wrap-up: close_status %v, wrap_up_due %v", c.CloseStatus, c.WrapUpDue)
	}
	if last := evs[len(evs)-1]; last.Kind != KindWrappedUp || !last.Private || last.Status != "Resolved" {
		t.Fatalf("last event %+v, want a private wrapped_up with the status", last)
	}
	_, cevs, err := f.svc.Resume(ctx, customer, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range cevs {
		if ev.Kind == KindWrappedUp || ev.Status != "" {
			t.Fatalf("the customer sees %+v", ev)
		}
	}
	if err := f.svc.Close(ctx, f.alice, id, "Resolved"); err == nil {
		t.Fatal("a chat wrapped up once was wrapped up again")
	}
}

func TestOnlyAChatWithAnAgentNeedsWrappingUp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		accept bool
		closer func(customer auth.Principal) auth.Principal
		due    bool
	}{
		{"the customer leaves a waiting chat", false, func(c auth.Principal) auth.Principal { return c }, false},
		{"the customer leaves a chat with its agent", true, func(c auth.Principal) auth.Principal { return c }, true},
		{"the agent closes", true, func(auth.Principal) auth.Principal { return f.alice }, false},
		{"a supervisor closes", true, func(auth.Principal) auth.Principal { return f.sup }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			customer, id := f.customer(t, "Ann")
			if tc.accept {
				if _, _, err := f.svc.Accept(ctx, f.alice, id); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.svc.Close(ctx, tc.closer(customer), id, ""); err != nil {
				t.Fatal(err)
			}
			c, _, err := f.svc.Resume(ctx, f.sup, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != StateClosed || c.WrapUpDue != tc.due {
				t.Fatalf("state %s, wrap_up_due %v; want closed, %v", c.State, c.WrapUpDue, tc.due)
			}
			if tc.due {
				if err := f.svc.Close(ctx, f.alice, id, ""); err != nil { // the fixture's queue has no statuses
					t.Fatal(err)
				}
			}
		})
	}
}

func TestWhoMayWrapUpAChatTheCustomerEnded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAdmin, UserID: f.sup.UserID, Name: "Ada"}
	cases := []struct {
		name string
		who  func(customer auth.Principal) auth.Principal
		code string // "" when allowed
	}{
		{"its agent", func(auth.Principal) auth.Principal { return f.alice }, ""},
		{"a supervisor", func(auth.Principal) auth.Principal { return f.sup }, ""},
		{"an admin", func(auth.Principal) auth.Principal { return admin }, ""},
		{"another agent", func(auth.Principal) auth.Principal { return f.bob }, "not_found"},
		{"its customer", func(c auth.Principal) auth.Principal { return c }, "conflict"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			customer, id := f.customer(t, "Ann")
			if _, _, err := f.svc.Accept(ctx, f.alice, id); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Close(ctx, customer, id, ""); err != nil {
				t.Fatal(err)
			}
			err := f.svc.Close(ctx, tc.who(customer), id, "")
			var coded interface{ Code() string }
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("wrap-up refused: %v", err)
			case tc.code != "" && (!errors.As(err, &coded) || coded.Code() != tc.code):
				t.Fatalf("wrap-up: %v, want %s", err, tc.code)
			}
			c, _, err := f.svc.Resume(ctx, f.sup, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if c.WrapUpDue != (tc.code != "") {
				t.Fatalf("wrap_up_due %v after the attempt", c.WrapUpDue)
			}
		})
	}
}
