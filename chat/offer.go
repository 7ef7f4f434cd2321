package chat

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// plannedOffer is a chat and whom to offer it to.
type plannedOffer struct {
	id     ConversationID
	agents []auth.UserID
}

// offerChunk is the most offers committed in one transaction.
const offerChunk = 32

// madeOffer is an offer committed, to be told.
type madeOffer struct {
	c         Conversation
	agents    []auth.UserID
	evs       []Event
	offeredAt time.Time
}

// offerAll sends chats to agents with a deadline, in one transaction.
// Chats no longer queued are left out.
func (s *Service) offerAll(ctx context.Context, q Queue, plan []plannedOffer) error {
	ids := make([]ConversationID, len(plan))
	for i, p := range plan {
		ids[i] = p.id
	}
	unlock := s.lockConversations(ids...)
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
		if q.Strategy == RoundRobin && len(made) > 0 {
			last := made[len(made)-1].agents[0]
			if _, err := tx.Exec(ctx, `UPDATE queues SET rr_last_user = $2 WHERE id = $1`, q.ID, last); err != nil {
				return err
			}
		}
		return nil
	})
	if q.Strategy == RoundRobin {
		s.forgetQueue(q.ID)
	}
	if err != nil {
		return err
	}
	staff := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent}
	for _, o := range made {
		s.publishEvents(q, o.evs...)
		view, _ := s.view(staff, q, o.c, nil)
		for _, a := range o.agents {
			s.publishTo(auth.Principal{Kind: auth.KindUser, UserID: a}.Key(), "chat.offer", map[string]any{
				"conversation": view, "offered_at": o.offeredAt, "deadline": deadline,
			})
		}
		s.publishSubject(WaitingSubject(q.ID), "queue.entry", map[string]any{"conversation": view})
	}
	return nil
}

// offerTx offers one chat inside tx, or answers errStale when it is no
// longer queued.
func offerTx(ctx context.Context, tx pgx.Tx, p plannedOffer, deadline time.Time) (madeOffer, error) {
	o := madeOffer{agents: p.agents}
	var err error
	o.c, err = getConversation(ctx, tx, p.id, true)
	if err != nil {
		return o, err
	}
	if o.c.State != StateQueued {
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
		ev := Event{ConversationID: p.id, Kind: KindOffered, Private: true,
			Author: Author{Kind: "agent", Name: name, key: auth.Principal{Kind: auth.KindUser, UserID: a}.Key()}}
		if err := appendEvent(ctx, tx, &ev); err != nil {
			return o, err
		}
		o.evs = append(o.evs, ev)
	}
	_, err = tx.Exec(ctx, `UPDATE conversations SET state = 'offered' WHERE id = $1`, p.id)
	o.c.State = StateOffered
	return o, err
}
