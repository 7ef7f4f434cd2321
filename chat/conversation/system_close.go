package conversation

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/crm"
	"parley/chat/queues"
)

// The system ends a chat when one of its queue's rules says so, rather
// than a person: it waited longer than the queue's max_wait_seconds, the
// queue closed (its hours ended, or it was disabled) while it waited, or
// its customer left and did not come back within auto_finish_seconds.
// The router's tick finds them from rows (queued_at, customer_left_at,
// the queue's settings and schedule) and calls SystemClose for each; the
// rule is checked again on the locked row, so a chat taken, closed or
// returned to meanwhile is left alone, and with many nodes only the first
// to lock it ends it.

// Reasons the system ends a chat: the closed event's Reason.
const (
	ReasonMaxWait     = "max_wait"
	ReasonQueueClosed = "queue_closed"
	ReasonAutoFinish  = "auto_finish"
)

// StatusCustomerLeft is the close status of a chat auto finish ended:
// agents see it in the desk (the customer never sees a close status).
const StatusCustomerLeft = "Customer left"

// SystemClose ends conversation id for reason, if the rule still holds on
// its locked row at the database's now:
//   - ReasonMaxWait: it waits (queued or offered) and has waited longer
//     than its queue's MaxWaitSeconds; the customer is told the queue's
//     UnavailableMessage.
//   - ReasonQueueClosed: it waits, its queue is not open (OpenAt) and has
//     no MaxWaitSeconds; the customer is told the OfflineMessage.
//   - ReasonAutoFinish: it is open, its customer has been gone
//     (customer_left_at) longer than the queue's AutoFinishSeconds and is
//     not connected now; it closes with the status StatusCustomerLeft, and
//     an active chat goes to its agent's wrap-up as after the customer's
//     own end.
//
// The close, its pending offers withdrawn and its closed event (author
// kind system, Reason, Text) are one transaction; the event is published
// after the commit under the conversation's stripe, as Close does. ended
// is false when the rule no longer holds (nothing is written).
func (s *Log) SystemClose(ctx context.Context, id ID, reason string) (ended bool, err error) {
	unlock := s.Lock(id)
	defer unlock()
	var c Conversation
	var q queues.Queue
	var ev Event
	var withdrawn []auth.UserID
	var ticket crm.TicketID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if c, err = Get(ctx, tx, id, true); err != nil {
			return err
		}
		if q, err = s.queue(ctx, c.Queue.ID); err != nil {
			return err
		}
		var leftAt *time.Time
		var now time.Time
		if err := tx.QueryRow(ctx, `SELECT customer_left_at, now() FROM conversations WHERE id = $1`, id).Scan(&leftAt, &now); err != nil {
			return err
		}
		waits := c.State == StateQueued || c.State == StateOffered
		text, status, limit := "", "", 0
		switch reason {
		case ReasonMaxWait:
			if !waits || q.MaxWaitSeconds == 0 || now.Sub(c.QueuedAt) < time.Duration(q.MaxWaitSeconds)*time.Second {
				return nil
			}
			text, limit = orDefault(q.UnavailableMessage, queues.DefaultUnavailableMessage), q.MaxWaitSeconds
		case ReasonQueueClosed:
			if !waits || q.MaxWaitSeconds != 0 || q.OpenAt(now) {
				return nil
			}
			text = orDefault(q.OfflineMessage, queues.DefaultOfflineMessage)
		case ReasonAutoFinish:
			if c.State == StateClosed || c.State == StateOffline || q.AutoFinishSeconds == 0 || leftAt == nil ||
				now.Sub(*leftAt) < time.Duration(q.AutoFinishSeconds)*time.Second {
				return nil
			}
			if s.presence.Online(auth.Principal{Kind: auth.KindVisitor, Subject: c.visitor}.Key()) {
				// Back, though nobody cleared the mark (a presence change lost
				// to a restart): it is not gone.
				_, err := tx.Exec(ctx, `UPDATE conversations SET customer_left_at = NULL WHERE id = $1`, id)
				return err
			}
			status, limit = StatusCustomerLeft, q.AutoFinishSeconds
		default:
			return queues.Bad("reason: %q is not a reason the system ends a chat", reason)
		}
		if withdrawn, err = withdrawOffersTx(ctx, tx, id); err != nil {
			return err
		}
		// An agent's chat still owes its wrap-up, as after the customer's end.
		due := c.State == StateActive
		if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'closed', closed_at = now(), closed_by = 'system',
			close_status = nullif($2, ''), wrap_up_due = $3, customer_left_at = NULL WHERE id = $1`, id, status, due); err != nil {
			return err
		}
		ev = Event{ConversationID: id, Kind: KindClosed, Author: Author{Kind: "system"}, Status: status, Reason: reason,
			Text: text, LimitSeconds: limit}
		ended = true
		if err := Append(ctx, tx, &ev); err != nil {
			return err
		}
		// A chat nobody answered becomes an unassigned ticket of its queue,
		// so the customer is not lost.
		if (reason == ReasonMaxWait || reason == ReasonQueueClosed) && c.AcceptedAt == nil {
			if ticket, _, err = crm.SystemTx(ctx, tx, int64(id), reason, unansweredTitle(c, reason)); err != nil {
				return err
			}
		}
		return s.mailTranscriptOnCloseTx(ctx, tx, q, c)
	})
	if err != nil || !ended {
		return false, err
	}
	if ticket != 0 {
		crm.NewTickets(s.pool, s.bus, s.log).Tell(ctx, ticket)
	}
	s.log.Info("the system ended a chat", "conversation", id, "queue", q.ID, "reason", reason)
	s.tellClosed(ctx, q, c, ev, withdrawn)
	return true, nil
}

// unansweredTitle is the title of the ticket of chat c, which the system
// ended for reason before anyone answered it.
func unansweredTitle(c Conversation, reason string) string {
	why := "waited too long"
	if reason == ReasonQueueClosed {
		why = "the queue closed"
	}
	return "Chat with " + c.Customer.Name + " not answered (" + why + ")"
}

// withdrawOffersTx withdraws chat id's pending offers inside tx, and
// answers whom they were to.
func withdrawOffersTx(ctx context.Context, tx pgx.Tx, id ID) ([]auth.UserID, error) {
	rows, err := tx.Query(ctx, `UPDATE offers SET state = 'withdrawn', ended_at = now()
		WHERE conversation_id = $1 AND state = 'pending' RETURNING user_id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[auth.UserID])
}

