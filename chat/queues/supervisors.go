package queues

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// SupervisorQueues is the answer about a supervisor's scope: the queues
// an admin gave it, empty for every queue.
type SupervisorQueues struct {
	UserID auth.UserID `json:"user_id"`
	Queues []QueueID   `json:"queues"`
}

// SupervisedBy reads the queues an admin gave supervisor user (empty:
// every queue), for admins.
func (s *Store) SupervisedBy(ctx context.Context, p auth.Principal, user auth.UserID) (SupervisorQueues, error) {
	if err := mustAdmin(p); err != nil {
		return SupervisorQueues{}, err
	}
	if err := s.mustSupervisor(ctx, s.pool, user); err != nil {
		return SupervisorQueues{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT queue_id FROM supervisor_queues WHERE user_id = $1 ORDER BY queue_id`, user)
	if err != nil {
		return SupervisorQueues{}, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[QueueID])
	if ids == nil {
		ids = []QueueID{}
	}
	return SupervisorQueues{UserID: user, Queues: ids}, err
}

// Supervise gives supervisor user the queues ids, replacing those it had
// (none: every queue), for admins. It answers the queues the supervisor
// no longer oversees, so that the caller ends its access to them.
func (s *Store) Supervise(ctx context.Context, p auth.Principal, user auth.UserID, ids []QueueID) (SupervisorQueues, []QueueID, error) {
	if err := mustAdmin(p); err != nil {
		return SupervisorQueues{}, nil, err
	}
	ids = append([]QueueID{}, ids...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var lost []QueueID
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.mustSupervisor(ctx, tx, user); err != nil {
			return err
		}
		var known []QueueID
		rows, err := tx.Query(ctx, `SELECT id FROM queues WHERE id = ANY ($1) ORDER BY id`, ids)
		if err != nil {
			return err
		}
		if known, err = pgx.CollectRows(rows, pgx.RowTo[QueueID]); err != nil {
			return err
		}
		for _, id := range ids {
			if !slices.Contains(known, id) {
				return Bad("queues: there is no queue %d", id)
			}
		}
		before, err := Supervised(ctx, tx, auth.Principal{Kind: auth.KindUser, UserID: user, Role: auth.RoleSupervisor})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM supervisor_queues WHERE user_id = $1`, user); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO supervisor_queues (user_id, queue_id) SELECT $1, unnest($2::bigint[])`,
			user, ids); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if before.All { // every queue but the ones now given
			rows, err := tx.Query(ctx, `SELECT id FROM queues WHERE NOT id = ANY ($1) ORDER BY id`, ids)
			if err != nil {
				return err
			}
			lost, err = pgx.CollectRows(rows, pgx.RowTo[QueueID])
			return err
		}
		for _, id := range before.Queues {
			if !slices.Contains(ids, id) {
				lost = append(lost, id)
			}
		}
		return nil
	})
	if err != nil {
		return SupervisorQueues{}, nil, err
	}
	return SupervisorQueues{UserID: user, Queues: ids}, lost, nil
}

// mustSupervisor answers not_found unless user is an enabled supervisor:
// only supervisors are given queues.
func (s *Store) mustSupervisor(ctx context.Context, db rowQuerier, user auth.UserID) error {
	var role string
	err := db.QueryRow(ctx, `SELECT role FROM users WHERE id = $1 AND NOT disabled`, user).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && role != string(auth.RoleSupervisor)) {
		return Detail(ErrNotFound, "there is no such supervisor")
	}
	return err
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
