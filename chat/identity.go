package chat

import (
	"context"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Verified identity (chat/conversation/identity.go): the queues' secrets
// and what a company's backend signs with them.
type (
	QueueSecret = queues.Secret
	Identity    = conversation.Identity
)

// SignIdentity is the token for id under secret, as a company's backend
// makes it (docs/protocol.md, "Verified identity").
func SignIdentity(secret string, id Identity) string { return conversation.SignIdentity(secret, id) }

// QueueSecret is queue key's identity secret, for admins; a queue that
// has none gets one now.
func (s *Service) QueueSecret(ctx context.Context, p auth.Principal, key string) (QueueSecret, error) {
	return s.queues.QueueSecret(ctx, p, key)
}

// RotateQueueSecret gives queue key a new identity secret, for admins;
// the one it replaces verifies for queues.SecretGrace more.
func (s *Service) RotateQueueSecret(ctx context.Context, p auth.Principal, key string) (QueueSecret, error) {
	return s.queues.RotateSecret(ctx, p, key)
}
