package chat

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/crm"
	"parley/chat/queues"
)

// Contacts (chat/crm's contacts.go) and the pairing of chats with them
// (chat/conversation's pairing.go), for staff.
type (
	ContactID    = crm.ContactID
	Contact      = crm.Contact
	ContactInput = crm.ContactInput
	ContactRef   = conversation.ContactRef
	Paired       = conversation.Paired
)

// Event kinds of pairing by hand (private).
const (
	KindContactPaired   = conversation.KindContactPaired
	KindContactUnpaired = conversation.KindContactUnpaired
)

// SearchContacts finds contacts by name, e-mail, phone or company.
func (s *Service) SearchContacts(ctx context.Context, p auth.Principal, query string, limit int) ([]Contact, error) {
	return s.contacts.Search(ctx, p, query, limit)
}

// ContactCreateInput is a contact.create: the contact, and the chat to
// pair with it (0: none).
type ContactCreateInput struct {
	crm.ContactInput
	ConversationID ConversationID `json:"conversation_id"`
}

// CreateContact makes a contact; with a chat p may read, it pairs the
// chat with it in the same transaction.
func (s *Service) CreateContact(ctx context.Context, p auth.Principal, in ContactCreateInput) (Contact, error) {
	if err := crm.Staff(p); err != nil {
		return Contact{}, err
	}
	if err := in.Check(true); err != nil {
		return Contact{}, err
	}
	if in.ConversationID == 0 {
		return s.contacts.Create(ctx, p, in.ContactInput)
	}
	var made Contact
	_, err := s.conv.PairWith(ctx, p, in.ConversationID, func(tx pgx.Tx) (conversation.ContactName, error) {
		var err error
		made, err = crm.CreatePaired(ctx, tx, p, int64(in.ConversationID), in.ContactInput)
		return conversation.ContactName{ID: made.ID, Name: made.Name}, err
	})
	return made, err
}

// UpdateContact changes a contact's fields that in names.
func (s *Service) UpdateContact(ctx context.Context, p auth.Principal, id ContactID, in ContactInput) (Contact, error) {
	return s.contacts.Update(ctx, p, id, in)
}

// Pair pairs a chat p may read with a contact.
func (s *Service) Pair(ctx context.Context, p auth.Principal, id ConversationID, contact ContactID) (Paired, error) {
	return s.conv.Pair(ctx, p, id, contact)
}

// Unpair leaves a chat p may read unpaired.
func (s *Service) Unpair(ctx context.Context, p auth.Principal, id ConversationID) (Paired, error) {
	return s.conv.Unpair(ctx, p, id)
}

// ContactGetInput is a contact.get.
type ContactGetInput struct {
	ContactID ContactID `json:"contact_id"`
	Limit     int       `json:"limit"`
	Cursor    string    `json:"cursor"`
}

// ContactPage is a contact with its change log and a page of its
// activities, newest first.
type ContactPage struct {
	Contact    Contact      `json:"contact"`
	Changes    []crm.Change `json:"changes"`
	Activities []Activity   `json:"activities"`
	Cursor     string       `json:"cursor"`
}

// Activity is a conversation paired with a contact or a ticket of it.
type Activity struct {
	Kind         string             `json:"kind"` // conversation or ticket
	Conversation *Conversation      `json:"conversation,omitempty"`
	Ticket       *crm.ContactTicket `json:"ticket,omitempty"`
	key          activityKey
}

// activityKey orders activities, newest first: by when they began (a
// chat queued, a ticket made), then a chat before a ticket, then by id.
type activityKey struct {
	at   time.Time
	rank int // 1 a conversation, 0 a ticket
	id   int64
}

func (k activityKey) compare(o activityKey) int {
	return cmp.Or(k.at.Compare(o.at), cmp.Compare(k.rank, o.rank), cmp.Compare(k.id, o.id))
}

func (k activityKey) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d.%d", k.at.UnixMicro(), k.rank, k.id))
}

func parseActivityKey(s string) (activityKey, error) {
	bad := queues.Bad(`cursor: not one this server gave; pass the "cursor" of the previous answer as it came`)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return activityKey{}, bad
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 {
		return activityKey{}, bad
	}
	var n [3]int64
	for i, part := range parts {
		if n[i], err = strconv.ParseInt(part, 10, 64); err != nil {
			return activityKey{}, bad
		}
	}
	if n[1] != 0 && n[1] != 1 || n[2] <= 0 {
		return activityKey{}, bad
	}
	return activityKey{time.UnixMicro(n[0]), int(n[1]), n[2]}, nil
}

// before is where a source of the given rank resumes after cursor k: the
// (time, id) its items must be below.
func (k activityKey) before(rank int) (time.Time, int64) {
	switch {
	case k.at.IsZero():
		return time.Time{}, 0
	case rank == k.rank:
		return k.at, k.id
	case rank < k.rank: // a ticket at the cursor's time comes after the chat
		return k.at, math.MaxInt64
	default: // a chat at the cursor's time came before the ticket
		return k.at, 0
	}
}

// GetContact reads a contact, its change log and a page of its
// activities: the conversations and tickets of it p may find.
func (s *Service) GetContact(ctx context.Context, p auth.Principal, in ContactGetInput) (ContactPage, error) {
	switch {
	case in.Limit == 0:
		in.Limit = crm.DefaultContactLimit
	case in.Limit < 1 || in.Limit > crm.MaxContactLimit:
		return ContactPage{}, queues.Bad("limit: 1–%d, not %d", crm.MaxContactLimit, in.Limit)
	}
	var after activityKey
	if in.Cursor != "" {
		var err error
		if after, err = parseActivityKey(in.Cursor); err != nil {
			return ContactPage{}, err
		}
	}
	c, changes, err := s.contacts.Get(ctx, p, in.ContactID)
	if err != nil {
		return ContactPage{}, err
	}
	at, id := after.before(1)
	convs, err := s.search.OfContact(ctx, p, int64(c.ID), at, id, in.Limit+1)
	if err != nil {
		return ContactPage{}, err
	}
	at, id = after.before(0)
	tickets, err := s.contacts.Tickets(ctx, p, c.ID, at, id, in.Limit+1)
	if err != nil {
		return ContactPage{}, err
	}
	acts := make([]Activity, 0, len(convs)+len(tickets))
	for i := range convs {
		acts = append(acts, Activity{Kind: "conversation", Conversation: &convs[i],
			key: activityKey{convs[i].QueuedAt, 1, int64(convs[i].ID)}})
	}
	for i := range tickets {
		acts = append(acts, Activity{Kind: "ticket", Ticket: &tickets[i],
			key: activityKey{tickets[i].CreatedAt, 0, tickets[i].ID}})
	}
	slices.SortFunc(acts, func(a, b Activity) int { return b.key.compare(a.key) })
	page := ContactPage{Contact: c, Changes: changes, Activities: acts}
	if len(acts) > in.Limit {
		page.Activities = acts[:in.Limit]
		page.Cursor = acts[in.Limit-1].key.String()
	}
	return page, nil
}
