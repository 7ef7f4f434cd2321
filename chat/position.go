package chat

import (
	"context"

	"parley/auth"
	"parley/chat/conversation"
)

// Position is where a conversation's numbering stands for one reader.
type Position = conversation.Position

// MaxPositions is how many conversations one Positions call may name.
const MaxPositions = conversation.MaxPositions

// Positions answers the last seq of each of the conversations ids that p
// may read, in p's numbering; the others are left out.
func (s *Service) Positions(ctx context.Context, p auth.Principal, ids []ConversationID) ([]Position, error) {
	return s.conv.Positions(ctx, p, ids)
}
