package crm

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// Tickets lists the tickets of contact that p may see, newest
// first (by when they were made), at most limit, those made before (at,
// id) when at is not zero: a contact's activities (contact.get).
func (s *Contacts) Tickets(ctx context.Context, p auth.Principal, contact ContactID, at time.Time, id int64, limit int) ([]Ticket, error) {
	if err := Staff(p); err != nil {
		return nil, err
	}
	v, err := viewerOf(ctx, s.pool, p) // the tickets' one rule (tickets_rule.go)
	if err != nil {
		return nil, err
	}
	var after *time.Time
	if !at.IsZero() {
		after = &at
	}
	a := args{p.UserID, contact, after, id, limit}
	rows, err := s.pool.Query(ctx, `SELECT `+ticketColumns+ticketFrom+`
		WHERE t.contact_id = $2 AND `+v.sql(&a)+`
			AND ($3::timestamptz IS NULL OR (t.created_at, t.id) < ($3, $4))
		ORDER BY t.created_at DESC, t.id DESC LIMIT $5`, a...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r) })
}
