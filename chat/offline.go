package chat

import (
	"context"

	"parley/auth"
	"parley/chat/conversation"
)

// OfflineInput is the offline form (chat/conversation).
type OfflineInput = conversation.OfflineInput

// StateOffline is a message left with the offline form.
const StateOffline = conversation.StateOffline

// Offline stores what a customer sent with its widget queue's offline
// form, and the e-mail to the queue's offline address in the same
// transaction.
func (s *Service) Offline(ctx context.Context, p auth.Principal, in OfflineInput) (Conversation, error) {
	return s.conv.Offline(ctx, p, in)
}
