package conversation

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/bus"
	"parley/chat/queues"
)

// Access that ends ends what depended on it, at once and on every node:
// the chat publishes a bus.AccessEnded naming the principal and the
// subjects it may no longer follow, and each node's websocket surface
// drops them from that principal's connections, then tells them (the
// event chat.access_ended or queue.access_ended). The reader of a request
// that subscribes checks access again after subscribing, so an end of
// access committed in between is never missed.

// EndAccess tells the users who no longer may read
// conversation id (their offer ended, or another agent took it) that
// their access has ended. Those who still may read it (supervisors,
// admins, its agent, an agent it is still offered to) are left alone:
// the rule is Decide's.
func (s *Log) EndAccess(ctx context.Context, id ID, users []auth.UserID, reason string) {
	if len(users) == 0 {
		return
	}
	c, err := Get(ctx, s.pool, id, false)
	if err != nil {
		s.log.Error("end access: read conversation", "conversation", id, "err", err)
		return
	}
	ps, err := s.principals(ctx, users)
	if err != nil {
		s.log.Error("end access: read users", "conversation", id, "err", err)
		return
	}
	event, err := bus.Frame("chat.access_ended", map[string]any{"conversation_id": id, "reason": reason})
	if err != nil {
		s.log.Error("encode access ended", "err", err)
		return
	}
	for _, p := range ps {
		if err := s.mayRead(ctx, p, c); err == nil {
			continue
		}
		s.publishAccessEnded(bus.AccessEnded{Principal: p.Key(), Subjects: []string{StaffSubject(id)}, Event: event})
	}
}

// EndQueueAccess tells the users removed from queue id that they no longer
// follow its waiting list; supervisors and admins whose scope holds it
// (queues.Supervised) keep it.
func (s *Log) EndQueueAccess(ctx context.Context, id queues.QueueID, users []auth.UserID) {
	if len(users) == 0 {
		return
	}
	ps, err := s.principals(ctx, users)
	if err != nil {
		s.log.Error("end access: read users", "queue", id, "err", err)
		return
	}
	event, err := bus.Frame("queue.access_ended", map[string]any{"queue_id": id, "reason": "removed"})
	if err != nil {
		s.log.Error("encode access ended", "err", err)
		return
	}
	for _, p := range ps {
		scope, err := queues.Supervised(ctx, s.pool, p)
		if err != nil {
			s.log.Error("end access: read scope", "queue", id, "err", err)
			continue
		}
		if !scope.Has(id) {
			s.publishAccessEnded(bus.AccessEnded{Principal: p.Key(), Subjects: []string{WaitingSubject(id)}, Event: event})
		}
	}
}

func (s *Log) publishAccessEnded(a bus.AccessEnded) {
	frame, err := bus.Frame(bus.AccessEndedType, a)
	if err != nil {
		s.log.Error("encode access ended", "err", err)
		return
	}
	s.bus.Publish(bus.AccessSubject, frame) //nolint:errcheck
}

// principals reads users as the principals they sign in as (their role
// matters to what they may read).
func (s *Log) principals(ctx context.Context, users []auth.UserID) ([]auth.Principal, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, display_name, role FROM users WHERE id = ANY ($1)`, users)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Principal, error) {
		p := auth.Principal{Kind: auth.KindUser}
		err := r.Scan(&p.UserID, &p.Name, &p.Role)
		return p, err
	})
}
