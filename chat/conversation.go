package chat

import (
	"context"

	"parley/auth"
	"parley/chat/conversation"
)

// The conversation log's names and calls, for chat's callers
// (chat/conversation).
type (
	ConversationID = conversation.ID
	Conversation   = conversation.Conversation
	Event          = conversation.Event
	Author         = conversation.Author
	AgentRef       = conversation.AgentRef
	Customer       = conversation.Customer
	QueueRef       = conversation.QueueRef
	StartInput     = conversation.StartInput
	SendInput      = conversation.SendInput
	SendResult     = conversation.SendResult
	HistoryEntry   = conversation.HistoryEntry
	RoomAccess     = conversation.RoomAccess
	Presence       = conversation.Presence
	LocalPresence  = conversation.LocalPresence
)

// Conversation states.
const (
	StateQueued  = conversation.StateQueued
	StateOffered = conversation.StateOffered
	StateActive  = conversation.StateActive
	StateClosed  = conversation.StateClosed
)

// Event kinds.
const (
	KindQueued    = conversation.KindQueued
	KindOffered   = conversation.KindOffered
	KindRejected  = conversation.KindRejected
	KindMissed    = conversation.KindMissed
	KindAccepted  = conversation.KindAccepted
	KindMessage   = conversation.KindMessage
	KindClosed    = conversation.KindClosed
	KindWrappedUp = conversation.KindWrappedUp
)

// NewLocalPresence makes a presence with nobody connected.
func NewLocalPresence() *LocalPresence { return conversation.NewLocalPresence() }

// StaffSubject carries every event of a conversation, private ones too.
func StaffSubject(id ConversationID) string { return conversation.StaffSubject(id) }

// PublicSubject carries what the customer may see.
func PublicSubject(id ConversationID) string { return conversation.PublicSubject(id) }

// WaitingSubject carries changes to a queue's waiting list.
func WaitingSubject(id QueueID) string { return conversation.WaitingSubject(id) }

// Subject is the bus subject through which p follows conversation id.
func Subject(p auth.Principal, id ConversationID) string { return conversation.Subject(p, id) }

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
