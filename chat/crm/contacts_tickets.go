package crm

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// ticketSeenSQL is the tickets' rule (tickets_rule.go, whose test holds
// it to viewer.sees) as a condition on a ticket t, for a user $1 and that user's
// scope of supervised queues $2 (nil: the scope is every queue):
// admins and supervisors of every queue see every ticket, supervisors
// with queues those queues' tickets; every staff member the tickets of
// the queues they are a member of and those assigned to them.
const ticketSeenSQL = `($2::bigint[] IS NULL OR t.queue_id = ANY ($2)
	OR EXISTS (SELECT 1 FROM queue_members m WHERE m.user_id = $1 AND m.queue_id = t.queue_id)
	OR t.assignee_id = $1)`

// Tickets lists the tickets of contact that p may see, newest
// first (by when they were made), at most limit, those made before (at,
// id) when at is not zero: a contact's activities (contact.get).
func (s *Contacts) Tickets(ctx context.Context, p auth.Principal, contact ContactID, at time.Time, id int64, limit int) ([]Ticket, error) {
	if err := Staff(p); err != nil {
		return nil, err
	}
	scope, err := queues.Supervised(ctx, s.pool, p)
	if err != nil {
		return nil, err
	}
	var supervised []queues.QueueID // nil: every queue
	if !scope.All {
		supervised = append([]queues.QueueID{}, scope.Queues...)
	}
	var after *time.Time
	if !at.IsZero() {
		after = &at
	}
	rows, err := s.pool.Query(ctx, `SELECT `+ticketColumns+ticketFrom+`
		WHERE t.contact_id = $3 AND `+ticketSeenSQL+`
			AND ($4::timestamptz IS NULL OR (t.created_at, t.id) < ($4, $5))
		ORDER BY t.created_at DESC, t.id DESC LIMIT $6`, p.UserID, supervised, contact, after, id, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r) })
}
