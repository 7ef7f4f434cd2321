package chat

import (
	"context"

	"parley/auth"
	"parley/chat/queues"
)

// Queue settings are chat/queues'; these are its names for chat's callers.
type (
	QueueID     = queues.QueueID
	Queue       = queues.Queue
	QueueConfig = queues.QueueConfig
)

// Strategies of routing.
const (
	LongestIdle = queues.LongestIdle
	LeastBusy   = queues.LeastBusy
	RoundRobin  = queues.RoundRobin
	RingAll     = queues.RingAll
)

// MaxText is the longest message, in characters (Unicode code points). A
// longer one is refused with ErrTooLong, never cut: the pages count the
// same way and refuse to send it.
const MaxText = queues.MaxText

// DefaultWaitAlertSeconds is a queue's WaitAlertSeconds unless its admin
// sets another.
const DefaultWaitAlertSeconds = queues.DefaultWaitAlertSeconds

// QueueByKey finds a queue by its public key (the widget's).
func (s *Service) QueueByKey(ctx context.Context, key string) (Queue, error) {
	return s.queues.ByKey(ctx, key)
}

// CreateQueue adds a queue with its members. Settings are checked and
// empty ones take their defaults, as for an admin's SaveQueue.
func (s *Service) CreateQueue(ctx context.Context, q Queue, members ...auth.UserID) (Queue, error) {
	return s.queues.Create(ctx, q, members...)
}

// EnsureDemoQueue creates the demo queue (key "demo") with the given
// members when there is no queue at all, and reports whether it did.
func (s *Service) EnsureDemoQueue(ctx context.Context, origins []string, members ...auth.UserID) (bool, error) {
	return s.queues.EnsureDemo(ctx, origins, members...)
}

// Queues lists every queue with its members, for admins.
func (s *Service) Queues(ctx context.Context, p auth.Principal) ([]QueueConfig, error) {
	return s.queues.List(ctx, p)
}

// SaveQueue creates the queue c.Key or replaces its settings and members,
// for admins.
func (s *Service) SaveQueue(ctx context.Context, p auth.Principal, c QueueConfig) (QueueConfig, error) {
	return s.queues.Save(ctx, p, c)
}

// queueChanged ends the removed members' access to the queue's waiting
// list and lets the router look again: new members or capacity may let
// waiting chats through.
func (s *Service) queueChanged(ctx context.Context, id QueueID, removed []auth.UserID) {
	s.conv.EndQueueAccess(ctx, id, removed)
	s.router.QueueSaved(ctx, id) // its members' desks, its customers' places
	s.router.Poke()
}

// QueueChanges is a page of queue key's change log, newest first, for
// admins (queues.Store.Changes).
func (s *Service) QueueChanges(ctx context.Context, p auth.Principal, key string, before int64, limit int) (queues.ChangePage, error) {
	return s.queues.Changes(ctx, p, key, before, limit)
}

// Canned responses are chat/queues' (canned.go); these are their names
// for chat's callers.
type (
	Canned      = queues.Canned
	CannedID    = queues.CannedID
	CannedItem  = queues.CannedItem
	CannedInput = queues.CannedInput
)