// tellClosed tells everyone concerned that chat c (as it was before its
// close) was closed by ev, after the commit, under its stripe: the
// event, the end of the withdrawn offers, the waiting list, the router
// and the room.
func (s *Log) tellClosed(ctx context.Context, q queues.Queue, c Conversation, ev Event, withdrawn []auth.UserID) {
	s.Publish(q, ev)
	s.EndAccess(ctx, c.ID, withdrawn, "closed")
	for _, u := range withdrawn {
		s.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: u}.Key(), "chat.offer_ended",
			map[string]any{"conversation_id": c.ID, "reason": "closed"})
	}
	if c.State == StateQueued || c.State == StateOffered {
		s.PublishSubject(WaitingSubject(q.ID), "queue.entry_removed", map[string]any{"conversation_id": c.ID})
	}
	s.hooks.Closed(c.ID)
	if s.closed != nil {
		go s.closed(c.ID) // not under the conversation's lock: it writes to it
	}
}

// markCustomerLeft records on the visitor's open chats when its last
// connection ended (online false), or clears it when one comes back:
// auto finish reads customer_left_at, so a restart forgets nothing. It
// returns those open chats (by id), whose agents hear of it: one
// statement for both, as every customer's connection and disconnection
// runs it.
func (s *Log) markCustomerLeft(ctx context.Context, subject string, online bool) ([]ID, error) {
	rows, err := s.pool.Query(ctx, `WITH open AS (
			SELECT id, customer_left_at FROM conversations WHERE visitor = $1 AND state NOT IN ('closed', 'offline')
		), marked AS (
			UPDATE conversations c SET customer_left_at = CASE WHEN $2 THEN NULL ELSE now() END
			FROM open WHERE c.id = open.id AND (open.customer_left_at IS NULL) <> $2
		)
		SELECT id FROM open ORDER BY id`, subject, online)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[ID])
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
