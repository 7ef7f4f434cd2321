package routing

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// joined is an accepted invitation or transfer, to be told after its
// commit.
type joined struct {
	kind string
	by   *auth.UserID // who invited or transfers
	evs  []conversation.Event
}

// joinTx lets p into chat c by its pending invitation or transfer (j.kind),
// inside tx, with c's row locked: p joins its agents; a transfer makes p
// the lead and takes the transferring agent out. Capacity is checked as
// for any accept.
func (s *Router) joinTx(ctx context.Context, tx pgx.Tx, p auth.Principal, c conversation.Conversation, j *joined) error {
	if c.State != conversation.StateActive {
		return queues.Conflict("the customer has left; the chat is closed")
	}
	them, err := s.colleagues(ctx, tx, c, &p.UserID)
	if err != nil {
		return err
	}
	if len(them) != 1 {
		return queues.ErrNotFound
	}
	me := them[0]
	if me.Open+me.Pending-1 >= me.Capacity { // this offer's place is the chat's
		return queues.Conflict("You have no room for another chat")
	}
	if _, err := tx.Exec(ctx, `UPDATE offers SET state = 'accepted', ended_at = now()
		WHERE conversation_id = $1 AND user_id = $2 AND state = 'pending'`, c.ID, p.UserID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO conversation_agents (conversation_id, user_id) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, c.ID, p.UserID); err != nil {
		return err
	}
	touched := []auth.UserID{p.UserID}
	ev := conversation.Event{ConversationID: c.ID, Kind: conversation.KindJoined, Author: conversation.AuthorOf(p, c)}
	if j.kind == KindTransfer {
		ev.Kind = conversation.KindTransferred
		if _, err := tx.Exec(ctx, `UPDATE conversations SET agent_id = $2 WHERE id = $1`, c.ID, p.UserID); err != nil {
			return err
		}
		if j.by != nil && *j.by != p.UserID {
			if _, err := tx.Exec(ctx, `DELETE FROM conversation_agents WHERE conversation_id = $1 AND user_id = $2`,
				c.ID, *j.by); err != nil {
				return err
			}
			touched = append(touched, *j.by)
		}
	}
	if err := conversation.TouchAgents(ctx, tx, touched...); err != nil {
		return err
	}
	if err := conversation.Append(ctx, tx, &ev); err != nil {
		return err
	}
	j.evs = append(j.evs, ev)
	return nil
}

// afterJoin tells of a committed join: p's tabs open the chat, and a
// transferring agent's access ends.
func (s *Router) afterJoin(ctx context.Context, p auth.Principal, id conversation.ID, j *joined) {
	s.conv.PublishTo(p.Key(), "chat.offer_ended", map[string]any{"conversation_id": id, "reason": "accepted"})
	if j.kind == KindTransfer && j.by != nil && *j.by != p.UserID {
		s.conv.EndAccess(ctx, id, []auth.UserID{*j.by}, "transferred")
		s.Poke() // the transferring agent has room again
	}
}

// transferToQueue moves p's chat id to queue qid at once: every agent
// leaves it, a pending invitation or transfer is withdrawn, and it waits
// in qid keeping its queued_at, so it comes before the chats that have
// waited less. The queue must have an agent who can take it now.
func (s *Router) transferToQueue(ctx context.Context, p auth.Principal, id conversation.ID, qid queues.QueueID) (QueueTransfer, error) {
	c, q, err := s.conv.TeamChat(ctx, p, id, "transfer it")
	if err != nil {
		return QueueTransfer{}, err
	}
	return s.moveToQueue(ctx, p, c, q, qid, true, func(c conversation.Conversation) error {
		return conversation.TeamCheck(p, c, "transfer it")
	})
}

