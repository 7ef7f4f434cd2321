package routing

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// WaitingQueues lists the queues whose waiting list p follows (their
// WaitingSubject carries the changes): an agent's own queues, and for
// supervisors and admins the queues of their scope (queues.Supervised:
// every queue for admins and for supervisors given none).
func (s *Router) WaitingQueues(ctx context.Context, p auth.Principal) ([]queues.QueueID, error) {
	if !p.IsStaff() {
		return nil, queues.Detail(queues.ErrForbidden, "the waiting list is for agents")
	}
	scope, err := queues.Supervised(ctx, s.pool, p)
	if err != nil {
		return nil, err
	}
	qs := scope.Queues
	if qs == nil {
		qs = []queues.QueueID{}
	}
	qrows, err := s.pool.Query(ctx, `SELECT queue_id FROM queue_members WHERE user_id = $1
		UNION SELECT id FROM queues WHERE $2 OR id = ANY ($3) ORDER BY 1`, p.UserID, scope.All, qs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(qrows, pgx.RowTo[queues.QueueID])
}

// Waiting lists the chats waiting in p's queues, oldest first, and the
// queues (see WaitingQueues).
func (s *Router) Waiting(ctx context.Context, p auth.Principal) ([]conversation.Conversation, []queues.QueueID, error) {
	queues, err := s.WaitingQueues(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+conversation.Columns+conversation.From+`
		WHERE c.queue_id = ANY ($1) AND c.state IN ('queued', 'offered') ORDER BY c.queued_at, c.id`, queues)
	if err != nil {
		return nil, nil, err
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (conversation.Conversation, error) { return conversation.Scan(r) })
	if err != nil {
		return nil, nil, err
	}
	for i, c := range cs {
		q, err := s.queue(ctx, c.Queue.ID)
		if err != nil {
			return nil, nil, err
		}
		cs[i], _ = s.conv.View(p, q, c, nil)
	}
	return cs, queues, nil
}

// alertWaiting marks the chats that have waited longer than their queue's
// WaitAlertSeconds, once each (the UPDATE marks a chat on one node only,
// so it needs no Turn), and tells the queues' waiting lists (which
// supervisors follow) with a queue.entry carrying wait_alert_at. The
// alert ends with the entry: queue.entry_removed when the chat is taken
// or closed.
func (s *Router) alertWaiting(ctx context.Context) error {
	// The bound by the shortest threshold lets the index skip the chats
	// that have not waited long enough in any queue.
	rows, err := s.pool.Query(ctx, `UPDATE conversations c SET wait_alert_at = now() FROM queues q
		WHERE q.id = c.queue_id AND c.state IN ('queued', 'offered') AND c.wait_alert_at IS NULL
			AND c.queued_at <= now() - make_interval(secs => (SELECT min(wait_alert_seconds) FROM queues))
			AND c.queued_at <= now() - make_interval(secs => q.wait_alert_seconds)
		RETURNING c.id`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[conversation.ID])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.tellWaitAlert(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// tellWaitAlert publishes chat id's entry with its alert, read under its
// stripe so that it cannot overtake a queue.entry_removed.
func (s *Router) tellWaitAlert(ctx context.Context, id conversation.ID) error {
	unlock := s.conv.Lock(id)
	defer unlock()
	c, q, err := s.conv.WithQueue(ctx, id)
	if err != nil {
		return err
	}
	if c.State == conversation.StateQueued || c.State == conversation.StateOffered {
		s.log.Info("chat waits past its queue's alert", "conversation", id, "queue", q.ID, "seconds", q.WaitAlertSeconds)
		s.conv.PublishWaiting(q, c)
	}
	return nil
}
