package queues

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// Scope is the set of queues a staff member oversees: every queue, or
// the listed ones.
type Scope struct {
	All    bool
	Queues []QueueID
}

// Has says whether the scope covers queue id.
func (s Scope) Has(id QueueID) bool { return s.All || slices.Contains(s.Queues, id) }

// querier is what Supervised reads with: a pool, a connection or a
// transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Supervised is the scope of the queues p oversees. Admins oversee every
// queue. A supervisor oversees the queues an admin gave it
// (supervisor_queues), or every queue when it was given none. Agents,
// customers and guests oversee none.
func Supervised(ctx context.Context, db querier, p auth.Principal) (Scope, error) {
	switch {
	case p.Kind != auth.KindUser:
		return Scope{}, nil
	case p.Is(auth.RoleAdmin):
		return Scope{All: true}, nil
	case !p.Is(auth.RoleSupervisor):
		return Scope{}, nil
	}
	rows, err := db.Query(ctx, `SELECT queue_id FROM supervisor_queues WHERE user_id = $1 ORDER BY queue_id`, p.UserID)
	if err != nil {
		return Scope{}, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[QueueID])
	if err != nil {
		return Scope{}, err
	}
	if len(ids) == 0 {
		return Scope{All: true}, nil
	}
	return Scope{Queues: ids}, nil
}
