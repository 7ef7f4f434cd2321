package signaling

import (
	"context"

	"parley/auth"
	"parley/chat"
)

// registerTeam maps the requests by which agents work a chat together:
// invitations, leaving, transfers (docs/protocol.md, "Invites",
// "Leaving", "Transfers").
func registerTeam(r *Router, c chatHandlers, staff []auth.Role) {
	r.Handle("chat.invite", c.invite, staff...)
	r.Handle("chat.invite_cancel", c.cancel(chat.OfferInvite), staff...)
	r.Handle("chat.leave", c.leave, staff...)
	r.Handle("chat.transfer", c.transfer, staff...)
	r.Handle("chat.transfer_cancel", c.cancel(chat.OfferTransfer), staff...)
	r.Handle("chat.transfer_targets", c.transferTargets, staff...)
}

type teamRequest struct {
	conversationRef
	chat.TeamTarget
}

func bindTeam(req *Request, v *teamRequest) error {
	if err := Bind(req.Data, v); err != nil {
		return err
	}
	if v.ConversationID <= 0 {
		return BadRequest(`"conversation_id" is required`)
	}
	return nil
}

func (c chatHandlers) invite(ctx context.Context, req *Request) (any, error) {
	var in teamRequest
	if err := bindTeam(req, &in); err != nil {
		return nil, err
	}
	inv, err := c.svc.Invite(ctx, req.Principal(), in.ConversationID, in.TeamTarget)
	if err != nil {
		return nil, err
	}
	return map[string]any{"invitation": inv}, nil
}

func (c chatHandlers) transfer(ctx context.Context, req *Request) (any, error) {
	var in teamRequest
	if err := bindTeam(req, &in); err != nil {
		return nil, err
	}
	return c.svc.Transfer(ctx, req.Principal(), in.ConversationID, in.TeamTarget)
}

func (c chatHandlers) cancel(kind string) Handler {
	return func(ctx context.Context, req *Request) (any, error) {
		var in conversationRef
		if err := bindRef(req, &in); err != nil {
			return nil, err
		}
		return nil, c.svc.CancelOffer(ctx, req.Principal(), in.ConversationID, kind)
	}
}

func (c chatHandlers) leave(ctx context.Context, req *Request) (any, error) {
	var in conversationRef
	if err := bindRef(req, &in); err != nil {
		return nil, err
	}
	return nil, c.svc.Leave(ctx, req.Principal(), in.ConversationID)
}

func (c chatHandlers) transferTargets(ctx context.Context, req *Request) (any, error) {
	var in conversationRef
	if err := bindRef(req, &in); err != nil {
		return nil, err
	}
	return c.svc.TransferTargets(ctx, req.Principal(), in.ConversationID)
}
