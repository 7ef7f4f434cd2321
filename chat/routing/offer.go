package routing

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// plannedOffer is a chat and whom to offer it to.
type plannedOffer struct {
	id     conversation.ID
	agents []auth.UserID
}

// offerChunk is the most chats offered in one transaction. A chunk
// costs the same three statements however many chats it holds
// (offerChunkTx), so it is large; it is bounded so that a pass over a
// long queue commits, and tells, its first offers early.
const offerChunk = 128

// madeOffer is an offer committed, to be told.
type madeOffer struct {
	c         conversation.Conversation
	agents    []auth.UserID
	evs       []conversation.Event
	offeredAt time.Time
}

// offerAll sends chats to agents with a deadline, in one transaction,
// and says how many it offered. Chats no longer queued are left out.
func (s *Router) offerAll(ctx context.Context, q queues.Queue, plan []plannedOffer) (int, error) {
	ids := make([]conversation.ID, len(plan))
	for i, p := range plan {
		ids[i] = p.id
	}
	unlock := s.conv.Lock(ids...)
	defer unlock()
	deadline := time.Now().Add(time.Duration(q.AnswerSeconds) * time.Second)
	var made []madeOffer
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		made, err = offerChunkTx(ctx, tx, plan, deadline)
		if err != nil {
			return err
		}
		if q.Strategy == queues.RoundRobin && len(made) > 0 {
			last := made[len(made)-1].agents[0]
			if _, err := tx.Exec(ctx, `UPDATE queues SET rr_last_user = $2 WHERE id = $1`, q.ID, last); err != nil {
				return err
			}
		}
		return nil
	})
	if q.Strategy == queues.RoundRobin {
		s.forgetQueue(q.ID)
	}
	if err != nil {
		return 0, err
	}
	staff := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent}
	for _, o := range made {
		s.log.Debug("routing: offered", "conversation", o.c.ID, "queue", q.ID, "agents", o.agents, "deadline", deadline)
		s.conv.Publish(q, o.evs...)
		view, _ := s.conv.View(staff, q, o.c, nil)
		for _, a := range o.agents {
			s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: a}.Key(), "chat.offer", map[string]any{
				"kind": KindRoute, "conversation": view, "offered_at": o.offeredAt, "deadline": deadline,
			})
		}
		s.conv.PublishSubject(conversation.WaitingSubject(q.ID), "queue.entry", map[string]any{"conversation": view})
	}
	return len(made), nil
}

