package search

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
)

// OfContact lists the conversations paired with contact that p may find
// (the rule, rule.go), newest first (by when they started), at most
// limit, those started before (at, id) when at is not zero: a contact's
// activities (contact.get).
func (s *Searcher) OfContact(ctx context.Context, p auth.Principal, contact int64, at time.Time, id int64, limit int) ([]conversation.Conversation, error) {
	w, err := whoIs(ctx, s.pool, p)
	if err != nil {
		return nil, err
	}
	var a args
	where := `c.contact_id = ` + a.add(contact) + ` AND ` + w.sql(&a)
	if !at.IsZero() {
		where += ` AND (c.queued_at, c.id) < (` + a.add(at) + `, ` + a.add(id) + `)`
	}
	rows, err := s.pool.Query(ctx, `SELECT `+conversation.Columns+conversation.From+` WHERE `+where+`
		ORDER BY c.queued_at DESC, c.id DESC LIMIT `+a.add(limit), a...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (conversation.Conversation, error) { return conversation.Scan(r) })
}
