package queues_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/queues"
	"parley/store/storetest"
)

// TestMain is the package's: its tests with a database need storetest's.
func TestMain(m *testing.M) { storetest.Main(m) }

type changeFixture struct {
	store *queues.Store
	admin auth.Principal
	a     *auth.Service
}

func newChangeFixture(t *testing.T) changeFixture {
	pool, a := chattest.DB(t)
	return changeFixture{store: queues.New(pool, queues.NewLocalCache()), admin: chattest.User(t, a, "Ada Admin", auth.RoleAdmin), a: a}
}

// member adds an agent and answers their username.
func (f changeFixture) member(t *testing.T, name string) string {
	t.Helper()
	username := chattest.Unique(name)
	if _, err := f.a.CreateUser(context.Background(), auth.NewUser{Username: username, Name: name, Role: auth.RoleAgent, Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	return username
}

func (f changeFixture) save(t *testing.T, c queues.QueueConfig) {
	t.Helper()
	if _, err := f.store.Save(context.Background(), f.admin, c); err != nil {
		t.Fatalf("save %+v: %v", c, err)
	}
}

func (f changeFixture) log(t *testing.T, key string) []queues.Change {
	t.Helper()
	page, err := f.store.Changes(context.Background(), f.admin, key, 0, queues.MaxChangePage)
	if err != nil {
		t.Fatal(err)
	}
	return page.Changes
}

// fieldsOf maps a change's fields to "old → new", as JSON.
func fieldsOf(c queues.Change) map[string]string {
	m := map[string]string{}
	for _, f := range c.Fields {
		m[f.Field] = string(f.Old) + " → " + string(f.New)
	}
	return m
}

func TestASaveRecordsWhoChangedEachSettingFromWhatToWhat(t *testing.T) {
	f := newChangeFixture(t)
	carla, dan := f.member(t, "carla"), f.member(t, "dan")
	key := chattest.Unique("log")
	base := queues.QueueConfig{Queue: queues.Queue{Key: key, Name: "Support", Title: "Talk to us"}, Members: []string{carla}}
	f.save(t, base)

	log := f.log(t, key)
	if len(log) != 1 || !log[0].Created || log[0].By.Name != "Ada Admin" || log[0].By.ID != f.admin.UserID {
		t.Fatalf("after the first save, the log is %+v; want one entry: created by Ada Admin", log)
	}
	created := fieldsOf(log[0])
	if created["title"] != `null → "Talk to us"` || created["capacity"] != "null → 3" || created["hours"] != "null → null" {
		t.Errorf("the creation lists every setting from null, with its defaults: %v", created)
	}
	if !slices.Equal(log[0].MembersAdded, []string{carla}) || len(log[0].MembersRemoved) != 0 {
		t.Errorf("the creation adds %v, removes %v; want carla added", log[0].MembersAdded, log[0].MembersRemoved)
	}

	// Each kind of setting: text, flag, number, lists of text and of
	// numbers, the weekly hours (from always open), holidays; and members.
	next := base
	next.Title = "Talk to support"
	next.Disabled = true
	next.Capacity = 5
	next.AllowedOrigins = []string{"https://shop.example.com"}
	next.ChatTimeLimits = []int{60, 120}
	next.Hours = &queues.Hours{"mon": {{From: "09:00", To: "17:00"}}}
	next.Holidays = []queues.Holiday{{Date: "2026-12-24", Name: "Christmas Eve"}}
	next.Members = []string{dan}
	f.save(t, next)

	log = f.log(t, key)
	if len(log) != 2 || log[0].Created || log[0].ID <= log[1].ID {
		t.Fatalf("the log is %+v; want the new entry first, not a creation", log)
	}
	got := fieldsOf(log[0])
	want := map[string]string{
		"title":            `"Talk to us" → "Talk to support"`,
		"disabled":         "false → true",
		"capacity":         "3 → 5",
		"allowed_origins":  `[] → ["https://shop.example.com"]`,
		"chat_time_limits": "[300,600,900] → [60,120]",
		"hours":            `null → {"mon":[{"from":"09:00","to":"17:00"}]}`,
		"holidays":         `[] → [{"date":"2026-12-24","name":"Christmas Eve"}]`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the save changed\n %v\nwant only\n %v", got, want)
	}
	if !slices.Equal(log[0].MembersAdded, []string{dan}) || !slices.Equal(log[0].MembersRemoved, []string{carla}) {
		t.Errorf("members added %v, removed %v; want dan added, carla removed", log[0].MembersAdded, log[0].MembersRemoved)
	}
	if json.Valid(log[0].Fields[0].Old) != true {
		t.Errorf("old values are JSON: %s", log[0].Fields[0].Old)
	}
}

// Saving the same settings again (as the console does when an admin
// presses Save without editing) records nothing: the log holds changes.
func TestASaveThatChangesNothingRecordsNothing(t *testing.T) {
	f := newChangeFixture(t)
	carla := f.member(t, "carla")
	key := chattest.Unique("same")
	c := queues.QueueConfig{Queue: queues.Queue{Key: key, Name: "Support", Hours: &queues.Hours{"tue": {{From: "08:00", To: "12:00"}}}},
		Members: []string{carla}}
	f.save(t, c)
	f.save(t, c)
	c.Members = []string{carla, carla} // the same member twice is one member
	c.Statuses = []string{}            // an empty list over none
	f.save(t, c)
	if log := f.log(t, key); len(log) != 1 {
		t.Fatalf("three saves of the same settings made %d entries, want 1 (the creation): %+v", len(log), log)
	}
}

// A refused save changes nothing, so the log says nothing of it.
func TestARefusedSaveRecordsNothing(t *testing.T) {
	f := newChangeFixture(t)
	key := chattest.Unique("refused")
	f.save(t, queues.QueueConfig{Queue: queues.Queue{Key: key, Name: "Support"}})
	_, err := f.store.Save(context.Background(), f.admin, queues.QueueConfig{Queue: queues.Queue{Key: key, Name: "Renamed"},
		Members: []string{"nobody-at-all"}})
	if !errors.Is(err, queues.ErrBadInput) {
		t.Fatalf("an unknown member: %v, want a bad request", err)
	}
	if log := f.log(t, key); len(log) != 1 {
		t.Fatalf("the refused save left %d entries, want 1: %+v", len(log), log)
	}
}

// Saves at once follow each other: each entry's old values are the
// previous entry's new ones, and of two admins creating one queue at
// once, one creates it and the other changes it.
func TestSavesAtOnceRecordAChainOfChanges(t *testing.T) {
	f := newChangeFixture(t)
	ctx := context.Background()
	key := chattest.Unique("race")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.store.Save(ctx, f.admin, queues.QueueConfig{Queue: queues.Queue{Key: key, Name: "Q", Title: fmt.Sprintf("Title %d", i)}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	log := f.log(t, key)
	if len(log) != n {
		t.Fatalf("%d saves of different titles made %d entries", n, len(log))
	}
	slices.Reverse(log) // oldest first
	if !log[0].Created {
		t.Errorf("the first entry is not the creation: %+v", log[0])
	}
	for i, c := range log[1:] {
		if c.Created {
			t.Errorf("entry %d is a second creation", i+1)
		}
		prev := fieldsOf(log[i])["title"]
		if len(c.Fields) != 1 || c.Fields[0].Field != "title" {
			t.Fatalf("entry %d changes %v, want only the title", i+1, fieldsOf(c))
		}
		if _, newTitle, _ := strings.Cut(prev, " → "); string(c.Fields[0].Old) != newTitle {
			t.Errorf("entry %d's old title %s is not entry %d's new one (%s)", i+1, c.Fields[0].Old, i, prev)
		}
	}
}

func TestTheChangeLogIsPagedNewestFirst(t *testing.T) {
	f := newChangeFixture(t)
	ctx := context.Background()
	key := chattest.Unique("paged")
	for i := range 5 {
		f.save(t, queues.QueueConfig{Queue: queues.Queue{Key: key, Name: "Q", Capacity: i + 1}})
	}
	first, err := f.store.Changes(ctx, f.admin, key, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Changes) != 2 || first.Next == 0 || fieldsOf(first.Changes[0])["capacity"] != "4 → 5" {
		t.Fatalf("the first page is %+v, want the 2 newest and a next cursor", first)
	}
	var all []queues.Change
	all = append(all, first.Changes...)
	for next := first.Next; next != 0; {
		page, err := f.store.Changes(ctx, f.admin, key, next, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Changes...)
		next = page.Next
	}
	if len(all) != 5 || !all[4].Created {
		t.Fatalf("paging read %d entries, the last %+v; want 5 ending with the creation", len(all), all[len(all)-1])
	}
	if _, err := f.store.Changes(ctx, f.admin, key, 0, 1000); !errors.Is(err, queues.ErrBadInput) {
		t.Errorf("a page of 1000: %v, want a bad request", err)
	}
	if _, err := f.store.Changes(ctx, f.admin, "no-such-queue", 0, 0); !errors.Is(err, queues.ErrNotFound) {
		t.Errorf("an unknown queue: %v, want not found", err)
	}
}

func TestOnlyAdminsReadTheChangeLog(t *testing.T) {
	f := newChangeFixture(t)
	key := chattest.Unique("roles")
	f.save(t, queues.QueueConfig{Queue: queues.Queue{Key: key, Name: "Q"}})
	for _, c := range []struct {
		who  auth.Principal
		want error
	}{
		{chattest.Visitor("mia", key), queues.ErrForbidden},
		{auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g"}, queues.ErrForbidden},
		{chattest.User(t, f.a, "Alice", auth.RoleAgent), queues.ErrForbidden},
		{chattest.User(t, f.a, "Sue", auth.RoleSupervisor), queues.ErrForbidden},
		{f.admin, nil},
	} {
		_, err := f.store.Changes(context.Background(), c.who, key, 0, 0)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s (%s): %v, want %v", c.who.Role, c.who.Kind, err, c.want)
		}
	}
}

// A save that changes only the members is recorded with no fields.
func TestASaveOfMembersAloneIsRecorded(t *testing.T) {
	f := newChangeFixture(t)
	carla, dan := f.member(t, "carla"), f.member(t, "dan")
	key := chattest.Unique("members")
	c := queues.QueueConfig{Queue: queues.Queue{Key: key, Name: "Support"}, Members: []string{carla}}
	f.save(t, c)
	c.Members = []string{carla, dan}
	f.save(t, c)
	log := f.log(t, key)
	if len(log) != 2 {
		t.Fatalf("%d entries, want 2 (the creation and the members): %+v", len(log), log)
	}
	if len(log[0].Fields) != 0 || len(log[0].MembersAdded) != 1 || log[0].MembersAdded[0] != dan {
		t.Errorf("the newest entry has fields %v and members added %v; want no field and %s added", fieldsOf(log[0]), log[0].MembersAdded, dan)
	}
}
