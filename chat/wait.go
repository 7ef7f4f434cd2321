package chat

import (
	"context"

	"parley/auth"
	"parley/chat/routing"
)

// QueuePosition is where a waiting chat stands in its queue, as its
// customer is told (chat.queue_position).
type QueuePosition = routing.QueuePosition

// QueuePosition answers where customer p's chat id stands in its queue
// now; a chat that no longer waits has no position.
func (s *Service) QueuePosition(ctx context.Context, p auth.Principal, id ConversationID) (QueuePosition, error) {
	return s.router.QueuePosition(ctx, p, id)
}
