package auth

import (
	"context"
	"fmt"
)

// EndSessions ends every session of user (a supervisor signed the agent
// out): its tokens no longer authenticate. Its open connections are the
// caller's to close.
func (s *Service) EndSessions(ctx context.Context, user UserID) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, user); err != nil {
		return fmt.Errorf("auth: end sessions: %w", err)
	}
	return nil
}
