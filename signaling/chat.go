package signaling

import (
	"context"
	"slices"

	"parley/auth"
	"parley/chat"
)

// RegisterChat maps the chat.*, queue.* and agent.* request types onto the
// chat service, and tells it when principals come and go.
func RegisterChat(r *Router, h *Hub, svc *chat.Service) {
	c := chatHandlers{svc}
	staff := []auth.Role{auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin}
	r.Handle("chat.start", c.start, auth.RoleCustomer)
	r.Handle("chat.mine", c.mine, append(staff, auth.RoleCustomer)...)
	r.Handle("chat.resume", c.resume, append(staff, auth.RoleCustomer)...)
	r.Handle("chat.position", c.position, append(staff, auth.RoleCustomer)...)
	r.Handle("chat.send", c.send, append(staff, auth.RoleCustomer)...)
	r.Handle("chat.typing", c.typing, append(staff, auth.RoleCustomer)...)
	r.Handle("chat.close", c.close, append(staff, auth.RoleCustomer)...)
	r.Handle("chat.accept", c.accept, staff...)
	r.Handle("chat.reject", c.reject, staff...)
	r.Handle("chat.history", c.history, staff...)
	r.Handle("queue.waiting", c.waiting, staff...)
	r.Handle("agent.state", c.state, staff...)
	r.Handle("agent.status", c.status, staff...)
	registerTeam(r, c, staff)
	registerComments(r, c, staff)
	registerFeedback(r, c)
	registerWait(r, c)
	registerSteer(r, c, staff)
	registerSearch(r, c, staff)
	registerCanned(r, c, staff)
	registerTickets(r, c, staff)
	registerContacts(r, c, staff)
	h.Observe(svc)
}

type chatHandlers struct{ svc *chat.Service }

type conversationRef struct {
	ConversationID chat.ConversationID `json:"conversation_id"`
}

func bindRef(req *Request, v *conversationRef) error {
	if err := Bind(req.Data, v); err != nil {
		return err
	}
	if v.ConversationID <= 0 {
		return BadRequest(`"conversation_id" is required`)
	}
	return nil
}

type conversationWithEvents struct {
	Conversation chat.Conversation `json:"conversation"`
	Events       []chat.Event      `json:"events"`
}

// follow subscribes the connection to a conversation it may read.
func follow(req *Request, id chat.ConversationID) error {
	return req.Conn.Subscribe(chat.Subject(req.Principal(), id))
}

// unfollow undoes follow when the read after it finds that access has
// ended: the end may have been told before the subscription was made.
func unfollow(req *Request, id chat.ConversationID) {
	req.Conn.Unsubscribe(chat.Subject(req.Principal(), id))
}

// start opens the chat, subscribes, then reads every event: anything that
// happened between the two (a fast offer and accept) is in the answer or
// arrives live, never neither.
func (c chatHandlers) start(ctx context.Context, req *Request) (any, error) {
	var in chat.StartInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	conv, _, err := c.svc.Start(ctx, req.Principal(), in)
	if err != nil {
		return nil, err
	}
	return c.followAndRead(ctx, req, conv.ID)
}

// followAndRead subscribes the connection to a conversation it may read,
// then reads its events: subscribe first, so nothing falls in between.
func (c chatHandlers) followAndRead(ctx context.Context, req *Request, id chat.ConversationID) (any, error) {
	if err := follow(req, id); err != nil {
		return nil, err
	}
	conv, evs, err := c.svc.Resume(ctx, req.Principal(), id, 0)
	if err != nil {
		unfollow(req, id)
		return nil, err
	}
	return conversationWithEvents{conv, evs}, nil
}

func (c chatHandlers) mine(ctx context.Context, req *Request) (any, error) {
	cs, err := c.svc.Mine(ctx, req.Principal())
	if err != nil {
		return nil, err
	}
	return map[string]any{"conversations": cs}, nil
}

