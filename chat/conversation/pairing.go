package conversation

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/crm"
	"parley/chat/queues"
)

// Pairing a chat with a contact (chat/crm's contacts_pair.go has the
// rule): automatically in Start's transaction, by hand with chat.pair and
// chat.unpair. A change by hand is a private event (contact_paired,
// contact_unpaired), so staff following the chat see it live and in its
// history, and the customer never does.

// Event kinds of pairing by hand (private).
const (
	KindContactPaired   = "contact_paired"
	KindContactUnpaired = "contact_unpaired"
)

// ContactName names the contact of a contact_paired event.
type ContactName struct {
	ID   crm.ContactID `json:"id"`
	Name string        `json:"name"`
}

// crmIdentity is v, with the name and e-mail the chat starts with, as
// chat/crm pairs by it.
func (v verified) crmIdentity(in StartInput) crm.Identity {
	return crm.Identity{ExternalID: v.ID, Name: in.Name, Email: in.Email, NameVerified: v.Name, EmailVerified: v.Email}
}

// pairAtStart pairs chat id, which p is starting in tx, by chat/crm's
// rule, and says whether it paired it with a contact.
func pairAtStart(ctx context.Context, tx pgx.Tx, p auth.Principal, id ID, v verified, in StartInput) (bool, error) {
	by, err := crm.PairAtStart(ctx, tx, int64(id), p.Subject, v.crmIdentity(in))
	return by != "", err
}

// Paired is the answer to chat.pair and chat.unpair: the chat's contact
// now, nil when unpaired.
type Paired struct {
	ConversationID ID          `json:"conversation_id"`
	Contact        *ContactRef `json:"contact"`
}

// Pair pairs chat id, which staff member p may read, with contact.
func (s *Log) Pair(ctx context.Context, p auth.Principal, id ID, contact crm.ContactID) (Paired, error) {
	return s.PairWith(ctx, p, id, func(tx pgx.Tx) (ContactName, error) {
		name, err := crm.Pair(ctx, tx, int64(id), contact)
		return ContactName{contact, name}, err
	})
}

// PairWith pairs chat id, which staff member p may read, with the contact
// pair answers: pair runs in the transaction that records the pairing
// (it pairs, or makes a contact and pairs: contact.create with a chat).
func (s *Log) PairWith(ctx context.Context, p auth.Principal, id ID, pair func(pgx.Tx) (ContactName, error)) (Paired, error) {
	return s.changePairing(ctx, p, id, func(tx pgx.Tx) (Event, bool, error) {
		named, err := pair(tx)
		return Event{Kind: KindContactPaired, Contact: &named}, true, err
	})
}

// Unpair leaves chat id, which staff member p may read, unpaired. A chat
// that was not paired is answered as it is, with no event.
func (s *Log) Unpair(ctx context.Context, p auth.Principal, id ID) (Paired, error) {
	return s.changePairing(ctx, p, id, func(tx pgx.Tx) (Event, bool, error) {
		was, err := crm.Unpair(ctx, tx, int64(id))
		return Event{Kind: KindContactUnpaired}, was, err
	})
}

// changePairing checks that p may read chat id, then in one transaction
// changes its pairing (change answers the event to record, and whether
// to record it) and records the private event, and publishes it to staff.
func (s *Log) changePairing(ctx context.Context, p auth.Principal, id ID, change func(pgx.Tx) (Event, bool, error)) (Paired, error) {
	if err := crm.Staff(p); err != nil {
		return Paired{}, err
	}
	c, q, a, err := s.readable(ctx, p, id)
	if err != nil {
		return Paired{}, err
	}
	if !a.ReadPrivate {
		return Paired{}, queues.ErrNotFound
	}
	unlock := s.Lock(id)
	defer unlock()
	var ev Event
	var record bool
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := Get(ctx, tx, id, true); err != nil {
			return err
		}
		if ev, record, err = change(tx); err != nil || !record {
			return err
		}
		ev.ConversationID, ev.Author, ev.Private = id, AuthorOf(p, c), true
		if err := Append(ctx, tx, &ev); err != nil {
			return err
		}
		c, err = Get(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return Paired{}, err
	}
	if record {
		s.Publish(q, ev)
	}
	return Paired{ConversationID: id, Contact: c.Contact}, nil
}
