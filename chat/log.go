package chat

import (
	"context"

	"parley/auth"
)

// The conversation log's calls (chat/conversation).

// Start opens the visitor's conversation in its queue, or returns the one
// it already has open.
func (s *Service) Start(ctx context.Context, p auth.Principal, in StartInput) (Conversation, []Event, error) {
	return s.conv.Start(ctx, p, in)
}

// Mine lists p's open conversations as p may see them.
func (s *Service) Mine(ctx context.Context, p auth.Principal) ([]Conversation, error) {
	return s.conv.Mine(ctx, p)
}

// Resume returns a conversation p may read and its events after seq.
func (s *Service) Resume(ctx context.Context, p auth.Principal, id ConversationID, after int) (Conversation, []Event, error) {
	return s.conv.Resume(ctx, p, id, after)
}

// Send stores a message and returns once it is committed.
func (s *Service) Send(ctx context.Context, p auth.Principal, in SendInput) (SendResult, error) {
	return s.conv.Send(ctx, p, in)
}

// Typing tells the other side of a conversation that p is typing.
func (s *Service) Typing(ctx context.Context, p auth.Principal, id ConversationID, typing, private bool) error {
	return s.conv.Typing(ctx, p, id, typing, private)
}

// Close ends a conversation, or wraps up one the customer ended.
func (s *Service) Close(ctx context.Context, p auth.Principal, id ConversationID, status string) error {
	return s.conv.Close(ctx, p, id, status)
}

// History returns the customer's earlier conversations, newest first.
func (s *Service) History(ctx context.Context, p auth.Principal, id, before ConversationID, limit int) ([]HistoryEntry, bool, error) {
	return s.conv.History(ctx, p, id, before, limit)
}

// RoomAccess says whether and how p may use the room of conversation id.
func (s *Service) RoomAccess(ctx context.Context, p auth.Principal, id ConversationID) (RoomAccess, error) {
	return s.conv.RoomAccess(ctx, p, id)
}

// RoomEvent writes what happened in the conversation's video room to its
// transcript.
func (s *Service) RoomEvent(ctx context.Context, id ConversationID, kind string, p auth.Principal, roomID string, private bool) error {
	return s.conv.RoomEvent(ctx, id, kind, p, roomID, private)
}
