package chat

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/conversation"
	"parley/chat/crm"
	"parley/chat/queues"
)

// pairedAs is how a chat is paired, as staff see it: "" unpaired, else
// "paired_by:contact id".
func pairedAs(c Conversation) string {
	if c.Contact == nil {
		return ""
	}
	return c.Contact.PairedBy + ":" + c.Contact.Name
}

func TestAStartPairsByVerifiedIDThenVerifiedEmailThenTheIdentityThenTheVisitor(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	tag := strings.ToLower(chattest.Unique("p"))
	f.create(t, ContactInput{Name: ptr("By id"), ExternalID: ptr(tag + "-id"), Emails: &[]string{"both@" + tag + ".cz"}})
	f.create(t, ContactInput{Name: ptr("By e-mail"), Emails: &[]string{"mail@" + tag + ".cz", "both@" + tag + ".cz"}})
	f.create(t, ContactInput{Name: ptr("By e-mail, later"), Emails: &[]string{"mail@" + tag + ".cz"}})

	// (1) The external id's contact, whatever the e-mail.
	c := f.verified(t, Identity{ID: tag + "-id", Email: "mail@" + tag + ".cz"}, StartInput{})
	if got := pairedAs(c); got != "external_id:By id" {
		t.Errorf("a known external id: paired %q", got)
	}
	// (2) An unknown id with a signed e-mail: the oldest contact with it.
	c = f.verified(t, Identity{ID: tag + "-new", Email: "Mail@" + tag + ".cz"}, StartInput{})
	if got := pairedAs(c); got != "email:By e-mail" {
		t.Errorf("a verified e-mail: paired %q", got)
	}
	// (3) Nothing known: a contact made from the identity, which the next
	// chat with that id finds.
	c = f.verified(t, Identity{ID: tag + "-made", Name: "Vera Verified", Email: "vera@" + tag + ".cz"}, StartInput{})
	if got := pairedAs(c); got != "external_id:Vera Verified" {
		t.Fatalf("an unknown identity: paired %q", got)
	}
	made, _, err := f.s.Get(ctx, f.alice, crm.ContactID(c.Contact.ID))
	if err != nil {
		t.Fatal(err)
	}
	if made.ExternalID != tag+"-made" || !slices.Equal(made.Emails, []string{"vera@" + tag + ".cz"}) || !made.Verified.ExternalID ||
		!made.Verified.Name || !slices.Equal(made.Verified.Emails, made.Emails) || made.UpdatedBy != nil {
		t.Errorf("made from the identity: %+v", made)
	}
	again := f.verified(t, Identity{ID: tag + "-made"}, StartInput{Name: "Someone"})
	if again.Contact == nil || again.Contact.ID != c.Contact.ID || again.Contact.PairedBy != "external_id" {
		t.Errorf("the same id again: paired %+v, want contact %d", again.Contact, c.Contact.ID)
	}
	// Only the id signed: the typed name is the contact's, unverified, and
	// the typed e-mail is not on it.
	c = f.verified(t, Identity{ID: tag + "-bare"}, StartInput{Name: "Bare Typed", Email: "mail@" + tag + ".cz"})
	if got := pairedAs(c); got != "external_id:Bare Typed" {
		t.Fatalf("an identity of an id alone: paired %q", got)
	}
	bare, _, _ := f.s.Get(ctx, f.alice, crm.ContactID(c.Contact.ID))
	if len(bare.Emails) != 0 || bare.Verified.Name || len(bare.Verified.Emails) != 0 {
		t.Errorf("made from an id alone: %+v", bare)
	}

	// (4) No identity: the same visitor's latest paired chat's contact.
	vera := chattest.Visitor("vera", f.q.Key)
	first, _, err := f.svc.Start(ctx, vera, StartInput{Name: "Vera"})
	if err != nil {
		t.Fatal(err)
	}
	byHand := f.create(t, ContactInput{Name: ptr("By hand " + tag)})
	if _, err := f.svc.Pair(ctx, f.sup, first.ID, byHand.ID); err != nil {
		t.Fatal(err)
	}
	f.set(t, `UPDATE conversations SET state = 'closed', closed_at = now() WHERE id = $1`, first.ID)
	second, _, err := f.svc.Start(ctx, vera, StartInput{Name: "Vera"})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID || second.Contact != nil {
		t.Fatalf("the second chat %+v: a new one, its contact hidden from the customer", second)
	}
	staff, _, _ := f.svc.Resume(ctx, f.sup, second.ID, 0)
	if got := pairedAs(staff); got != "visitor:By hand "+tag {
		t.Errorf("the same visitor: paired %q", got)
	}
	// A visitor none of whose chats was paired stays unpaired.
	_, id := f.customer(t, "Nora")
	staff, _, _ = f.svc.Resume(ctx, f.sup, id, 0)
	if staff.Contact != nil {
		t.Errorf("a new visitor: paired %+v", staff.Contact)
	}
}

