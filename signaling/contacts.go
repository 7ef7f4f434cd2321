package signaling

import (
	"context"

	"parley/auth"
	"parley/chat"
)

// registerContacts maps the contacts' requests and the pairing of chats
// with them (docs/protocol.md, "Contacts (staff)"): staff only, so
// customers and guests are answered forbidden; the chat service decides
// the rest.
func registerContacts(r *Router, c chatHandlers, staff []auth.Role) {
	r.Handle("contact.search", c.contactSearch, staff...)
	r.Handle("contact.get", c.contactGet, staff...)
	r.Handle("contact.create", c.contactCreate, staff...)
	r.Handle("contact.update", c.contactUpdate, staff...)
	r.Handle("chat.pair", c.pair, staff...)
	r.Handle("chat.unpair", c.unpair, staff...)
}

type contactRef struct {
	ContactID chat.ContactID `json:"contact_id"`
}

func (ref contactRef) check() error {
	if ref.ContactID <= 0 {
		return BadRequest(`"contact_id" is required`)
	}
	return nil
}

func (c chatHandlers) contactSearch(ctx context.Context, req *Request) (any, error) {
	var in struct {
		Query *string `json:"query"`
		Limit int     `json:"limit"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.Query == nil {
		return nil, BadRequest(`"query" is required`)
	}
	cs, err := c.svc.SearchContacts(ctx, req.Principal(), *in.Query, in.Limit)
	if err != nil {
		return nil, err
	}
	return map[string]any{"contacts": cs}, nil
}

func (c chatHandlers) contactGet(ctx context.Context, req *Request) (any, error) {
	var in chat.ContactGetInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if err := (contactRef{in.ContactID}).check(); err != nil {
		return nil, err
	}
	return c.svc.GetContact(ctx, req.Principal(), in)
}

func (c chatHandlers) contactCreate(ctx context.Context, req *Request) (any, error) {
	var in chat.ContactCreateInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID < 0 {
		return nil, BadRequest(`"conversation_id" must be a chat's id`)
	}
	return c.svc.CreateContact(ctx, req.Principal(), in)
}

func (c chatHandlers) contactUpdate(ctx context.Context, req *Request) (any, error) {
	var in struct {
		contactRef
		chat.ContactInput
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	return c.svc.UpdateContact(ctx, req.Principal(), in.ContactID, in.ContactInput)
}

func (c chatHandlers) pair(ctx context.Context, req *Request) (any, error) {
	var in struct {
		conversationRef
		contactRef
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	if err := in.contactRef.check(); err != nil {
		return nil, err
	}
	return c.svc.Pair(ctx, req.Principal(), in.ConversationID, in.ContactID)
}

func (c chatHandlers) unpair(ctx context.Context, req *Request) (any, error) {
	var in conversationRef
	if err := bindRef(req, &in); err != nil {
		return nil, err
	}
	return c.svc.Unpair(ctx, req.Principal(), in.ConversationID)
}
