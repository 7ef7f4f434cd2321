package routing

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Accept gives conversation id to agent p: an offer to p, or a chat
// waiting in one of p's queues (picked from the waiting list). An
// invitation or a transfer lets p into the chat its agents have
// (joinTx).
func (s *Router) Accept(ctx context.Context, p auth.Principal, id conversation.ID) (conversation.Conversation, []conversation.Event, error) {
	if err := s.Take(ctx, p, id); err != nil {
		return conversation.Conversation{}, nil, err
	}
	return s.conv.Resume(ctx, p, id, 0)
}

// Take is Accept without reading the chat back, for a caller that
// subscribes to the chat and then reads it itself (signaling's
// chat.accept): a read before the subscription would be thrown away.
func (s *Router) Take(ctx context.Context, p auth.Principal, id conversation.ID) error {
	if !p.Is(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin) {
		return queues.Detail(queues.ErrForbidden, "only agents accept chats")
	}
	// The queue is read before the transaction: read inside it, a miss
	// of the queue cache would wait for a second connection of the pool
	// while holding one, and enough accepts at once would hold them all.
	c, q, err := s.conv.WithQueue(ctx, id)
	if err != nil {
		return err
	}
	unlock := s.conv.Lock(id)
	var evs []conversation.Event
	var others []auth.UserID
	var team *joined
	wasWaiting := false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err = conversation.Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var member bool
		var kind *string
		var by *auth.UserID
		var load int // open chats and other pending offers, against the queue's capacity
		if err := tx.QueryRow(ctx, `SELECT
				EXISTS (SELECT 1 FROM queue_members WHERE queue_id = $1 AND user_id = $2),
				(SELECT kind FROM offers WHERE conversation_id = $3 AND user_id = $2 AND state = 'pending'),
				(SELECT by_user_id FROM offers WHERE conversation_id = $3 AND user_id = $2 AND state = 'pending'),
				`+OpenChatsOf("$2")+`
				+ (SELECT count(*) FROM offers WHERE user_id = $2 AND state = 'pending' AND conversation_id <> $3)`,
			c.Queue.ID, p.UserID, id).Scan(&member, &kind, &by, &load); err != nil {
			return err
		}
		r := conversation.Relation{State: c.State}
		if member {
			r.Members = []auth.UserID{p.UserID}
		}
		if kind != nil {
			r.Offered = []auth.UserID{p.UserID}
		}
		if !conversation.Decide(p, r).Take {
			return queues.ErrNotFound
		}
		if kind != nil && *kind != KindRoute {
			team = &joined{kind: *kind, by: by}
			return s.joinTx(ctx, tx, p, c, team)
		}
		switch c.State {
		case conversation.StateActive:
			if conversation.HasAgent(c, p.UserID) {
				return queues.Conflict("you are already in this chat")
			}
			return queues.Conflict("another agent has taken this chat")
		case conversation.StateClosed:
			return queues.Conflict("the customer has left; the chat is closed")
		}
		wasWaiting = true
		if load >= q.Capacity {
			return queues.Conflict("you already have %d chats, the most this queue allows; close or wrap up one first", load)
		}
		rows, err := tx.Query(ctx, `UPDATE offers SET state = CASE WHEN user_id = $2 THEN 'accepted' ELSE 'taken' END,
			ended_at = now() WHERE conversation_id = $1 AND state = 'pending' AND kind = 'route' RETURNING user_id`, id, p.UserID)
		if err != nil {
			return err
		}
		ended, err := pgx.CollectRows(rows, pgx.RowTo[auth.UserID])
		if err != nil {
			return err
		}
		for _, u := range ended {
			if u != p.UserID {
				others = append(others, u)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'active', agent_id = $2, accepted_at = now()
			WHERE id = $1`, id, p.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_agents (conversation_id, user_id) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, id, p.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO agent_status (user_id, last_activity_at) VALUES ($1, now())
			ON CONFLICT (user_id) DO UPDATE SET last_activity_at = now()`, p.UserID); err != nil {
			return err
		}
		a := conversation.AuthorOf(p, c)
		accepted := conversation.Event{ConversationID: id, Kind: conversation.KindAccepted, Author: a}
		if err := conversation.Append(ctx, tx, &accepted); err != nil {
			return err
		}
		evs = append(evs, accepted)
		if q.Greeting != "" {
			g := conversation.Event{ConversationID: id, Kind: conversation.KindMessage, Author: a, Text: q.Greeting}
			if err := conversation.Append(ctx, tx, &g); err != nil {
				return err
			}
			evs = append(evs, g)
		}
		return nil
	})
	if err == nil && team != nil {
		evs = team.evs
	}
	if err == nil {
		s.conv.Publish(q, evs...)
	}
	unlock()
	if err != nil {
		return err
	}
	if team != nil {
		s.afterJoin(ctx, p, id, team)
		return nil
	}
	s.conv.EndAccess(ctx, id, others, "taken")
	for _, u := range others {
		s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: u}.Key(), "chat.offer_ended",
			map[string]any{"conversation_id": id, "reason": "taken"})
	}
	s.conv.PublishTo(p.Key(), "chat.offer_ended", map[string]any{"conversation_id": id, "reason": "accepted"})
	if wasWaiting {
		s.conv.PublishSubject(conversation.WaitingSubject(q.ID), "queue.entry_removed", map[string]any{"conversation_id": id})
		s.pos.queue(q.ID) // the customers behind it move up
	}
	s.Poke()
	return nil
}
