package staff_test

import (
	"testing"

	"parley/auth"
	"parley/fault"
	"parley/staff"
)

// Who may do what, as a table: every role and relation × every request.
func TestWhoMayDoWhat(t *testing.T) {
	f := newFixture(t)
	bob := f.user(t, "Bob", auth.RoleAgent)
	carol := f.user(t, "Carol", auth.RoleAgent)
	dave := f.user(t, "Dave", auth.RoleAgent)
	gone := f.user(t, "Gone", auth.RoleAgent)
	// A thread the callers below are not in, and one with a user since disabled.
	others := send(t, f, carol, dave.UserID, "x1", "between us").ThreadID
	callers := map[auth.Role]auth.Principal{
		auth.RoleAgent:      f.user(t, "Alice", auth.RoleAgent),
		auth.RoleSupervisor: f.user(t, "Sue", auth.RoleSupervisor),
		auth.RoleAdmin:      f.user(t, "Ada", auth.RoleAdmin),
		auth.RoleCustomer:   {Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "v-who", Scope: "sales"},
		auth.RoleGuest:      {Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g-who", Scope: "room"},
	}
	withGone := map[auth.Role]staff.ThreadID{}
	for role, p := range callers {
		if p.IsStaff() {
			withGone[role] = send(t, f, p, gone.UserID, "g1", "before you left").ThreadID
		}
	}
	if _, err := f.pool.Exec(ctxT(t), `UPDATE users SET disabled = true WHERE id = $1`, gone.UserID); err != nil {
		t.Fatal(err)
	}

	type request func(p auth.Principal, ref staff.Ref) error
	requests := map[string]request{
		"send": func(p auth.Principal, ref staff.Ref) error {
			_, err := f.svc.Send(ctxT(t), p, staff.SendInput{Ref: ref, ClientID: "c-" + string(p.Role), Text: "hello"})
			return err
		},
		"resume": func(p auth.Principal, ref staff.Ref) error {
			_, _, _, err := f.svc.Resume(ctxT(t), p, ref, 0)
			return err
		},
		"read": func(p auth.Principal, ref staff.Ref) error {
			_, err := f.svc.Read(ctxT(t), p, ref, 1)
			return err
		},
		"threads": func(p auth.Principal, _ staff.Ref) error {
			_, err := f.svc.Threads(ctxT(t), p)
			return err
		},
	}
	ok, forbidden, notFound, badRequest := "", fault.Forbidden, fault.NotFound, fault.BadRequest
	relations := []struct {
		name string
		ref  func(role auth.Role, p auth.Principal) staff.Ref
		// want per request (threads takes no ref: always ok for staff)
		send, resume, read string
	}{
		{"a colleague", func(auth.Role, auth.Principal) staff.Ref { return staff.Ref{UserID: bob.UserID} }, ok, ok, ok},
		{"oneself", func(_ auth.Role, p auth.Principal) staff.Ref { return staff.Ref{UserID: p.UserID} }, badRequest, badRequest, badRequest},
		{"an unknown user id", func(auth.Role, auth.Principal) staff.Ref { return staff.Ref{UserID: 999999999} }, notFound, notFound, notFound},
		{"a disabled user", func(auth.Role, auth.Principal) staff.Ref { return staff.Ref{UserID: gone.UserID} }, notFound, notFound, notFound},
		{"its thread with a disabled user", func(r auth.Role, _ auth.Principal) staff.Ref { return staff.Ref{ThreadID: withGone[r]} }, notFound, ok, ok},
		{"a thread of two others", func(auth.Role, auth.Principal) staff.Ref { return staff.Ref{ThreadID: others} }, notFound, notFound, notFound},
		{"an unknown thread", func(auth.Role, auth.Principal) staff.Ref { return staff.Ref{ThreadID: 999999999} }, notFound, notFound, notFound},
		{"nobody", func(auth.Role, auth.Principal) staff.Ref { return staff.Ref{} }, badRequest, badRequest, badRequest},
		{"both a user and a thread", func(auth.Role, auth.Principal) staff.Ref {
			return staff.Ref{UserID: bob.UserID, ThreadID: others}
		}, badRequest, badRequest, badRequest},
	}
	for role, p := range callers {
		for _, rel := range relations {
			for name, req := range requests {
				want := map[string]string{"send": rel.send, "resume": rel.resume, "read": rel.read, "threads": ok}[name]
				if !p.IsStaff() {
					want = forbidden
				}
				t.Run(string(role)+"/"+rel.name+"/"+name, func(t *testing.T) {
					if got := code(req(p, rel.ref(role, p))); got != want {
						t.Errorf("got %q, want %q", got, want)
					}
				})
			}
		}
	}
	// Nothing of Carol and Dave's thread reached anyone else.
	_, msgs, _, err := f.svc.Resume(ctxT(t), carol, staff.Ref{ThreadID: others}, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Carol and Dave's thread: %d messages (%v), want their one", len(msgs), err)
	}
}

func TestTheErrorsHaveCodesOfTheTable(t *testing.T) {
	for _, e := range []*fault.Error{staff.ErrForbidden, staff.ErrNotFound, staff.ErrBadInput, staff.ErrTooLong} {
		if _, ok := fault.Lookup(e.Code()); !ok {
			t.Errorf("%q has the code %q, which is not in fault's table", e, e.Code())
		}
	}
}
