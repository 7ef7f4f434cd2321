package chat

import (
	"context"

	"parley/auth"
	"parley/chat/routing"
)

// The team's names and calls: invitations, leaving and transfers
// (chat/routing's team.go, chat/conversation's team.go).
type (
	TeamTarget    = routing.Target
	Invitation    = routing.Invitation
	QueueTransfer = routing.QueueTransfer
	Targets       = routing.Targets
	Colleague     = routing.Colleague
)

// Offer kinds.
const (
	OfferRoute    = routing.KindRoute
	OfferInvite   = routing.KindInvite
	OfferTransfer = routing.KindTransfer
)

// Invite asks a colleague, or an available agent of a queue, into p's
// chat id.
func (s *Service) Invite(ctx context.Context, p auth.Principal, id ConversationID, to TeamTarget) (Invitation, error) {
	return s.router.Invite(ctx, p, id, to)
}

// Transfer hands p's chat id to a colleague or a queue.
func (s *Service) Transfer(ctx context.Context, p auth.Principal, id ConversationID, to TeamTarget) (any, error) {
	return s.router.Transfer(ctx, p, id, to)
}

// CancelOffer withdraws the pending invitation or transfer (kind) of p's
// chat id.
func (s *Service) CancelOffer(ctx context.Context, p auth.Principal, id ConversationID, kind string) error {
	return s.router.Cancel(ctx, p, id, kind)
}

// Leave takes p out of chat id, leaving it to its other agents.
func (s *Service) Leave(ctx context.Context, p auth.Principal, id ConversationID) error {
	return s.conv.Leave(ctx, p, id)
}

// TransferTargets lists whom p may invite into or transfer chat id to now.
func (s *Service) TransferTargets(ctx context.Context, p auth.Principal, id ConversationID) (Targets, error) {
	return s.router.TransferTargets(ctx, p, id)
}
