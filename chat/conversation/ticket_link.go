package conversation

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/crm"
	"parley/chat/queues"
)

// A chat and a ticket (chat/crm): a ticket made from a chat, and a chat
// linked to a ticket ("assign the ticket to the chat"), set the chat's
// ticket_id, which the staff's Conversation carries as Ticket, and write
// a private ticket_linked event (naming the ticket, or none when the chat
// was unlinked) that every staff member following the chat sees live; the ticket gets its own event in
// the same transaction.

// KindTicketLinked (private): staff linked the chat to a ticket
// (Ticket), or unlinked it (Ticket nil).
const KindTicketLinked = "ticket_linked"

// EventTicket names the ticket of a ticket_linked event.
type EventTicket struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
}

// CreateTicket makes a ticket from chat in.ConversationID, which p reads
// as staff: its queue, contact, customer and e-mail are the chat's, and
// the chat is linked to it. Answers the ticket's id.
func (s *Log) CreateTicket(ctx context.Context, p auth.Principal, in crm.CreateInput) (crm.TicketID, error) {
	if !p.IsStaff() {
		return 0, queues.Detail(queues.ErrForbidden, "tickets are for staff")
	}
	id := ID(in.ConversationID)
	var tid, moved crm.TicketID
	err := s.withTicket(ctx, p, id, func(tx pgx.Tx, c Conversation) (*Event, error) {
		var err error
		origin := &crm.Origin{ConversationID: int64(c.ID), QueueID: c.Queue.ID, CustomerName: c.Customer.Name,
			CustomerEmail: c.Customer.Email}
		if c.Contact != nil {
			origin.ContactID = &c.Contact.ID
		}
		if tid, err = crm.CreateTx(ctx, tx, p, in, origin); err != nil {
			return nil, err
		}
		if c.Ticket != nil { // the ticket it had loses it
			if moved, err = unlinkOld(ctx, tx, p, c); err != nil {
				return nil, err
			}
		}
		ev := Event{ConversationID: id, Kind: KindTicketLinked, Author: AuthorOf(p, c), Private: true,
			Ticket: &EventTicket{int64(tid), in.Title}}
		_, err = tx.Exec(ctx, `UPDATE conversations SET ticket_id = $2 WHERE id = $1`, id, tid)
		return &ev, err
	})
	if err != nil {
		return 0, err
	}
	tickets := crm.NewTickets(s.pool, s.bus, s.log)
	tickets.Tell(ctx, tid)
	if moved != 0 {
		tickets.Tell(ctx, moved)
	}
	return tid, nil
}

// LinkTicket links chat id, which p reads as staff, to ticket (one p may
// see), or unlinks it from its ticket when ticket is nil. Linking the
// ticket it has is a conflict; unlinking a chat without one does nothing.
// Answers the chat.
func (s *Log) LinkTicket(ctx context.Context, p auth.Principal, id ID, ticket *crm.TicketID) (Conversation, error) {
	if !p.IsStaff() {
		return Conversation{}, queues.Detail(queues.ErrForbidden, "tickets are for staff")
	}
	var told []crm.TicketID
	err := s.withTicket(ctx, p, id, func(tx pgx.Tx, c Conversation) (*Event, error) {
		if ticket == nil {
			if c.Ticket == nil {
				return nil, nil
			}
			old, err := unlinkOld(ctx, tx, p, c)
			if err != nil {
				return nil, err
			}
			if old != 0 {
				told = append(told, old)
			}
			ev := Event{ConversationID: id, Kind: KindTicketLinked, Author: AuthorOf(p, c), Private: true}
			_, err = tx.Exec(ctx, `UPDATE conversations SET ticket_id = NULL WHERE id = $1`, id)
			return &ev, err
		}
		if c.Ticket != nil && c.Ticket.ID == int64(*ticket) {
			return nil, queues.Conflict("the chat is already linked to ticket %d", *ticket)
		}
		if c.Ticket != nil {
			// Both tickets' rows, in the order of their ids, so that two
			// chats moving between the same tickets cannot deadlock.
			if err := crm.LockTx(ctx, tx, *ticket, crm.TicketID(c.Ticket.ID)); err != nil {
				return nil, err
			}
		}
		t, err := crm.LinkTx(ctx, tx, p, *ticket, int64(id), true)
		if err != nil {
			return nil, err
		}
		told = append(told, *ticket)
		if c.Ticket != nil {
			old, err := unlinkOld(ctx, tx, p, c)
			if err != nil {
				return nil, err
			}
			if old != 0 {
				told = append(told, old)
			}
		}
		ev := Event{ConversationID: id, Kind: KindTicketLinked, Author: AuthorOf(p, c), Private: true,
			Ticket: &EventTicket{int64(t.ID), t.Title}}
		_, err = tx.Exec(ctx, `UPDATE conversations SET ticket_id = $2 WHERE id = $1`, id, *ticket)
		return &ev, err
	})
	if err != nil {
		return Conversation{}, err
	}
	tickets := crm.NewTickets(s.pool, s.bus, s.log)
	for _, t := range told {
		tickets.Tell(ctx, t)
	}
	c, q, err := s.WithQueue(ctx, id)
	if err != nil {
		return Conversation{}, err
	}
	c, _ = s.View(p, q, c, nil)
	return c, nil
}

// unlinkOld writes in the thread of chat c's ticket, inside tx, that the
// chat left it, when p sees that ticket; it answers the ticket, 0 when p
// does not see it (the chat still leaves it, without a word there).
func unlinkOld(ctx context.Context, tx pgx.Tx, p auth.Principal, c Conversation) (crm.TicketID, error) {
	old := crm.TicketID(c.Ticket.ID)
	_, err := crm.LinkTx(ctx, tx, p, old, int64(c.ID), false)
	switch {
	case errors.Is(err, crm.ErrNoTicket):
		return 0, nil
	case err != nil:
		return 0, err
	}
	return old, nil
}

// withTicket runs f on chat id, which p must read with its private
// events, in one transaction under the chat's stripe, its row locked; the
// event f answers (nil for none) is appended there and published after
// the commit.
func (s *Log) withTicket(ctx context.Context, p auth.Principal, id ID, f func(pgx.Tx, Conversation) (*Event, error)) error {
	if id <= 0 {
		return queues.Bad(`"conversation_id" is required`)
	}
	_, _, a, err := s.readable(ctx, p, id)
	if err != nil {
		return err
	}
	if !a.ReadPrivate {
		return queues.ErrNotFound
	}
	unlock := s.Lock(id)
	defer unlock()
	var ev *Event
	var q queues.Queue
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if q, err = s.queue(ctx, c.Queue.ID); err != nil {
			return err
		}
		if ev, err = f(tx, c); err != nil || ev == nil {
			return err
		}
		return Append(ctx, tx, ev)
	})
	if err != nil {
		return err
	}
	if ev != nil {
		s.Publish(q, *ev)
	}
	return nil
}
