package queues

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// MonitorTarget is the name of agent when p oversees it (Supervised):
// agent is an active user with the role agent, in one of p's queues (any
// agent when p oversees every queue). Otherwise ErrNotFound: an agent
// outside p's scope is not told apart from none.
func (s *Store) MonitorTarget(ctx context.Context, p auth.Principal, agent auth.UserID) (string, error) {
	scope, err := Supervised(ctx, s.pool, p)
	if err != nil {
		return "", err
	}
	notFound := Detail(ErrNotFound, "no such agent among the agents you supervise")
	if !scope.All && len(scope.Queues) == 0 {
		return "", notFound
	}
	ids := make([]int64, len(scope.Queues))
	for i, q := range scope.Queues {
		ids[i] = int64(q)
	}
	var name string
	err = s.pool.QueryRow(ctx, `SELECT u.display_name FROM users u
		WHERE u.id = $1 AND u.role = 'agent' AND NOT u.disabled
		  AND ($2 OR EXISTS (SELECT 1 FROM queue_members m WHERE m.user_id = u.id AND m.queue_id = ANY($3)))`,
		agent, scope.All, ids).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", notFound
	}
	return name, err
}
