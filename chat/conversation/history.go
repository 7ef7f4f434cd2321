package conversation

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// historyScope is the SQL condition on c (a conversation) of which
// earlier conversations a staff member may see in a history: $4 all of
// them (an admin, or a supervisor of every queue), else those of the
// queues $7 (a supervisor's scope, queues.Supervised) and of the queues
// $5 (a user id) is a member of.
const historyScope = `($4 OR c.queue_id = ANY ($7) OR c.queue_id IN (SELECT queue_id FROM queue_members WHERE user_id = $5))`

// HistoryEntry is an earlier conversation with its events.
type HistoryEntry struct {
	Conversation Conversation `json:"conversation"`
	Events       []Event      `json:"events"`
}

// History returns the customer's earlier conversations, newest first,
// before the conversation id before (0: all). Conversations are joined only
// on identity Parley issued: the same visitor (the subject of the visitor
// token, which only the customer's browser holds), never on what the
// customer typed (name, e-mail). An agent sees only the earlier
// conversations of its own queues; supervisors those of their scope and
// admins all (see historyScope). Private rows of an earlier conversation are shown only to
// whom may read them there (Decide's ReadPrivate).
func (s *Log) History(ctx context.Context, p auth.Principal, id, before ID, limit int) ([]HistoryEntry, bool, error) {
	if !p.IsStaff() {
		return nil, false, queues.Detail(queues.ErrForbidden, "history is for agents")
	}
	c, err := Get(ctx, s.pool, id, false)
	if err != nil {
		return nil, false, err
	}
	if err := s.mayRead(ctx, p, c); err != nil {
		return nil, false, err
	}
	if limit <= 0 || limit > 20 {
		limit = 5
	}
	if before == 0 {
		before = id
	}
	scope, err := queues.Supervised(ctx, s.pool, p)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+Columns+From+`
		WHERE c.id < $1 AND c.id <> $2 AND c.visitor = $3 AND `+historyScope+`
		ORDER BY c.id DESC LIMIT $6`, before, id, c.visitor, scope.All, p.UserID, limit+1, scopeQueues(scope))
	if err != nil {
		return nil, false, err
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conversation, error) { return Scan(r) })
	if err != nil {
		return nil, false, err
	}
	more := len(cs) > limit
	if more {
		cs = cs[:limit]
	}
	out := make([]HistoryEntry, 0, len(cs))
	for _, hc := range cs {
		evs, err := s.events(ctx, hc.ID, 0, true)
		if err != nil {
			return nil, false, err
		}
		if !Decide(p, historyRelation(p, scope, hc)).ReadPrivate {
			public := evs[:0]
			for _, ev := range evs {
				if !ev.Private {
					public = append(public, ev)
				}
			}
			evs = public
		}
		out = append(out, HistoryEntry{hc, evs})
	}
	return out, more, nil
}

// scopeQueues is scope's queues as SQL takes them: never nil.
func scopeQueues(scope queues.Scope) []queues.QueueID {
	if scope.Queues == nil {
		return []queues.QueueID{}
	}
	return scope.Queues
}
