package conversation

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/chat/queues"
)

// waitLockClass is the first key of the transaction advisory lock that
// counts a queue's waiting chats for its MaxWaiting (the second is the
// queue's id): "wait".
const waitLockClass = 0x77616974

// admit refuses a new chat in queue q at t when the queue is not open:
// disabled, a holiday, or outside its hours (queues.ErrQueueClosed, with
// the queue's offline message).
func admit(q queues.Queue, t time.Time) error {
	if !q.OpenAt(t) {
		return queues.Detail(queues.ErrQueueClosed, orDefault(q.OfflineMessage, queues.DefaultOfflineMessage))
	}
	return nil
}

// admitWaitingTx refuses a new chat in queue q, inside the transaction
// that would insert it, when q already has MaxWaiting chats waiting
// (queued or offered): queues.ErrQueueFull, with the queue's unavailable
// message. The count is taken under a lock of the queue's own, held to
// the commit, so two starts at once cannot both pass the limit: the
// second counts after the first's chat is in.
func admitWaitingTx(ctx context.Context, tx pgx.Tx, q queues.Queue) error {
	if q.MaxWaiting <= 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2::int4)`, waitLockClass, int32(q.ID)); err != nil {
		return err
	}
	var waiting int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE queue_id = $1 AND state IN ('queued', 'offered')`,
		q.ID).Scan(&waiting); err != nil {
		return err
	}
	if waiting >= q.MaxWaiting {
		return queues.Detail(queues.ErrQueueFull, orDefault(q.UnavailableMessage, queues.DefaultUnavailableMessage))
	}
	return nil
}