// resume checks access, subscribes, then reads: an event committed in
// between arrives twice at most, never not at all (clients drop seqs they
// have shown). The read checks access again, so an access that ended
// between the check and the subscription leaves no subscription behind.
func (c chatHandlers) resume(ctx context.Context, req *Request) (any, error) {
	var in struct {
		conversationRef
		AfterSeq int `json:"after_seq"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	if in.AfterSeq < 0 {
		return nil, BadRequest(`"after_seq" must be 0 or more`)
	}
	p := req.Principal()
	if _, _, err := c.svc.Resume(ctx, p, in.ConversationID, 1<<31-1); err != nil {
		return nil, err
	}
	if err := follow(req, in.ConversationID); err != nil {
		return nil, err
	}
	conv, evs, err := c.svc.Resume(ctx, p, in.ConversationID, in.AfterSeq)
	if err != nil {
		unfollow(req, in.ConversationID)
		return nil, err
	}
	return conversationWithEvents{conv, evs}, nil
}

func (c chatHandlers) send(ctx context.Context, req *Request) (any, error) {
	var in chat.SendInput
	if err := bindSend(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	return c.svc.Send(ctx, req.Principal(), in)
}

func (c chatHandlers) typing(ctx context.Context, req *Request) (any, error) {
	var in struct {
		conversationRef
		Typing  bool `json:"typing"`
		Private bool `json:"private"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	return nil, c.svc.Typing(ctx, req.Principal(), in.ConversationID, in.Typing, in.Private)
}

func (c chatHandlers) close(ctx context.Context, req *Request) (any, error) {
	var in struct {
		conversationRef
		Status string `json:"status"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	return nil, c.svc.Close(ctx, req.Principal(), in.ConversationID, in.Status)
}

func (c chatHandlers) accept(ctx context.Context, req *Request) (any, error) {
	var in conversationRef
	if err := bindRef(req, &in); err != nil {
		return nil, err
	}
	// Taken, then followed and read: what happens between is in the
	// answer or arrives live.
	if err := c.svc.Take(ctx, req.Principal(), in.ConversationID); err != nil {
		return nil, err
	}
	return c.followAndRead(ctx, req, in.ConversationID)
}

func (c chatHandlers) reject(ctx context.Context, req *Request) (any, error) {
	var in conversationRef
	if err := bindRef(req, &in); err != nil {
		return nil, err
	}
	return nil, c.svc.Reject(ctx, req.Principal(), in.ConversationID)
}

func (c chatHandlers) history(ctx context.Context, req *Request) (any, error) {
	var in struct {
		conversationRef
		Before chat.ConversationID `json:"before"`
		Limit  int                 `json:"limit"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	entries, more, err := c.svc.History(ctx, req.Principal(), in.ConversationID, in.Before, in.Limit)
	if err != nil {
		return nil, err
	}
	return map[string]any{"conversations": entries, "more": more}, nil
}

// waiting subscribes to the waiting lists of p's queues, then reads them:
// an entry that changes in between arrives live. Queues p has left in
// between (the read no longer lists them) are dropped again.
func (c chatHandlers) waiting(ctx context.Context, req *Request) (any, error) {
	before, err := c.svc.WaitingQueues(ctx, req.Principal())
	if err != nil {
		return nil, err
	}
	for _, q := range before {
		if err := req.Conn.Subscribe(chat.WaitingSubject(q)); err != nil {
			return nil, err
		}
	}
	entries, queues, err := c.svc.Waiting(ctx, req.Principal())
	if err != nil {
		return nil, err
	}
	for _, q := range before {
		if !slices.Contains(queues, q) {
			req.Conn.Unsubscribe(chat.WaitingSubject(q))
		}
	}
	for _, q := range queues {
		if err := req.Conn.Subscribe(chat.WaitingSubject(q)); err != nil {
			return nil, err
		}
	}
	return map[string]any{"entries": entries}, nil
}

func (c chatHandlers) state(ctx context.Context, req *Request) (any, error) {
	return c.svc.State(ctx, req.Principal())
}

func (c chatHandlers) status(ctx context.Context, req *Request) (any, error) {
	var in struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return c.svc.SetStatus(ctx, req.Principal(), in.Status, in.Reason)
}
