package signaling

import (
	"context"

	"parley/auth"
)

// registerCanned maps canned.list (docs/protocol.md, "Canned responses"):
// staff only; the chat service answers the caller's queues' responses.
func registerCanned(r *Router, c chatHandlers, staff []auth.Role) {
	r.Handle("canned.list", c.cannedList, staff...)
}

func (c chatHandlers) cannedList(ctx context.Context, req *Request) (any, error) {
	list, err := c.svc.CannedFor(ctx, req.Principal())
	if err != nil {
		return nil, err
	}
	return map[string]any{"canned": list}, nil
}
