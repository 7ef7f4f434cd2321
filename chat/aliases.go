package chat

import (
	"parley/auth"
	"parley/chat/conversation"
)

// The conversation log's names, for chat's callers (chat/conversation).
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
