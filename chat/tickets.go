package chat

import (
	"context"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/crm"
	"parley/chat/search"
)

// The tickets' names, for chat's callers (chat/crm).
type (
	Ticket            = crm.Ticket
	TicketID          = crm.TicketID
	TicketEvent       = crm.Event
	TicketPage        = crm.Page
	TicketCounts      = crm.Counts
	TicketSearch      = crm.SearchInput
	TicketCreateInput = crm.CreateInput
	TicketUpdateInput = crm.UpdateInput
	TicketReplyInput  = crm.ReplyInput
)

// Nullable is a JSON field that may be absent, null or a value.
type Nullable[T any] = crm.Nullable[T]

// TicketThread is ticket.get's answer: the ticket, the chat it came from
// with its whole transcript (as history.get gives it), the ticket's own
// events, and the chats linked to it.
type TicketThread struct {
	Ticket       Ticket                      `json:"ticket"`
	Conversation *conversation.Conversation  `json:"conversation"`
	Transcript   []search.Entry              `json:"transcript"`
	Events       []TicketEvent               `json:"events"`
	Chats        []conversation.Conversation `json:"chats"`
}

// SearchTickets finds the tickets p may see that pass in's filters.
func (s *Service) SearchTickets(ctx context.Context, p auth.Principal, in TicketSearch) (TicketPage, error) {
	return s.tickets.Search(ctx, p, in)
}

// TicketCounts counts the tickets p may see for the supervisor console.
func (s *Service) TicketCounts(ctx context.Context, p auth.Principal) (TicketCounts, error) {
	return s.tickets.Counts(ctx, p)
}

// GetTicket is ticket id's thread, for p who may see the ticket. Seeing
// the ticket is enough to read the chat it came from and the chats linked
// to it: they are its thread.
func (s *Service) GetTicket(ctx context.Context, p auth.Principal, id TicketID) (TicketThread, error) {
	th, err := s.tickets.Get(ctx, p, id)
	if err != nil {
		return TicketThread{}, err
	}
	out := TicketThread{Ticket: th.Ticket, Events: th.Events, Transcript: []search.Entry{},
		Chats: []conversation.Conversation{}}
	if out.Events == nil {
		out.Events = []TicketEvent{}
	}
	if cid := th.Ticket.ConversationID; cid != nil {
		c, err := conversation.Get(ctx, s.pool, conversation.ID(*cid), false)
		if err != nil {
			return TicketThread{}, err
		}
		evs, err := conversation.Transcript(ctx, s.pool, c.ID)
		if err != nil {
			return TicketThread{}, err
		}
		for _, ev := range evs {
			out.Transcript = append(out.Transcript, search.Entry{Event: ev, OffsetMS: ev.Time.Sub(c.QueuedAt).Milliseconds()})
		}
		out.Conversation = &c
	}
	for _, cid := range th.Chats {
		c, err := conversation.Get(ctx, s.pool, conversation.ID(cid), false)
		if err != nil {
			return TicketThread{}, err
		}
		out.Chats = append(out.Chats, c)
	}
	return out, nil
}

// CreateTicket makes a ticket: from chat in.ConversationID, which p may
// read (and then links it), or by hand.
func (s *Service) CreateTicket(ctx context.Context, p auth.Principal, in TicketCreateInput) (Ticket, error) {
	if in.ConversationID <= 0 {
		return s.tickets.Create(ctx, p, in)
	}
	id, err := s.conv.CreateTicket(ctx, p, in)
	if err != nil {
		return Ticket{}, err
	}
	th, err := s.tickets.Get(ctx, p, id)
	if err != nil {
		return Ticket{}, err
	}
	return th.Ticket, nil
}

// UpdateTicket changes a ticket's title, priority, e-mail or contact.
func (s *Service) UpdateTicket(ctx context.Context, p auth.Principal, in TicketUpdateInput) (Ticket, error) {
	return s.tickets.Update(ctx, p, in)
}

// AssignTicket assigns ticket id to user, or unassigns it (nil).
func (s *Service) AssignTicket(ctx context.Context, p auth.Principal, id TicketID, user *auth.UserID) (Ticket, error) {
	return s.tickets.Assign(ctx, p, id, user)
}

// CloseTicket closes ticket id.
func (s *Service) CloseTicket(ctx context.Context, p auth.Principal, id TicketID) (Ticket, error) {
	return s.tickets.Close(ctx, p, id)
}

// ReopenTicket opens closed ticket id again.
func (s *Service) ReopenTicket(ctx context.Context, p auth.Principal, id TicketID) (Ticket, error) {
	return s.tickets.Reopen(ctx, p, id)
}

// ReplyTicket e-mails a reply to the ticket's customer.
func (s *Service) ReplyTicket(ctx context.Context, p auth.Principal, in TicketReplyInput) (TicketEvent, error) {
	return s.tickets.Reply(ctx, p, in)
}

// NoteTicket adds a note for staff to ticket id.
func (s *Service) NoteTicket(ctx context.Context, p auth.Principal, id TicketID, text string) (TicketEvent, error) {
	return s.tickets.Note(ctx, p, id, text)
}

// FavouriteTicket stars or unstars ticket id for p.
func (s *Service) FavouriteTicket(ctx context.Context, p auth.Principal, id TicketID, on bool) (Ticket, error) {
	return s.tickets.Favourite(ctx, p, id, on)
}

// LinkTicket links chat id to ticket, or unlinks it (nil); answers the
// chat, which then carries the ticket.
func (s *Service) LinkTicket(ctx context.Context, p auth.Principal, id ConversationID, ticket *TicketID) (Conversation, error) {
	return s.conv.LinkTicket(ctx, p, id, ticket)
}
