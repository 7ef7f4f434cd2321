package signaling

import (
	"context"

	"parley/auth"
	"parley/chat"
	"parley/chat/floor"
)

// RegisterFloor maps the supervisor.* requests of the live floor
// (docs/protocol.md, "Supervisors") onto f. Every principal reaches f,
// which refuses all but supervisors and admins in its own words.
func RegisterFloor(r *Router, f *floor.Floor) {
	h := floorHandlers{f}
	r.Handle("supervisor.floor", h.watch)
	r.Handle("supervisor.closed", h.closed)
	r.Handle("supervisor.agent", h.agent)
}

type floorHandlers struct{ f *floor.Floor }

// watch answers the snapshot and subscribes the connection to the
// supervisor.floor events until it ends.
func (h floorHandlers) watch(ctx context.Context, req *Request) (any, error) {
	return h.f.Watch(ctx, req.Principal(), req.Conn)
}

func (h floorHandlers) closed(ctx context.Context, req *Request) (any, error) {
	if err := floor.Refuse(req.Principal()); err != nil {
		return nil, err
	}
	var in struct {
		Day    string              `json:"day"`
		Before chat.ConversationID `json:"before"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return h.f.Closed(ctx, req.Principal(), in.Day, in.Before)
}

func (h floorHandlers) agent(ctx context.Context, req *Request) (any, error) {
	if err := floor.Refuse(req.Principal()); err != nil {
		return nil, err
	}
	var in struct {
		UserID auth.UserID `json:"user_id"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.UserID <= 0 {
		return nil, BadRequest(`"user_id" is required`)
	}
	return h.f.Agent(ctx, req.Principal(), in.UserID)
}
