package signaling

import (
	"context"

	"parley/auth"
	"parley/chat"
)

// registerTickets maps the ticket.* requests (docs/protocol.md, "Tickets
// (staff)"): staff only (customers and guests are told forbidden); the
// chat service decides which tickets each may see and change.
func registerTickets(r *Router, c chatHandlers, staff []auth.Role) {
	r.Handle("ticket.search", c.ticketSearch, staff...)
	r.Handle("ticket.counts", c.ticketCounts, staff...)
	r.Handle("ticket.get", c.ticketGet, staff...)
	r.Handle("ticket.create", c.ticketCreate, staff...)
	r.Handle("ticket.update", c.ticketUpdate, staff...)
	r.Handle("ticket.assign", c.ticketAssign, staff...)
	r.Handle("ticket.close", c.ticketClose, staff...)
	r.Handle("ticket.reopen", c.ticketReopen, staff...)
	r.Handle("ticket.reply", c.ticketReply, staff...)
	r.Handle("ticket.note", c.ticketNote, staff...)
	r.Handle("ticket.favourite", c.ticketFavourite, staff...)
	r.Handle("ticket.link", c.ticketLink, staff...)
}

type ticketRef struct {
	TicketID chat.TicketID `json:"ticket_id"`
}

// bindTicket reads a request naming one ticket.
func bindTicket(req *Request, v any, id *chat.TicketID) error {
	if err := Bind(req.Data, v); err != nil {
		return err
	}
	if *id <= 0 {
		return BadRequest(`"ticket_id" is required: a ticket id (a positive number)`)
	}
	return nil
}

func (c chatHandlers) ticketSearch(ctx context.Context, req *Request) (any, error) {
	var in chat.TicketSearch
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return c.svc.SearchTickets(ctx, req.Principal(), in)
}

func (c chatHandlers) ticketCounts(ctx context.Context, req *Request) (any, error) {
	return c.svc.TicketCounts(ctx, req.Principal())
}

func (c chatHandlers) ticketGet(ctx context.Context, req *Request) (any, error) {
	var in ticketRef
	if err := bindTicket(req, &in, &in.TicketID); err != nil {
		return nil, err
	}
	return c.svc.GetTicket(ctx, req.Principal(), in.TicketID)
}

func (c chatHandlers) ticketCreate(ctx context.Context, req *Request) (any, error) {
	var in chat.TicketCreateInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return c.svc.CreateTicket(ctx, req.Principal(), in)
}

func (c chatHandlers) ticketUpdate(ctx context.Context, req *Request) (any, error) {
	var in chat.TicketUpdateInput
	if err := bindTicket(req, &in, &in.TicketID); err != nil {
		return nil, err
	}
	return c.svc.UpdateTicket(ctx, req.Principal(), in)
}

func (c chatHandlers) ticketAssign(ctx context.Context, req *Request) (any, error) {
	var in struct {
		ticketRef
		AssigneeID chat.Nullable[auth.UserID] `json:"assignee_id"`
	}
	if err := bindTicket(req, &in, &in.TicketID); err != nil {
		return nil, err
	}
	if !in.AssigneeID.Set {
		return nil, BadRequest(`"assignee_id" is required: a user id, or null to unassign`)
	}
	return c.svc.AssignTicket(ctx, req.Principal(), in.TicketID, in.AssigneeID.Value)
}

func (c chatHandlers) ticketClose(ctx context.Context, req *Request) (any, error) {
	var in ticketRef
	if err := bindTicket(req, &in, &in.TicketID); err != nil {
		return nil, err
	}
	return c.svc.CloseTicket(ctx, req.Principal(), in.TicketID)
}

func (c chatHandlers) ticketReopen(ctx context.Context, req *Request) (any, error) {
	var in ticketRef
	if err := bindTicket(req, &in, &in.TicketID); err != nil {
		return nil, err
	}
	return c.svc.ReopenTicket(ctx, req.Principal(), in.TicketID)
}

func (c chatHandlers) ticketReply(ctx context.Context, req *Request) (any, error) {
	var in chat.TicketReplyInput
	if err := bindTicket(req, &in, &in.TicketID); err != nil {
		return nil, err
	}
	return c.svc.ReplyTicket(ctx, req.Principal(), in)
}

func (c chatHandlers) ticketNote(ctx context.Context, req *Request) (any, error) {
	var in struct {
		ticketRef
		Text string `json:"text"`
	}
	if err := bindTicket(req, &in, &in.TicketID); err != nil {
		return nil, err
	}
	return c.svc.NoteTicket(ctx, req.Principal(), in.TicketID, in.Text)
}

func (c chatHandlers) ticketFavourite(ctx context.Context, req *Request) (any, error) {
	var in struct {
		ticketRef
		Favourite *bool `json:"favourite"`
	}
	if err := bindTicket(req, &in, &in.TicketID); err != nil {
		return nil, err
	}
	if in.Favourite == nil {
		return nil, BadRequest(`"favourite" is required: true or false`)
	}
	return c.svc.FavouriteTicket(ctx, req.Principal(), in.TicketID, *in.Favourite)
}

// ticketLink answers the chat, which carries the ticket now.
func (c chatHandlers) ticketLink(ctx context.Context, req *Request) (any, error) {
	var in struct {
		conversationRef
		TicketID chat.Nullable[chat.TicketID] `json:"ticket_id"`
	}
	if err := bindRef(req, &in.conversationRef); err != nil {
		return nil, err
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if !in.TicketID.Set {
		return nil, BadRequest(`"ticket_id" is required: a ticket id, or null to unlink`)
	}
	if v := in.TicketID.Value; v != nil && *v <= 0 {
		return nil, BadRequest(`"ticket_id" must be a ticket id (a positive number), or null to unlink`)
	}
	conv, err := c.svc.LinkTicket(ctx, req.Principal(), in.ConversationID, in.TicketID.Value)
	if err != nil {
		return nil, err
	}
	return map[string]any{"conversation": conv}, nil
}
