package queues_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/queues"
)

type cannedFixture struct {
	store               *queues.Store
	admin, agent, other auth.Principal
	supervisor          auth.Principal
	sales, support      queues.Queue
}

// newCannedFixture: queue sales with the agent and the supervisor as
// members, queue support with the other agent.
func newCannedFixture(t *testing.T) cannedFixture {
	pool, a := chattest.DB(t)
	f := cannedFixture{
		store:      queues.New(pool, queues.NewLocalCache()),
		admin:      chattest.User(t, a, "Ada Admin", auth.RoleAdmin),
		agent:      chattest.User(t, a, "Alice Agent", auth.RoleAgent),
		other:      chattest.User(t, a, "Olga Other", auth.RoleAgent),
		supervisor: chattest.User(t, a, "Sue Supervisor", auth.RoleSupervisor),
	}
	var err error
	ctx := context.Background()
	if f.sales, err = f.store.Create(ctx, queues.Queue{Key: chattest.Unique("sales"), Name: "Sales"}, f.agent.UserID, f.supervisor.UserID); err != nil {
		t.Fatal(err)
	}
	if f.support, err = f.store.Create(ctx, queues.Queue{Key: chattest.Unique("support"), Name: "Support"}, f.other.UserID); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f cannedFixture) add(t *testing.T, key, title string) queues.Canned {
	t.Helper()
	c, err := f.store.CreateCanned(context.Background(), f.admin, key, queues.CannedInput{Title: title, Text: "About " + title + "."})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func titlesOf(items []queues.CannedItem) string {
	var out []string
	for _, c := range items {
		out = append(out, c.Title)
	}
	return strings.Join(out, ", ")
}

// Each role against each canned request: only admins manage; the members
// of a queue read its responses, and nobody else's.
func TestCannedResponsesAreManagedByAdminsAndReadByTheQueuesMembers(t *testing.T) {
	f := newCannedFixture(t)
	ctx := context.Background()
	refund := f.add(t, f.sales.Key, "Refund policy")
	f.add(t, f.support.Key, "Reset password")
	customer := auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "v1", Name: "Vera"}
	guest := auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g1", Name: "Gus"}
	for _, row := range []struct {
		name   string
		p      auth.Principal
		manage bool
		reads  string // canned.list's titles; "forbidden" when refused
	}{
		{"customer", customer, false, "forbidden"},
		{"guest", guest, false, "forbidden"},
		{"agent of the queue", f.agent, false, "Refund policy"},
		{"agent of another queue", f.other, false, "Reset password"},
		{"supervisor member of the queue", f.supervisor, false, "Refund policy"},
		{"admin (a member of no queue)", f.admin, true, ""},
	} {
		t.Run(row.name, func(t *testing.T) {
			list, err := f.store.CannedFor(ctx, row.p)
			switch {
			case row.reads == "forbidden" && !errors.Is(err, queues.ErrForbidden):
				t.Errorf("canned.list: %v, want forbidden", err)
			case row.reads != "forbidden" && err != nil:
				t.Errorf("canned.list: %v", err)
			case row.reads != "forbidden" && titlesOf(list) != row.reads:
				t.Errorf("canned.list: %q, want %q", titlesOf(list), row.reads)
			}
			in := queues.CannedInput{Title: "By " + row.name, Text: "x"}
			checks := map[string]error{}
			_, checks["list"] = f.store.Canned(ctx, row.p, f.sales.Key)
			created, err := f.store.CreateCanned(ctx, row.p, f.sales.Key, in)
			checks["create"] = err
			_, checks["update"] = f.store.UpdateCanned(ctx, row.p, f.sales.Key, refund.ID, queues.CannedInput{Title: "Refund policy", Text: "Changed by " + row.name})
			_, checks["order"] = f.store.OrderCanned(ctx, row.p, f.sales.Key, []queues.CannedID{refund.ID})
			checks["delete"] = f.store.DeleteCanned(ctx, row.p, f.sales.Key, refund.ID+1000000)
			for what, err := range checks {
				switch {
				case row.manage && what == "delete" && !errors.Is(err, queues.ErrNotFound):
					t.Errorf("%s: %v, want not found (no such response)", what, err)
				case row.manage && what == "order" && !errors.Is(err, queues.ErrBadInput):
					t.Errorf("%s: %v, want bad input (the admin's own response is missing from ids)", what, err)
				case row.manage && what != "delete" && what != "order" && err != nil:
					t.Errorf("%s: %v", what, err)
				case !row.manage && !errors.Is(err, queues.ErrForbidden):
					t.Errorf("%s: %v, want forbidden", what, err)
				}
			}
			if row.manage {
				if err := f.store.DeleteCanned(ctx, row.p, f.sales.Key, created.ID); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// Bad input is refused with a message that starts with the field.
func TestCannedInputIsCheckedAndTheErrorNamesTheField(t *testing.T) {
	f := newCannedFixture(t)
	ctx := context.Background()
	for _, row := range []struct {
		in    queues.CannedInput
		field string
	}{
		{queues.CannedInput{Title: "", Text: "x"}, "title: "},
		{queues.CannedInput{Title: "   ", Text: "x"}, "title: "},
		{queues.CannedInput{Title: strings.Repeat("é", 101), Text: "x"}, "title: "},
		{queues.CannedInput{Title: "t", Text: " \n "}, "text: "},
		{queues.CannedInput{Title: "t", Text: strings.Repeat("a", queues.MaxText+1)}, "text: "},
		{queues.CannedInput{Title: "t\x00", Text: "x"}, "title"},
	} {
		_, err := f.store.CreateCanned(ctx, f.admin, f.sales.Key, row.in)
		if !errors.Is(err, queues.ErrBadInput) || !strings.HasPrefix(err.Error(), row.field) {
			t.Errorf("create %.30q/%.30q: %v, want bad input about %q", row.in.Title, row.in.Text, err, row.field)
		}
	}
	ok, err := f.store.CreateCanned(ctx, f.admin, f.sales.Key, queues.CannedInput{Title: strings.Repeat("é", 100), Text: strings.Repeat("a", queues.MaxText)})
	if err != nil {
		t.Fatalf("the longest title and text: %v", err)
	}
	if _, err := f.store.UpdateCanned(ctx, f.admin, f.support.Key, ok.ID, queues.CannedInput{Title: "t", Text: "x"}); !errors.Is(err, queues.ErrNotFound) {
		t.Errorf("update through another queue: %v, want not found", err)
	}
	if _, err := f.store.CreateCanned(ctx, f.admin, "no-such-queue", queues.CannedInput{Title: "t", Text: "x"}); !errors.Is(err, queues.ErrNotFound) {
		t.Errorf("create in no queue: %v, want not found", err)
	}
}

// New responses go to the end; an order names each once and sticks.
func TestCannedResponsesKeepTheOrderTheAdminGives(t *testing.T) {
	f := newCannedFixture(t)
	ctx := context.Background()
	a, b, c := f.add(t, f.sales.Key, "A"), f.add(t, f.sales.Key, "B"), f.add(t, f.sales.Key, "C")
	if list, _ := f.store.CannedFor(ctx, f.agent); titlesOf(list) != "A, B, C" {
		t.Fatalf("as added: %q", titlesOf(list))
	}
	for _, bad := range [][]queues.CannedID{{c.ID, a.ID}, {c.ID, a.ID, a.ID}, {c.ID, a.ID, b.ID, b.ID + 1000}, nil} {
		if _, err := f.store.OrderCanned(ctx, f.admin, f.sales.Key, bad); !errors.Is(err, queues.ErrBadInput) || !strings.HasPrefix(err.Error(), "ids: ") {
			t.Errorf("order %v: %v, want bad input about ids", bad, err)
		}
	}
	if _, err := f.store.OrderCanned(ctx, f.admin, f.sales.Key, []queues.CannedID{c.ID, a.ID, b.ID}); err != nil {
		t.Fatal(err)
	}
	f.add(t, f.sales.Key, "D")
	if list, _ := f.store.CannedFor(ctx, f.agent); titlesOf(list) != "C, A, B, D" {
		t.Fatalf("after the reorder and one more: %q", titlesOf(list))
	}
	upd, err := f.store.UpdateCanned(ctx, f.admin, f.sales.Key, a.ID, queues.CannedInput{Title: " A2 ", Text: "new"})
	if err != nil || upd.Title != "A2" || upd.Text != "new" || upd.UpdatedBy != f.admin.UserID || upd.CreatedBy != f.admin.UserID {
		t.Fatalf("update: %+v, %v", upd, err)
	}
	if err := f.store.DeleteCanned(ctx, f.admin, f.sales.Key, b.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.store.CannedFor(ctx, f.agent); titlesOf(list) != "C, A2, D" {
		t.Fatalf("after update and delete: %q", titlesOf(list))
	}
}