// offerChunkTx offers the chats of plan inside tx, leaving out those no
// longer queued (someone else moved them), in a fixed number of
// statements: lock and read the chats, insert the offers (reading the
// agents' names), append the offered events and mark the chats offered
// (conversation.AppendPrivateSetting). It returns the offers made, in
// plan's order.
func offerChunkTx(ctx context.Context, tx pgx.Tx, plan []plannedOffer, deadline time.Time) ([]madeOffer, error) {
	ids := make([]conversation.ID, len(plan))
	for i, p := range plan {
		ids[i] = p.id
	}
	// By id, so that two transactions lock the chats they share in one order.
	rows, err := tx.Query(ctx, `SELECT `+conversation.Columns+conversation.From+` WHERE c.id = ANY($1) ORDER BY c.id FOR UPDATE OF c`, ids)
	if err != nil {
		return nil, err
	}
	convs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (conversation.Conversation, error) { return conversation.Scan(r) })
	if err != nil {
		return nil, err
	}
	byID := make(map[conversation.ID]conversation.Conversation, len(convs))
	for _, c := range convs {
		if c.State == conversation.StateQueued {
			byID[c.ID] = c
		}
	}
	var made []madeOffer
	var offerConvs []conversation.ID
	var offerUsers []auth.UserID
	for _, p := range plan {
		c, ok := byID[p.id]
		if !ok {
			continue // no longer queued
		}
		delete(byID, p.id) // a chat is planned once; were it twice, it is offered once
		c.State = conversation.StateOffered
		made = append(made, madeOffer{c: c, agents: p.agents})
		for _, a := range p.agents {
			offerConvs = append(offerConvs, p.id)
			offerUsers = append(offerUsers, a)
		}
	}
	if len(made) == 0 {
		return nil, nil
	}
	// The offers, and the names of their agents for the offered events,
	// in one statement.
	var offeredAt time.Time // now(): the same for every row of the transaction
	names := make(map[auth.UserID]string)
	rows, err = tx.Query(ctx, `WITH o AS (INSERT INTO offers (conversation_id, user_id, state, deadline)
			SELECT c, u, 'pending', $3 FROM unnest($1::bigint[], $2::bigint[]) AS p(c, u) RETURNING user_id, offered_at)
		SELECT DISTINCT o.user_id, u.display_name, o.offered_at FROM o JOIN users u ON u.id = o.user_id`, offerConvs, offerUsers, deadline)
	if err != nil {
		return nil, err
	}
	var id auth.UserID
	var name string
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &name, &at}, func() error {
		names[id], offeredAt = name, at
		return nil
	}); err != nil {
		return nil, err
	}
	var evs []*conversation.Event
	for i := range made {
		o := &made[i]
		o.offeredAt = offeredAt
		o.evs = make([]conversation.Event, len(o.agents))
		for j, a := range o.agents {
			o.evs[j] = conversation.Event{ConversationID: o.c.ID, Kind: conversation.KindOffered, Private: true,
				Author: conversation.AgentAuthor(names[a], a)}
			evs = append(evs, &o.evs[j])
		}
	}
	// The offered events, and the chats marked offered, in one statement.
	return made, conversation.AppendPrivateSetting(ctx, tx, evs, conversation.StateOffered)
}

var errStale = errors.New("chat: conversation moved on")

func userName(ctx context.Context, db conversation.Querier, id auth.UserID) (string, error) {
	var name string
	err := db.QueryRow(ctx, `SELECT display_name FROM users WHERE id = $1`, id).Scan(&name)
	return name, err
}

