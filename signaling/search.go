package signaling

import (
	"context"

	"parley/auth"
	"parley/chat"
)

// registerSearch maps the history's requests (docs/protocol.md, "History
// (staff)"): staff only; the chat service decides which conversations each
// may find.
func registerSearch(r *Router, c chatHandlers, staff []auth.Role) {
	r.Handle("history.search", c.historySearch, staff...)
	r.Handle("history.get", c.historyGet, staff...)
	r.Handle("history.filters", c.historyFilters, staff...)
	r.Handle("chat.mark", c.mark, staff...)
}

func (c chatHandlers) historySearch(ctx context.Context, req *Request) (any, error) {
	var q chat.SearchQuery
	if err := Bind(req.Data, &q); err != nil {
		return nil, err
	}
	return c.svc.SearchHistory(ctx, req.Principal(), q)
}

func (c chatHandlers) historyGet(ctx context.Context, req *Request) (any, error) {
	var in conversationRef
	if err := bindRef(req, &in); err != nil {
		return nil, err
	}
	return c.svc.HistoryTranscript(ctx, req.Principal(), in.ConversationID)
}

func (c chatHandlers) historyFilters(ctx context.Context, req *Request) (any, error) {
	qs, agents, err := c.svc.HistoryFilters(ctx, req.Principal())
	if err != nil {
		return nil, err
	}
	return map[string]any{"queues": qs, "agents": agents}, nil
}

type markRequest struct {
	conversationRef
	Important *bool `json:"important"`
}

func (c chatHandlers) mark(ctx context.Context, req *Request) (any, error) {
	var in markRequest
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	if in.Important == nil {
		return nil, BadRequest(`"important" is required: true or false`)
	}
	if err := c.svc.MarkImportant(ctx, req.Principal(), in.ConversationID, *in.Important); err != nil {
		return nil, err
	}
	return map[string]any{"conversation_id": in.ConversationID, "important": *in.Important}, nil
}
