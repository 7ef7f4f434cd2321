package routing

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// The rules a queue enforces on chats already in it, as durable timers:
// every deadline is computed from rows at each look (a waiting chat's
// queued_at and its queue's max_wait_seconds; the queue's hours, holidays
// and disabled; a chat's customer_left_at and its queue's
// auto_finish_seconds), never held in a goroutine or in memory, so a
// restart, or another node taking over, loses none: a deadline that passed
// while no router ran is acted on at the first look after. Every node
// looks; the chat's row lock in conversation.SystemClose, which checks
// the rule again, lets only the first end it.

// rulesEvery is how often the router enforces the queues' rules: a chat
// may end up to this much after its deadline.
const rulesEvery = time.Second

// rulesBatch bounds the chats one look ends per rule; the rest wait for
// the next look.
const rulesBatch = 200

// enforceRules ends the chats whose queue's rules say so: waited too long
// (max_wait), waiting in a queue that closed or was disabled without a
// max wait (queue_closed), and whose customer left and did not come back
// (auto_finish).
func (s *Router) enforceRules(ctx context.Context) error {
	if err := s.endWaitedTooLong(ctx); err != nil {
		return err
	}
	if err := s.endClosedQueues(ctx); err != nil {
		return err
	}
	if err := s.markCustomersGone(ctx); err != nil {
		return err
	}
	return s.endCustomersGone(ctx)
}

// endWaitedTooLong ends the chats that have waited (queued or offered)
// longer than their queue's max_wait_seconds.
func (s *Router) endWaitedTooLong(ctx context.Context) error {
	return s.systemClose(ctx, conversation.ReasonMaxWait, `SELECT c.id FROM conversations c JOIN queues q ON q.id = c.queue_id
		WHERE c.state IN ('queued', 'offered') AND q.max_wait_seconds > 0
			AND c.queued_at <= now() - make_interval(secs => q.max_wait_seconds)
		ORDER BY c.queued_at LIMIT $1`, rulesBatch)
}

// endClosedQueues ends the chats waiting in a queue that is not open now
// (outside its hours, a holiday, disabled) and has no max wait: with one,
// they wait until it ends them.
func (s *Router) endClosedQueues(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT c.queue_id FROM conversations c JOIN queues q ON q.id = c.queue_id
		WHERE c.state IN ('queued', 'offered') AND q.max_wait_seconds = 0`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[queues.QueueID])
	if err != nil {
		return err
	}
	now := time.Now()
	for _, qid := range ids {
		q, err := s.queue(ctx, qid)
		if err != nil {
			return err
		}
		if q.OpenAt(now) || q.MaxWaitSeconds != 0 {
			continue
		}
		if err := s.systemClose(ctx, conversation.ReasonQueueClosed, `SELECT id FROM conversations
			WHERE queue_id = $2 AND state IN ('queued', 'offered') ORDER BY queued_at LIMIT $1`, rulesBatch, qid); err != nil {
			return err
		}
	}
	return nil
}

// markCustomersGone sets customer_left_at on the open chats of queues
// with auto finish whose customer is not connected and has no mark: the
// presence change that would have set it was lost (the node that held the
// customer's connection stopped). Presence clears a mark when the customer
// comes back, and SystemClose clears a stale one.
func (s *Router) markCustomersGone(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.visitor FROM queues q JOIN conversations c ON c.queue_id = q.id
		WHERE q.auto_finish_seconds > 0 AND c.state <> 'closed' AND c.state <> 'offline' AND c.customer_left_at IS NULL`)
	if err != nil {
		return err
	}
	type open struct {
		ID      conversation.ID
		Visitor string
	}
	chats, err := pgx.CollectRows(rows, pgx.RowToStructByPos[open])
	if err != nil {
		return err
	}
	var gone []conversation.ID
	for _, c := range chats {
		if !s.presence.Online(auth.Principal{Kind: auth.KindVisitor, Subject: c.Visitor}.Key()) {
			gone = append(gone, c.ID)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	_, err = s.pool.Exec(ctx, `UPDATE conversations SET customer_left_at = now()
		WHERE id = ANY ($1) AND state <> 'closed' AND state <> 'offline' AND customer_left_at IS NULL`, gone)
	return err
}

// endCustomersGone ends the open chats whose customer left longer ago
// than their queue's auto_finish_seconds.
func (s *Router) endCustomersGone(ctx context.Context) error {
	return s.systemClose(ctx, conversation.ReasonAutoFinish, `SELECT c.id FROM conversations c JOIN queues q ON q.id = c.queue_id
		WHERE c.customer_left_at IS NOT NULL AND c.state <> 'closed' AND c.state <> 'offline' AND q.auto_finish_seconds > 0
			AND c.customer_left_at <= now() - make_interval(secs => q.auto_finish_seconds)
		ORDER BY c.customer_left_at LIMIT $1`, rulesBatch)
}

// systemClose ends, for reason, each chat the query (its $1 the batch's
// size) finds; SystemClose checks the rule again on the locked row.
func (s *Router) systemClose(ctx context.Context, reason, query string, args ...any) error {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[conversation.ID])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.conv.SystemClose(ctx, id, reason); err != nil {
			return err
		}
	}
	return nil
}