// Anyone can type anyone's address: an unverified customer who types a
// known contact's e-mail is not paired with it, nor shown anything of it.
func TestATypedEmailNeverPairs(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	tag := strings.ToLower(chattest.Unique("t"))
	known := f.create(t, ContactInput{Name: ptr("Known " + tag), Emails: &[]string{"known@" + tag + ".cz"},
		Notes: ptr("secret " + tag)})
	p := chattest.Visitor("mallory", f.q.Key)
	c, evs, err := f.svc.Start(ctx, p, StartInput{Name: "Known " + tag, Email: "known@" + tag + ".cz"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"c": c, "evs": evs})
	if strings.Contains(string(raw), "secret") || c.Contact != nil {
		t.Errorf("the customer is shown %s", raw)
	}
	staff, _, _ := f.svc.Resume(ctx, f.sup, c.ID, 0)
	if staff.Contact != nil {
		t.Errorf("a typed e-mail paired the chat with %+v (contact %d is the address's)", staff.Contact, known.ID)
	}
	// Its next chat, by the same visitor, is not paired either.
	f.set(t, `UPDATE conversations SET state = 'closed', closed_at = now() WHERE id = $1`, c.ID)
	c, _, _ = f.svc.Start(ctx, p, StartInput{Name: "Known", Email: "known@" + tag + ".cz"})
	if staff, _, _ = f.svc.Resume(ctx, f.sup, c.ID, 0); staff.Contact != nil {
		t.Errorf("the next chat is paired with %+v", staff.Contact)
	}
}

// frames records what a bus subject carries.
type frames struct {
	mu  sync.Mutex
	all []string
}

func (f *frames) add(b []byte) { f.mu.Lock(); f.all = append(f.all, string(b)); f.mu.Unlock() }

func (f *frames) list() []string { f.mu.Lock(); defer f.mu.Unlock(); return slices.Clone(f.all) }