// expireOffers ends the offers past their deadline of the queues this
// node routes (Options.Turn): the chat goes back to its queue, and an agent who missed MissesBeforePause in a row is paused
// ("missed offer").
func (s *Router) expireOffers(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT o.id, o.conversation_id, o.user_id, c.queue_id FROM offers o
		JOIN conversations c ON c.id = o.conversation_id
		WHERE o.state = 'pending' AND o.deadline <= now() ORDER BY o.deadline`)
	if err != nil {
		return err
	}
	type expired struct {
		ID    int64
		Conv  conversation.ID
		User  auth.UserID
		Queue queues.QueueID
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[expired])
	if err != nil {
		return err
	}
	for _, e := range list {
		if mine, err := s.opt.Turn.Routes(ctx, e.Queue); err != nil || !mine {
			if err != nil {
				return err
			}
			continue
		}
		if err := s.endOffer(ctx, e.Conv, e.User, "expired"); err != nil && !errors.Is(err, errStale) {
			return err
		}
	}
	return nil
}

// teamEndStatus is the status of the invite_ended or transfer_ended
// event of an invitation or transfer that ended as how.
var teamEndStatus = map[string]string{"rejected": "declined", "expired": "timeout", "cancelled": "cancelled"}

// endOffer ends user's pending offer of conversation id as rejected,
// expired or (invitations and transfers) cancelled. The agent's
// MissesBeforePause-th expired route offer in a row pauses the agent,
// unless the chat's queue says missed offers are ignored
// (queues.MissedIgnore): then the agent stays available.
func (s *Router) endOffer(ctx context.Context, id conversation.ID, user auth.UserID, how string) error {
	c, q, err := s.conv.WithQueue(ctx, id)
	if err != nil {
		return err
	}
	unlock := s.conv.Lock(id)
	defer unlock()
	var ev conversation.Event
	var status *AgentStatus
	var kind string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err = conversation.Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `UPDATE offers SET state = $3, ended_at = now()
			WHERE conversation_id = $1 AND user_id = $2 AND state = 'pending' RETURNING kind`, id, user, how).Scan(&kind)
		if errors.Is(err, pgx.ErrNoRows) {
			return errStale
		}
		if err != nil {
			return err
		}
		if kind != KindRoute {
			// An invitation or a transfer that ends changes nothing else:
			// the chat stays with its agents, and a colleague who let it
			// run out is not paused for it.
			name, err := userName(ctx, tx, user)
			if err != nil {
				return err
			}
			ev = conversation.Event{ConversationID: id, Kind: conversation.KindInviteEnded, Private: true,
				Author: conversation.AgentAuthor(name, user), Status: teamEndStatus[how]}
			if kind == KindTransfer {
				ev.Kind = conversation.KindTransferEnded
			}
			return conversation.Append(ctx, tx, &ev)
		}
		var others bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM offers WHERE conversation_id = $1 AND state = 'pending' AND kind = 'route')`,
			id).Scan(&others); err != nil {
			return err
		}
		if !others && c.State == conversation.StateOffered {
			if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'queued' WHERE id = $1`, id); err != nil {
				return err
			}
			c.State = conversation.StateQueued
		}
		name, err := userName(ctx, tx, user)
		if err != nil {
			return err
		}
		kind := conversation.KindRejected
		if how == "expired" {
			kind = conversation.KindMissed
		}
		if how == "expired" && q.MissedOffers != queues.MissedIgnore {
			// The agent's last answers: accepted and rejected offers end a
			// run of misses; taken and withdrawn ones were not the agent's
			// to answer.
			var misses int
			if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'expired') FROM (
					SELECT state FROM offers WHERE user_id = $1 AND state IN ('accepted', 'rejected', 'expired')
						AND kind = 'route'
					ORDER BY ended_at DESC LIMIT $2) last`, user, MissesBeforePause).Scan(&misses); err != nil {
				return err
			}
			if misses >= MissesBeforePause {
				st, err := setStatus(ctx, tx, user, StatusPaused, "missed offer")
				if err != nil {
					return err
				}
				status = &st
			}
		}
		ev = conversation.Event{ConversationID: id, Kind: kind, Private: true,
			Author: conversation.AgentAuthor(name, user)}
		return conversation.Append(ctx, tx, &ev)
	})
	if err != nil {
		return err
	}
	s.log.Debug("routing: offer ended", "conversation", id, "agent", user, "how", how)
	s.conv.Publish(q, ev)
	key := auth.Principal{Kind: auth.KindUser, UserID: user}.Key()
	reason := map[string]string{"rejected": "rejected", "expired": "timeout", "cancelled": "cancelled"}[how]
	s.conv.EndAccess(ctx, id, []auth.UserID{user}, reason)
	s.conv.PublishTo(key, "chat.offer_ended", map[string]any{"conversation_id": id, "reason": reason})
	if status != nil {
		s.conv.PublishTo(key, "agent.status", status)
		s.opt.OnStatus(user)
		s.log.Info("offer timed out; agent paused", "conversation", id, "agent", user)
	}
	if c.State == conversation.StateQueued {
		s.conv.PublishWaiting(q, c)
	}
	s.Poke()
	return nil
}

// Reject declines p's offer of conversation id.
func (s *Router) Reject(ctx context.Context, p auth.Principal, id conversation.ID) error {
	if !p.IsStaff() {
		return queues.Detail(queues.ErrForbidden, "only agents reject offers")
	}
	err := s.endOffer(ctx, id, p.UserID, "rejected")
	if errors.Is(err, errStale) {
		return queues.Conflict("there is no offer of this chat to you (it may have timed out or been taken)")
	}
	return err
}