// moveToQueue is a transfer of chat c (of queue q) to queue qid by p,
// who may do it by check (run on the locked row). With needFree the
// queue must have an agent who can take it now; without (a supervisor
// signing its agent out), it waits there whatever.
func (s *Router) moveToQueue(ctx context.Context, p auth.Principal, c conversation.Conversation, q queues.Queue,
	qid queues.QueueID, needFree bool, check func(conversation.Conversation) error) (QueueTransfer, error) {
	id := c.ID
	tq, err := s.queue(ctx, qid)
	if err != nil {
		if errors.Is(err, queues.ErrNotFound) {
			return QueueTransfer{}, queues.Detail(queues.ErrNotFound, "queue_id: there is no such queue")
		}
		return QueueTransfer{}, err
	}
	if needFree {
		free, err := s.availableIn(ctx, p, c, tq.ID)
		if err != nil {
			return QueueTransfer{}, err
		}
		if len(free) == 0 {
			return QueueTransfer{}, queues.Conflict("%s has no agent available now", tq.Name)
		}
	}
	unlock := s.conv.Lock(id)
	var left []auth.UserID
	var withdrawn []withdrawnOffer
	var evs []conversation.Event
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err = conversation.Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := check(c); err != nil {
			return err
		}
		left = conversation.AgentsOf(c)
		if withdrawn, evs, err = withdrawPending(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM conversation_agents WHERE conversation_id = $1`, id); err != nil {
			return err
		}
		if err := conversation.TouchAgents(ctx, tx, left...); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'queued', agent_id = NULL,
			origin_queue_id = coalesce(origin_queue_id, queue_id), queue_id = $2, wait_alert_at = NULL WHERE id = $1`,
			id, tq.ID); err != nil {
			return err
		}
		ev := conversation.Event{ConversationID: id, Kind: conversation.KindTransferred,
			Author: conversation.Author{Kind: "system"}, Target: &conversation.Target{Kind: "queue", Name: tq.Name}}
		if err := conversation.Append(ctx, tx, &ev); err != nil {
			return err
		}
		evs = append(evs, ev)
		c, err = conversation.Get(ctx, tx, id, false)
		return err
	})
	if err == nil {
		s.conv.Publish(q, evs...) // the customer sees the chat's new queue by the old one's settings once
	}
	unlock()
	if err != nil {
		return QueueTransfer{}, err
	}
	for _, w := range withdrawn {
		s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: w.User}.Key(), "chat.offer_ended",
			map[string]any{"conversation_id": id, "reason": "cancelled"})
	}
	ended := left
	for _, w := range withdrawn {
		ended = append(ended, w.User)
	}
	s.conv.EndAccess(ctx, id, ended, "transferred")
	s.conv.PublishWaiting(tq, c)
	s.pos.queue(tq.ID) // the chat joins the new queue's line
	s.Poke()
	return QueueTransfer{Queue: conversation.QueueRef{ID: tq.ID, Name: tq.Name}}, nil
}

// withdrawnOffer is a pending invitation or transfer a queue transfer
// withdrew.
type withdrawnOffer struct {
	User auth.UserID
	Name string
	Kind string
}

// withdrawPending cancels chat id's pending invitation or transfer, in
// tx, and writes the private event that ends each: what was withdrawn and
// those events.
func withdrawPending(ctx context.Context, tx pgx.Tx, id conversation.ID) ([]withdrawnOffer, []conversation.Event, error) {
	rows, err := tx.Query(ctx, `UPDATE offers o SET state = 'cancelled', ended_at = now() FROM users u
		WHERE o.conversation_id = $1 AND o.state = 'pending' AND u.id = o.user_id
		RETURNING o.user_id, u.display_name, o.kind`, id)
	if err != nil {
		return nil, nil, err
	}
	withdrawn, err := pgx.CollectRows(rows, pgx.RowToStructByPos[withdrawnOffer])
	if err != nil {
		return nil, nil, err
	}
	var evs []conversation.Event
	for _, w := range withdrawn {
		ev := conversation.Event{ConversationID: id, Kind: conversation.KindInviteEnded, Private: true,
			Author: conversation.AgentAuthor(w.Name, w.User), Status: "cancelled"}
		if w.Kind == KindTransfer {
			ev.Kind = conversation.KindTransferEnded
		}
		if err := conversation.Append(ctx, tx, &ev); err != nil {
			return nil, nil, err
		}
		evs = append(evs, ev)
	}
	return withdrawn, evs, nil
}
