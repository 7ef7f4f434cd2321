package chat

import (
	"context"

	"parley/auth"
)

// MonitorTarget is the name of agent when p may ask to see its screen:
// p supervises a queue the agent is in (queues.Supervised). Otherwise
// ErrNotFound.
func (s *Service) MonitorTarget(ctx context.Context, p auth.Principal, agent auth.UserID) (string, error) {
	return s.queues.MonitorTarget(ctx, p, agent)
}
