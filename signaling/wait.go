package signaling

import (
	"context"

	"parley/auth"
)

// registerWait maps chat.queue_position: where a waiting customer's chat
// stands in its queue, asked by the widget on start, resume and resync
// (the changes come as chat.queue_position events).
func registerWait(r *Router, c chatHandlers) {
	r.Handle("chat.queue_position", c.queuePosition, auth.RoleCustomer)
}

func (c chatHandlers) queuePosition(ctx context.Context, req *Request) (any, error) {
	var in conversationRef
	if err := bindRef(req, &in); err != nil {
		return nil, err
	}
	return c.svc.QueuePosition(ctx, req.Principal(), in.ConversationID)
}
