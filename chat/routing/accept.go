package routing

import (
	"context"
	"errors"

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
	// The queue's settings come from the cache inside the transaction;
	// on a miss the transaction stops (errQueueMiss), the queue is read
	// with no connection held, and the accept runs again. Read inside
	// the transaction, a miss would wait for a second connection of the
	// pool while holding one, and enough accepts at once would hold them
	// all.
	var c conversation.Conversation
	var q queues.Queue
	var t taken
	var err error
	for attempt := 1; ; attempt++ {
		unlock := s.conv.Lock(id)
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			c, err = conversation.Get(ctx, tx, id, true)
			if err != nil {
				return err
			}
			var ok bool
			if q, ok = s.queues.Cached(c.Queue.ID); !ok {
				return errQueueMiss
			}
			t, err = s.takeTx(ctx, tx, p, c, q)
			return err
		})
		if err == nil {
			evs := t.evs
			if t.team != nil {
				evs = t.team.evs
			}
			s.conv.Publish(q, evs...)
		}
		unlock()
		if !errors.Is(err, errQueueMiss) || attempt == 3 {
			break
		}
		if _, err := s.queue(ctx, c.Queue.ID); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	if t.team != nil {
		s.afterJoin(ctx, p, id, t.team)
		return nil
	}
	s.conv.EndAccess(ctx, id, t.others, "taken")
	for _, u := range t.others {
		s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: u}.Key(), "chat.offer_ended",
			map[string]any{"conversation_id": id, "reason": "taken"})
	}
	s.conv.PublishTo(p.Key(), "chat.offer_ended", map[string]any{"conversation_id": id, "reason": "accepted"})
	if t.wasWaiting {
		s.conv.PublishSubject(conversation.WaitingSubject(q.ID), "queue.entry_removed", map[string]any{"conversation_id": id})
		s.pos.queue(q.ID) // the customers behind it move up
	}
	s.Poke()
	return nil
}

// errQueueMiss stops an accept's transaction when the queue cache does
// not hold the chat's queue: Take reads it outside and runs again.
var errQueueMiss = errors.New("routing: the queue is not cached")

// taken is what an accept's transaction did, to be told after it.
type taken struct {
	evs        []conversation.Event
	others     []auth.UserID // agents whose offers of the chat ended as taken
	team       *joined       // an invitation or a transfer accepted
	wasWaiting bool
}

// takeTx is the accept of chat c, locked in tx, by p: it checks that p
// may take it and has room, and makes the writes. An accepted route
// offer (or a chat picked from the waiting list) is two statements: the
// offers ended, the chat made active with its accepted event's seqs
// taken, p made one of its agents and p's last activity, in one; the
// accepted event in the other.
func (s *Router) takeTx(ctx context.Context, tx pgx.Tx, p auth.Principal, c conversation.Conversation, q queues.Queue) (taken, error) {
	var t taken
	id := c.ID
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
		return t, err
	}
	r := conversation.Relation{State: c.State}
	if member {
		r.Members = []auth.UserID{p.UserID}
	}
	if kind != nil {
		r.Offered = []auth.UserID{p.UserID}
	}
	if !conversation.Decide(p, r).Take {
		return t, queues.ErrNotFound
	}
	if kind != nil && *kind != KindRoute {
		t.team = &joined{kind: *kind, by: by}
		return t, s.joinTx(ctx, tx, p, c, t.team)
	}
	switch c.State {
	case conversation.StateActive:
		if conversation.HasAgent(c, p.UserID) {
			return t, queues.Conflict("you are already in this chat")
		}
		return t, queues.Conflict("another agent has taken this chat")
	case conversation.StateClosed:
		return t, queues.Conflict("the customer has left; the chat is closed")
	}
	t.wasWaiting = true
	if load >= q.Capacity {
		return t, queues.Conflict("you already have %d chats, the most this queue allows; close or wrap up one first", load)
	}
	// The accepted event is public: it takes the next seq and the next
	// public seq, in the same UPDATE that makes the chat active. The
	// data-modifying CTEs all run, whether the SELECT reads them or not.
	var ended []auth.UserID
	var seq, publicSeq int
	if err := tx.QueryRow(ctx, `WITH ended AS (
			UPDATE offers SET state = CASE WHEN user_id = $2 THEN 'accepted' ELSE 'taken' END, ended_at = now()
			WHERE conversation_id = $1 AND state = 'pending' AND kind = 'route' RETURNING user_id
		), agent AS (
			INSERT INTO conversation_agents (conversation_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
		), activity AS (
			INSERT INTO agent_status (user_id, last_activity_at) VALUES ($2, now())
			ON CONFLICT (user_id) DO UPDATE SET last_activity_at = now()
		), c AS (
			UPDATE conversations SET state = 'active', agent_id = $2, accepted_at = now(),
				last_seq = last_seq + 1, last_public_seq = last_public_seq + 1
			WHERE id = $1 RETURNING last_seq, last_public_seq
		)
		SELECT c.last_seq, c.last_public_seq, coalesce((SELECT array_agg(user_id) FROM ended), '{}') FROM c`,
		id, p.UserID).Scan(&seq, &publicSeq, &ended); err != nil {
		return t, err
	}
	for _, u := range ended {
		if u != p.UserID {
			t.others = append(t.others, u)
		}
	}
	a := conversation.AuthorOf(p, c)
	accepted := conversation.Event{ConversationID: id, Kind: conversation.KindAccepted, Author: a}
	if err := conversation.AppendTaken(ctx, tx, &accepted, seq, publicSeq); err != nil {
		return t, err
	}
	t.evs = append(t.evs, accepted)
	if q.Greeting != "" {
		g := conversation.Event{ConversationID: id, Kind: conversation.KindMessage, Author: a, Text: q.Greeting}
		if err := conversation.Append(ctx, tx, &g); err != nil {
			return t, err
		}
		t.evs = append(t.evs, g)
	}
	return t, nil
}
