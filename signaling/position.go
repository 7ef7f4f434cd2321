package signaling

import (
	"context"

	"parley/chat"
)

// position answers chat.position: where each conversation the client
// names stands, so a client that follows them learns of events its bus
// lost. Those it may not read are left out.
func (c chatHandlers) position(ctx context.Context, req *Request) (any, error) {
	var in struct {
		ConversationIDs []chat.ConversationID `json:"conversation_ids"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	ps, err := c.svc.Positions(ctx, req.Principal(), in.ConversationIDs)
	if err != nil {
		return nil, err
	}
	return map[string]any{"positions": ps}, nil
}
