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

// offerChunk is the most offers committed in one transaction.
const offerChunk = 32

// madeOffer is an offer committed, to be told.
type madeOffer struct {
	c         conversation.Conversation
	agents    []auth.UserID
	evs       []conversation.Event
	offeredAt time.Time
}

// offerAll sends chats to agents with a deadline, in one transaction.
// Chats no longer queued are left out.
func (s *Router) offerAll(ctx context.Context, q queues.Queue, plan []plannedOffer) error {
	ids := make([]conversation.ID, len(plan))
	for i, p := range plan {
		ids[i] = p.id
	}
	unlock := s.conv.Lock(ids...)
	defer unlock()
	deadline := time.Now().Add(time.Duration(q.AnswerSeconds) * time.Second)
	var made []madeOffer
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		made = made[:0]
		for _, p := range plan {
			o, err := offerTx(ctx, tx, p, deadline)
			if errors.Is(err, errStale) {
				continue // someone else moved it
			}
			if err != nil {
				return err
			}
			made = append(made, o)
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
		return err
	}
	staff := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent}
	for _, o := range made {
		s.conv.Publish(q, o.evs...)
		view, _ := s.conv.View(staff, q, o.c, nil)
		for _, a := range o.agents {
			s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: a}.Key(), "chat.offer", map[string]any{
				"kind": KindRoute, "conversation": view, "offered_at": o.offeredAt, "deadline": deadline,
			})
		}
		s.conv.PublishSubject(conversation.WaitingSubject(q.ID), "queue.entry", map[string]any{"conversation": view})
	}
	return nil
}

// offerTx offers one chat inside tx, or answers errStale when it is no
// longer queued.
func offerTx(ctx context.Context, tx pgx.Tx, p plannedOffer, deadline time.Time) (madeOffer, error) {
	o := madeOffer{agents: p.agents}
	var err error
	o.c, err = conversation.Get(ctx, tx, p.id, true)
	if err != nil {
		return o, err
	}
	if o.c.State != conversation.StateQueued {
		return o, errStale
	}
	for _, a := range p.agents {
		if err := tx.QueryRow(ctx, `INSERT INTO offers (conversation_id, user_id, state, deadline)
			VALUES ($1, $2, 'pending', $3) RETURNING offered_at`, p.id, a, deadline).Scan(&o.offeredAt); err != nil {
			return o, err
		}
		name, err := userName(ctx, tx, a)
		if err != nil {
			return o, err
		}
		ev := conversation.Event{ConversationID: p.id, Kind: conversation.KindOffered, Private: true,
			Author: conversation.AgentAuthor(name, a)}
		if err := conversation.Append(ctx, tx, &ev); err != nil {
			return o, err
		}
		o.evs = append(o.evs, ev)
	}
	_, err = tx.Exec(ctx, `UPDATE conversations SET state = 'offered' WHERE id = $1`, p.id)
	o.c.State = conversation.StateOffered
	return o, err
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