func (f *contactsFixture) listen(t *testing.T, subject string) *frames {
	t.Helper()
	var fr frames
	unsub, err := f.bus.Subscribe(subject, fr.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return &fr
}

func TestPairingByHandIsAPrivateEventThatStaffSeeLive(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	cust, id := f.customer(t, "Vera")
	vera := f.create(t, ContactInput{Name: ptr("Vera Visitor")})
	staffSubj, public := f.listen(t, conversation.StaffSubject(id)), f.listen(t, conversation.PublicSubject(id))

	got, err := f.svc.Pair(ctx, f.sup, id, vera.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &ContactRef{ID: int64(vera.ID), Name: "Vera Visitor", PairedBy: "staff"}
	if got.ConversationID != id || got.Contact == nil || *got.Contact != *want {
		t.Fatalf("chat.pair answers %+v", got)
	}
	live := staffSubj.list()
	if len(live) != 1 || !strings.Contains(live[0], `"kind":"contact_paired"`) || !strings.Contains(live[0], `"private":true`) ||
		!strings.Contains(live[0], `"contact":{"id":`) || !strings.Contains(live[0], `"name":"Vera Visitor"}`) {
		t.Fatalf("staff were told %v", live)
	}
	c, evs, err := f.svc.Resume(ctx, f.sup, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Contact == nil || *c.Contact != *want || evs[len(evs)-1].Kind != KindContactPaired ||
		evs[len(evs)-1].Contact == nil || evs[len(evs)-1].Contact.Name != "Vera Visitor" {
		t.Fatalf("staff read %+v and the last event %+v", c.Contact, evs[len(evs)-1])
	}

	got, err = f.svc.Unpair(ctx, f.sup, id)
	if err != nil || got.Contact != nil {
		t.Fatalf("chat.unpair answers %+v, %v", got, err)
	}
	if live = staffSubj.list(); len(live) != 2 || !strings.Contains(live[1], `"kind":"contact_unpaired"`) {
		t.Fatalf("staff were told %v", live)
	}
	// Unpairing an unpaired chat changes nothing and tells nobody.
	if _, err := f.svc.Unpair(ctx, f.sup, id); err != nil {
		t.Fatal(err)
	}
	if live = staffSubj.list(); len(live) != 2 {
		t.Fatalf("a second unpair told staff %v", live[2:])
	}
	c, _, _ = f.svc.Resume(ctx, f.sup, id, 0)
	if c.Contact != nil {
		t.Fatalf("unpaired, staff read %+v", c.Contact)
	}

	// The customer heard of none of it, and reads none of it.
	if p := public.list(); len(p) != 0 {
		t.Errorf("the customer was told %v", p)
	}
	mine, evs, err := f.svc.Resume(ctx, cust, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Kind == KindContactPaired || e.Kind == KindContactUnpaired || e.Contact != nil {
			t.Errorf("the customer reads %+v", e)
		}
	}
	if mine.Contact != nil {
		t.Errorf("the customer reads its contact %+v", mine.Contact)
	}
}

// Who may pair and unpair: staff who may read the chat; any other staff
// member is answered not_found, customers and guests forbidden.
func TestOnlyStaffWhoMayReadAChatPairIt(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	cust, id := f.customer(t, "Vera")
	vera := f.create(t, ContactInput{Name: ptr("Vera Visitor")})
	// Alice is the chat's agent; Bob, an agent of the same queue, is not.
	f.set(t, `UPDATE conversations SET agent_id = $2, state = 'active', accepted_at = now() WHERE id = $1`, id, f.alice.UserID)
	f.set(t, `INSERT INTO conversation_agents (conversation_id, user_id) VALUES ($1, $2)`, id, f.alice.UserID)
	guest := auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g", Name: "Guest"}
	for _, c := range []struct {
		who  string
		p    auth.Principal
		want error // nil: allowed
	}{
		{"the chat's agent", f.alice, nil},
		{"the queue's supervisor", f.sup, nil},
		{"an agent not in the chat", f.bob, queues.ErrNotFound},
		{"the chat's customer", cust, queues.ErrForbidden},
		{"another customer", chattest.Visitor("other", f.q.Key), queues.ErrForbidden},
		{"a guest", guest, queues.ErrForbidden},
	} {
		_, err1 := f.svc.Pair(ctx, c.p, id, vera.ID)
		_, err2 := f.svc.Unpair(ctx, c.p, id)
		_, err3 := f.svc.CreateContact(ctx, c.p, ContactCreateInput{ContactInput: ContactInput{Name: ptr("New")}, ConversationID: id})
		for i, err := range []error{err1, err2, err3} {
			if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Errorf("%s, call %d: %v, want %v", c.who, i+1, err, c.want)
			}
		}
	}
	if _, err := f.svc.Pair(ctx, f.sup, id, vera.ID+1000); !errors.Is(err, queues.ErrNotFound) || !strings.Contains(err.Error(), "contact") {
		t.Errorf("pairing with no contact: %v", err)
	}
	if _, err := f.svc.Pair(ctx, f.sup, id+1000, vera.ID); !errors.Is(err, queues.ErrNotFound) {
		t.Errorf("pairing no chat: %v", err)
	}
}

func TestANewContactFromAChatIsPairedWithIt(t *testing.T) {
	f := newContactsFixture(t)
	ctx := context.Background()
	_, id := f.customer(t, "Vera")
	staffSubj := f.listen(t, conversation.StaffSubject(id))
	made, err := f.svc.CreateContact(ctx, f.sup, ContactCreateInput{ContactInput: ContactInput{Name: ptr("Vera New")}, ConversationID: id})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ := f.svc.Resume(ctx, f.sup, id, 0)
	if c.Contact == nil || c.Contact.ID != int64(made.ID) || c.Contact.PairedBy != "staff" || len(staffSubj.list()) != 1 {
		t.Fatalf("paired %+v, staff told %v", c.Contact, staffSubj.list())
	}
	// A bad field makes neither the contact nor the pairing.
	before := len(staffSubj.list())
	if _, err := f.svc.CreateContact(ctx, f.sup, ContactCreateInput{ContactInput: ContactInput{Name: ptr("V"), Emails: &[]string{"x"}},
		ConversationID: id}); !errors.Is(err, queues.ErrBadInput) {
		t.Fatalf("a bad e-mail: %v", err)
	}
	if c, _, _ = f.svc.Resume(ctx, f.sup, id, 0); c.Contact.ID != int64(made.ID) || len(staffSubj.list()) != before {
		t.Fatalf("after a refused create: paired %+v", c.Contact)
	}
}
