package signaling

import (
	"context"

	"parley/auth"
)

// registerSteer maps a supervisor's requests on chats and agents:
// assigning a chat, pausing and signing out an agent (docs/protocol.md,
// "Transfers" and "Supervisor actions"). Staff may ask; chat refuses
// agents.
func registerSteer(r *Router, c chatHandlers, staff []auth.Role) {
	r.Handle("chat.assign", c.assign, staff...)
	r.Handle("chat.assign_targets", c.assignTargets, staff...)
	r.Handle("agent.pause", c.pause, staff...)
	r.Handle("agent.logout", c.logout, staff...)
	r.Handle("agent.info", c.agentInfo, staff...)
}

func (c chatHandlers) agentInfo(ctx context.Context, req *Request) (any, error) {
	var in struct {
		UserID auth.UserID `json:"user_id"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return c.svc.AgentInfo(ctx, req.Principal(), in.UserID)
}

func (c chatHandlers) assign(ctx context.Context, req *Request) (any, error) {
	var in teamRequest
	if err := bindTeam(req, &in); err != nil {
		return nil, err
	}
	return c.svc.Assign(ctx, req.Principal(), in.ConversationID, in.TeamTarget)
}

func (c chatHandlers) assignTargets(ctx context.Context, req *Request) (any, error) {
	var in conversationRef
	if err := bindRef(req, &in); err != nil {
		return nil, err
	}
	return c.svc.AssignTargets(ctx, req.Principal(), in.ConversationID)
}

func (c chatHandlers) pause(ctx context.Context, req *Request) (any, error) {
	var in struct {
		UserID auth.UserID `json:"user_id"`
		Reason string      `json:"reason"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	st, err := c.svc.Pause(ctx, req.Principal(), in.UserID, in.Reason)
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": st}, nil
}

func (c chatHandlers) logout(ctx context.Context, req *Request) (any, error) {
	var in struct {
		UserID auth.UserID  `json:"user_id"`
		To     *auth.UserID `json:"to"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	chats, err := c.svc.Logout(ctx, req.Principal(), in.UserID, in.To)
	if err != nil {
		return nil, err
	}
	return map[string]any{"chats": chats}, nil
}
