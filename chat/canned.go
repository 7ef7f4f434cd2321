package chat

import (
	"context"

	"parley/auth"
)

// Canned lists queue key's canned responses, for admins.
func (s *Service) Canned(ctx context.Context, p auth.Principal, key string) ([]Canned, error) {
	return s.queues.Canned(ctx, p, key)
}

// CreateCanned adds a canned response to queue key, for admins.
func (s *Service) CreateCanned(ctx context.Context, p auth.Principal, key string, in CannedInput) (Canned, error) {
	return s.queues.CreateCanned(ctx, p, key, in)
}

// UpdateCanned changes queue key's canned response id, for admins.
func (s *Service) UpdateCanned(ctx context.Context, p auth.Principal, key string, id CannedID, in CannedInput) (Canned, error) {
	return s.queues.UpdateCanned(ctx, p, key, id, in)
}

// DeleteCanned removes queue key's canned response id, for admins.
func (s *Service) DeleteCanned(ctx context.Context, p auth.Principal, key string, id CannedID) error {
	return s.queues.DeleteCanned(ctx, p, key, id)
}

// OrderCanned reorders queue key's canned responses, for admins.
func (s *Service) OrderCanned(ctx context.Context, p auth.Principal, key string, ids []CannedID) ([]Canned, error) {
	return s.queues.OrderCanned(ctx, p, key, ids)
}

// CannedFor lists the canned responses of p's queues (canned.list).
func (s *Service) CannedFor(ctx context.Context, p auth.Principal) ([]CannedItem, error) {
	return s.queues.CannedFor(ctx, p)
}
