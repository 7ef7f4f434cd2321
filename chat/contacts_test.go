package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/crm"
	"parley/chat/queues"
)

// contactsFixture is a chat fixture whose contacts the tests reach
// through chat/crm's store (s), as the Service's methods do.
type contactsFixture struct {
	*fixture
	s          *crm.Contacts
	sue        auth.Principal
	adminQueue auth.Principal
}

func newContactsFixture(t *testing.T) *contactsFixture {
	t.Helper()
	f := newFixture(t)
	return &contactsFixture{fixture: f, s: f.svc.contacts, sue: f.sup,
		adminQueue: auth.Principal{Kind: auth.KindUser, Role: auth.RoleAdmin, Name: "Ada"}}
}

func ptr[T any](v T) *T { return &v }

func (f *contactsFixture) create(t *testing.T, in ContactInput) Contact {
	t.Helper()
	c, err := f.svc.CreateContact(context.Background(), f.alice, ContactCreateInput{ContactInput: in})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verified starts a chat as a new visitor with an identity the queue's
// secret signed, and answers it as staff see it.
func (f *contactsFixture) verified(t *testing.T, id Identity, typed StartInput) Conversation {
	t.Helper()
	ctx := context.Background()
	secret, err := f.svc.QueueSecret(ctx, f.adminQueue, f.q.Key)
	if err != nil {
		t.Fatal(err)
	}
	id.Queue, id.Exp = f.q.Key, time.Now().Add(time.Hour).Unix()
	typed.Identity = SignIdentity(secret.Secret, id)
	if typed.Name == "" {
		typed.Name = "Typed Name"
	}
	c, _, err := f.svc.Start(ctx, chattest.Visitor("v", f.q.Key), typed)
	if err != nil {
		t.Fatal(err)
	}
	if c.Contact != nil {
		t.Fatalf("the customer sees its contact: %+v", c.Contact)
	}
	c, _, err = f.svc.Resume(ctx, f.sup, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Customers and guests reach no contact: every method refuses them before
// reading anything.
func TestCustomersAndGuestsAreForbiddenEveryContact(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	c := f.create(t, ContactInput{Name: ptr("Vera")})
	for _, p := range []auth.Principal{
		chattest.Visitor("vera", "q"),
		{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g", Name: "Guest"},
	} {
		_, err1 := f.svc.SearchContacts(ctx, p, "vera", 0)
		_, _, err2 := f.s.Get(ctx, p, c.ID)
		_, err3 := f.svc.CreateContact(ctx, p, ContactCreateInput{ContactInput: ContactInput{Name: ptr("X")}})
		_, err4 := f.svc.UpdateContact(ctx, p, c.ID, ContactInput{Name: ptr("X")})
		_, err5 := f.s.Tickets(ctx, p, c.ID, c.CreatedAt, 0, 10)
		for i, err := range []error{err1, err2, err3, err4, err5} {
			if !errors.Is(err, queues.ErrForbidden) {
				t.Errorf("%s, call %d: %v, want forbidden", p.Kind, i+1, err)
			}
		}
	}
	// Every staff role may.
	for _, p := range []auth.Principal{f.alice, f.sue} {
		if _, _, err := f.s.Get(ctx, p, c.ID); err != nil {
			t.Errorf("%s: %v", p.Role, err)
		}
	}
}

func TestEveryBadFieldIsABadRequestNamingIt(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		in   ContactInput
		want string // the message's start
	}{
		{ContactInput{}, "name: "},
		{ContactInput{Name: ptr("  ")}, "name: "},
		{ContactInput{Name: ptr(strings.Repeat("n", 101))}, "name: at most 100"},
		{ContactInput{Name: ptr("V"), Emails: &[]string{"vera@"}}, "emails: "},
		{ContactInput{Name: ptr("V"), Emails: &[]string{"Vera <vera@example.com>"}}, "emails: "},
		{ContactInput{Name: ptr("V"), Emails: ptr(slices.Repeat([]string{"a@b.cz"}, 11))}, "emails: at most 10"},
		{ContactInput{Name: ptr("V"), Phone: ptr(strings.Repeat("1", 101))}, "phone: at most 100"},
		{ContactInput{Name: ptr("V"), Company: ptr(strings.Repeat("c", 101))}, "company: at most 100"},
		{ContactInput{Name: ptr("V"), Notes: ptr(strings.Repeat("n", 2001))}, "notes: at most 2000"},
		{ContactInput{Name: ptr("V"), ExternalID: ptr(strings.Repeat("x", 201))}, "external_id: at most 200"},
		{ContactInput{Name: ptr("V\x00")}, "name"},
	} {
		_, err := f.svc.CreateContact(ctx, f.alice, ContactCreateInput{ContactInput: c.in})
		if !errors.Is(err, queues.ErrBadInput) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want bad_request %q…", c.in, err, c.want)
		}
	}
	made := f.create(t, ContactInput{Name: ptr("Vera")})
	if _, err := f.svc.UpdateContact(ctx, f.alice, made.ID, ContactInput{Name: ptr("")}); !errors.Is(err, queues.ErrBadInput) ||
		!strings.HasPrefix(err.Error(), "name: ") {
		t.Errorf("an update emptying the name: %v", err)
	}
	if _, err := f.svc.UpdateContact(ctx, f.alice, made.ID+1000, ContactInput{Phone: ptr("1")}); !errors.Is(err, queues.ErrNotFound) {
		t.Errorf("an update of no contact: %v", err)
	}
	for _, q := range []string{"", "v", strings.Repeat("q", 101)} {
		if _, err := f.svc.SearchContacts(ctx, f.alice, q, 0); !errors.Is(err, queues.ErrBadInput) || !strings.HasPrefix(err.Error(), "query: ") {
			t.Errorf("search %q: %v", q, err)
		}
	}
	for _, l := range []int{-1, 51} {
		if _, err := f.svc.SearchContacts(ctx, f.alice, "vera", l); !errors.Is(err, queues.ErrBadInput) || !strings.HasPrefix(err.Error(), "limit: ") {
			t.Errorf("search limit %d: %v", l, err)
		}
	}
}

func TestEditsAreRecordedWithWhoWhenAndWhat(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	c := f.create(t, ContactInput{Name: ptr(" Vera Visitor "), Emails: &[]string{"Vera@Example.com", "vera@example.com"}})
	if c.Name != "Vera Visitor" || !slices.Equal(c.Emails, []string{"vera@example.com"}) {
		t.Fatalf("made %+v: the name trimmed, the addresses lower-cased once each", c)
	}
	if c.UpdatedBy == nil || c.UpdatedBy.ID != f.alice.UserID || c.UpdatedBy.Name != "Alice" {
		t.Fatalf("made by %+v", c.UpdatedBy)
	}
	up, err := f.svc.UpdateContact(ctx, f.sue, c.ID, ContactInput{Phone: ptr("+420 777 000 111"), Company: ptr("Example s.r.o.")})
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "Vera Visitor" || up.Phone != "+420 777 000 111" || up.UpdatedBy.ID != f.sue.UserID {
		t.Fatalf("updated %+v: absent fields kept, Sue the last to change it", up)
	}
	// A save that changes nothing records nothing.
	if _, err := f.svc.UpdateContact(ctx, f.sue, c.ID, ContactInput{Phone: ptr("+420 777 000 111")}); err != nil {
		t.Fatal(err)
	}
	_, changes, err := f.s.Get(ctx, f.alice, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 {
		t.Fatalf("changes %+v, want the update and the creation", changes)
	}
	last, first := changes[0], changes[1]
	if last.Created || last.User == nil || last.User.Name != "Sue" || len(last.Fields) != 2 ||
		last.Fields[0] != (crm.Field{Field: "phone", Old: "", New: "+420 777 000 111"}) || last.Fields[1] != (crm.Field{Field: "company", Old: "", New: "Example s.r.o."}) {
		t.Errorf("the update is logged as %+v", last)
	}
	if !first.Created || first.User == nil || first.User.Name != "Alice" || len(first.Fields) != 2 ||
		first.Fields[0].Field != "name" || first.Fields[1].Field != "emails" {
		t.Errorf("the creation is logged as %+v", first)
	}
	if fmt.Sprint(first.Fields[1].New) != "[vera@example.com]" {
		t.Errorf("the e-mails' change is %+v", first.Fields[1])
	}
}

func TestEditingAVerifiedFieldDropsItsMark(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	tag := strings.ToLower(chattest.Unique("z")) // the package's database is shared
	conv := f.verified(t, Identity{ID: tag, Name: "Vera Verified", Email: "Vera@" + tag + ".Example.com"}, StartInput{})
	if conv.Contact == nil {
		t.Fatal("the chat is not paired")
	}
	id := ContactID(conv.Contact.ID)
	c, changes, err := f.s.Get(ctx, f.alice, id)
	if err != nil {
		t.Fatal(err)
	}
	want := crm.Verified{ExternalID: true, Name: true, Emails: []string{"vera@" + tag + ".example.com"}}
	if fmt.Sprint(c.Verified) != fmt.Sprint(want) || c.UpdatedBy != nil || len(changes) != 1 || changes[0].User != nil {
		t.Fatalf("made from the identity: %+v by %+v, changes %+v", c.Verified, c.UpdatedBy, changes)
	}
	// Notes were never verified: the marks stay.
	c, _ = f.svc.UpdateContact(ctx, f.alice, id, ContactInput{Notes: ptr("Prefers e-mail")})
	if fmt.Sprint(c.Verified) != fmt.Sprint(want) {
		t.Fatalf("after a note: %+v", c.Verified)
	}
	// An address added: the verified one stays verified.
	c, _ = f.svc.UpdateContact(ctx, f.alice, id, ContactInput{Emails: &[]string{"v@example.org", "vera@" + tag + ".example.com"}})
	if fmt.Sprint(c.Verified) != fmt.Sprint(want) {
		t.Fatalf("after an address added: %+v", c.Verified)
	}
	c, _ = f.svc.UpdateContact(ctx, f.alice, id, ContactInput{Name: ptr("Vera V.")})
	want.Name = false
	if fmt.Sprint(c.Verified) != fmt.Sprint(want) {
		t.Fatalf("after the name edited: %+v, want %+v", c.Verified, want)
	}
	c, _ = f.svc.UpdateContact(ctx, f.alice, id, ContactInput{Emails: &[]string{"v@example.org"}})
	want.Emails = nil
	if fmt.Sprint(c.Verified) != fmt.Sprint(want) {
		t.Fatalf("after the address removed: %+v, want %+v", c.Verified, want)
	}
	c, _ = f.svc.UpdateContact(ctx, f.alice, id, ContactInput{ExternalID: ptr(tag + "-2")})
	if fmt.Sprint(c.Verified) != fmt.Sprint(crm.Verified{}) {
		t.Fatalf("after the external id edited: %+v, want nothing verified", c.Verified)
	}
}

func TestATakenExternalIDIsAConflict(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	taken := chattest.Unique("c")
	f.create(t, ContactInput{Name: ptr("Vera"), ExternalID: ptr(taken)})
	other := f.create(t, ContactInput{Name: ptr("Mia")})
	if _, err := f.svc.CreateContact(ctx, f.alice, ContactCreateInput{ContactInput: ContactInput{Name: ptr("Eve"), ExternalID: ptr(taken)}}); !errors.Is(err, queues.ErrConflict) ||
		!strings.HasPrefix(err.Error(), "external_id: ") {
		t.Errorf("create: %v, want conflict", err)
	}
	if _, err := f.svc.UpdateContact(ctx, f.alice, other.ID, ContactInput{ExternalID: ptr(taken)}); !errors.Is(err, queues.ErrConflict) {
		t.Errorf("update: %v, want conflict", err)
	}
	// "" removes an external id; two contacts may both have none.
	if c, err := f.svc.UpdateContact(ctx, f.alice, other.ID, ContactInput{ExternalID: ptr("")}); err != nil || c.ExternalID != "" {
		t.Errorf("none: %+v, %v", c, err)
	}
}

func TestSearchFindsAPartOfTheNameAnEmailThePhoneOrTheCompany(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	tag := strings.ToLower(chattest.Unique("z")) // this test's contacts only
	vera := f.create(t, ContactInput{Name: ptr("Vera " + tag), Emails: &[]string{"vera." + tag + "@example.com"},
		Phone: ptr("+420 777 " + tag), Company: ptr("Acme " + tag)})
	mia := f.create(t, ContactInput{Name: ptr("Mia " + tag), Company: ptr("100%_Co " + tag)})
	f.create(t, ContactInput{Name: ptr("Abc " + tag)})
	names := func(cs []Contact) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []ContactID
	}{
		{"VERA " + tag, []ContactID{vera.ID}},
		{"era." + tag + "@exa", []ContactID{vera.ID}},
		{"777 " + tag, []ContactID{vera.ID}},
		{"acme " + tag, []ContactID{vera.ID}},
		{"mia " + tag, []ContactID{mia.ID}},
		{"100%_co " + tag, []ContactID{mia.ID}}, // LIKE's wildcards are the characters themselves
		{"a_c " + tag, nil},
		{"a%c " + tag, nil},
	} {
		got, err := f.svc.SearchContacts(ctx, f.alice, c.query, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []ContactID
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("%q found %v, want ids %v", c.query, names(got), c.want)
		}
	}
	// Best first: a name that starts with the query before one that has it
	// inside.
	f.create(t, ContactInput{Name: ptr("Averan " + tag)})
	got, err := f.svc.SearchContacts(ctx, f.alice, "vera", 50)
	if i, j := slices.Index(names(got), "Vera "+tag), slices.Index(names(got), "Averan "+tag); err != nil || i < 0 || j < i {
		t.Errorf("vera found %v, %v; want Vera before Averan", names(got), err)
	}
	// Two characters: the contacts with a word that starts with them.
	got, err = f.svc.SearchContacts(ctx, f.alice, "Ab", 50)
	if err != nil || !slices.Contains(names(got), "Abc "+tag) {
		t.Errorf("ab found %v, %v; want Abc %s among them", names(got), err, tag)
	}
	for _, c := range got {
		if s := " " + crm.SearchText(c.Name, c.Emails, c.Phone, c.Company); !strings.Contains(s, " ab") {
			t.Errorf("ab found %q, which has no word starting with it", s)
		}
	}
	// More than a few matches: the nearest first, from the GiST index.
	word := strings.ReplaceAll(tag, "-", "")
	if _, err := f.pool.Exec(ctx, `INSERT INTO contacts (name, search)
		SELECT 'Many ' || $1 || 'xyz ' || g, 'many ' || $1 || 'xyz ' || g FROM generate_series(1, 250) g`, word); err != nil {
		t.Fatal(err)
	}
	exact := f.create(t, ContactInput{Name: ptr("Exact " + word)})
	got, err = f.svc.SearchContacts(ctx, f.alice, word, 20)
	if err != nil || len(got) != 20 || got[0].ID != exact.ID {
		t.Errorf("%s among 251 found %d, first %v, %v; want 20, Exact first", word, len(got), names(got[:min(1, len(got))]), err)
	}
	// The search column follows an edit.
	if _, err := f.svc.UpdateContact(ctx, f.alice, mia.ID, ContactInput{Company: ptr("Globex " + tag)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.SearchContacts(ctx, f.alice, "globex "+tag, 0); len(got) != 1 || got[0].ID != mia.ID {
		t.Errorf("after an edit, found %v", names(got))
	}
}
