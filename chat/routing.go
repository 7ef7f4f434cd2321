package chat

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// routeLoop offers waiting chats to agents and expires unanswered offers.
// It runs when poked (a chat arrives, an agent frees up or comes back) and
// on every tick. All of its state is in Postgres, so after a restart it
// carries on where it stopped.
func (s *Service) routeLoop(ctx context.Context) {
	t := time.NewTicker(s.opt.Tick)
	defer t.Stop()
	for {
		if err := s.expireOffers(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("expire offers", "err", err)
		}
		if err := s.routeAll(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("route", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
	}
}

// routeAll routes every queue with queued chats. Each queue costs a few
// queries a pass, however many chats wait: its members' load is read once
// and kept up to date in memory as offers go out, and no more waiting
// chats are read than its members have room for.
func (s *Service) routeAll(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT queue_id FROM conversations WHERE state = 'queued'
		GROUP BY queue_id ORDER BY min(queued_at)`)
	if err != nil {
		return err
	}
	queues, err := pgx.CollectRows(rows, pgx.RowTo[QueueID])
	if err != nil {
		return err
	}
	for _, qid := range queues {
		if err := s.routeQueue(ctx, qid); err != nil {
			return err
		}
	}
	return nil
}

type candidate struct {
	ID       auth.UserID
	Load     int       // open chats plus pending offers
	LastBusy time.Time // when the agent last took or ended a chat
}

// routeQueue offers a queue's queued chats, oldest first, by its
// strategy. When no agent has room for a chat, the later ones wait too,
// so order is kept.
func (s *Service) routeQueue(ctx context.Context, qid QueueID) error {
	q, err := s.queue(ctx, qid)
	if err != nil {
		return err
	}
	members, err := s.routable(ctx, qid)
	if err != nil {
		return err
	}
	room := 0 // every offer takes at least one member's place
	for _, m := range members {
		room += max(0, q.Capacity-m.Load)
	}
	if room == 0 {
		return nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM conversations WHERE queue_id = $1 AND state = 'queued'
		ORDER BY queued_at, id LIMIT $2`, qid, room)
	if err != nil {
		return err
	}
	waiting, err := pgx.CollectRows(rows, pgx.RowTo[ConversationID])
	if err != nil {
		return err
	}
	cooling, err := s.cooling(ctx, waiting)
	if err != nil {
		return err
	}
	var plan []plannedOffer
	for _, id := range waiting {
		var free []candidate
		for _, m := range members {
			if m.Load < q.Capacity && !cooling[offerKey{id, m.ID}] {
				free = append(free, *m)
			}
		}
		if len(free) == 0 {
			break
		}
		picked := pick(q, free)
		plan = append(plan, plannedOffer{id, picked})
		for _, m := range members {
			if slices.Contains(picked, m.ID) {
				m.Load++
			}
		}
		if q.Strategy == RoundRobin {
			q.rrLast = &picked[0]
		}
	}
	// A chat someone else moved meanwhile is skipped; the places it took
	// in the plan are free again at the next pass.
	for len(plan) > 0 {
		n := min(len(plan), offerChunk)
		if err := s.offerAll(ctx, q, plan[:n]); err != nil {
			return err
		}
		plan = plan[n:]
	}
	return nil
}

// routable lists the members of queue qid who take chats now: enabled,
// available and connected, with their load.
func (s *Service) routable(ctx context.Context, qid QueueID) ([]*candidate, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.user_id,
			(SELECT count(*) FROM conversations c WHERE c.agent_id = m.user_id AND c.state = 'active')
			+ (SELECT count(*) FROM offers o WHERE o.user_id = m.user_id AND o.state = 'pending'),
			coalesce(st.last_activity_at, 'epoch')
		FROM queue_members m
		JOIN users u ON u.id = m.user_id AND NOT u.disabled
		LEFT JOIN agent_status st ON st.user_id = m.user_id
		WHERE m.queue_id = $1 AND coalesce(st.status, 'available') = 'available'`, qid)
	if err != nil {
		return nil, err
	}
	all, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByPos[candidate])
	if err != nil {
		return nil, err
	}
	online := all[:0]
	for _, c := range all {
		if s.presence.online(auth.Principal{Kind: auth.KindUser, UserID: c.ID}.Key()) {
			online = append(online, c)
		}
	}
	return online, nil
}

type offerKey struct {
	Conv ConversationID
	User auth.UserID
}

// cooling says which agents rejected or missed which of the chats within
// the cooldown: they are not offered those chats again yet.
func (s *Service) cooling(ctx context.Context, ids []ConversationID) (map[offerKey]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT conversation_id, user_id FROM offers
		WHERE conversation_id = ANY ($1) AND state IN ('rejected', 'expired') AND ended_at > now() - $2::interval`,
		ids, s.opt.RejectCooldown.String())
	if err != nil {
		return nil, err
	}
	pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[offerKey])
	if err != nil {
		return nil, err
	}
	set := make(map[offerKey]bool, len(pairs))
	for _, k := range pairs {
		set[k] = true
	}
	return set, nil
}

// pick chooses whom to offer to by the queue's strategy.
func pick(q Queue, free []candidate) []auth.UserID {
	idle := func(i, j int) bool {
		if !free[i].LastBusy.Equal(free[j].LastBusy) {
			return free[i].LastBusy.Before(free[j].LastBusy)
		}
		return free[i].ID < free[j].ID
	}
	switch q.Strategy {
	case RingAll:
		ids := make([]auth.UserID, len(free))
		for i, c := range free {
			ids[i] = c.ID
		}
		return ids
	case LeastBusy:
		sort.Slice(free, func(i, j int) bool {
			if free[i].Load != free[j].Load {
				return free[i].Load < free[j].Load
			}
			return idle(i, j)
		})
	case RoundRobin:
		sort.Slice(free, func(i, j int) bool { return free[i].ID < free[j].ID })
		// The first agent after the one offered last, wrapping round.
		for _, c := range free {
			if q.rrLast != nil && c.ID > *q.rrLast {
				return []auth.UserID{c.ID}
			}
		}
	default: // LongestIdle
		sort.Slice(free, idle)
	}
	return []auth.UserID{free[0].ID}
}

var errStale = errors.New("chat: conversation moved on")

func userName(ctx context.Context, db querier, id auth.UserID) (string, error) {
	var name string
	err := db.QueryRow(ctx, `SELECT display_name FROM users WHERE id = $1`, id).Scan(&name)
	return name, err
}

// expireOffers ends offers past their deadline: the agent is paused
// ("missed offer") and the chat goes back to its queue.
func (s *Service) expireOffers(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT id, conversation_id, user_id FROM offers
		WHERE state = 'pending' AND deadline <= now() ORDER BY deadline`)
	if err != nil {
		return err
	}
	type expired struct {
		ID   int64
		Conv ConversationID
		User auth.UserID
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[expired])
	if err != nil {
		return err
	}
	for _, e := range list {
		if err := s.endOffer(ctx, e.Conv, e.User, "expired"); err != nil && !errors.Is(err, errStale) {
			return err
		}
	}
	return nil
}

// endOffer ends user's pending offer of conversation id as rejected or
// expired. An expired offer pauses the agent.
func (s *Service) endOffer(ctx context.Context, id ConversationID, user auth.UserID, how string) error {
	c, err := getConversation(ctx, s.pool, id, false)
	if err != nil {
		return err
	}
	q, err := s.queue(ctx, c.Queue.ID)
	if err != nil {
		return err
	}
	unlock := s.lockConversations(id)
	defer unlock()
	var ev Event
	var status *AgentStatus
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err = getConversation(ctx, tx, id, true)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE offers SET state = $3, ended_at = now()
			WHERE conversation_id = $1 AND user_id = $2 AND state = 'pending'`, id, user, how)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errStale
		}
		var others bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM offers WHERE conversation_id = $1 AND state = 'pending')`,
			id).Scan(&others); err != nil {
			return err
		}
		if !others && c.State == StateOffered {
			if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'queued' WHERE id = $1`, id); err != nil {
				return err
			}
			c.State = StateQueued
		}
		name, err := userName(ctx, tx, user)
		if err != nil {
			return err
		}
		kind := KindRejected
		if how == "expired" {
			kind = KindMissed
			st, err := setStatus(ctx, tx, user, StatusPaused, "missed offer")
			if err != nil {
				return err
			}
			status = &st
		}
		ev = Event{ConversationID: id, Kind: kind, Private: true,
			Author: Author{Kind: "agent", Name: name, key: auth.Principal{Kind: auth.KindUser, UserID: user}.Key()}}
		return appendEvent(ctx, tx, &ev)
	})
	if err != nil {
		return err
	}
	s.publishEvents(q, ev)
	key := auth.Principal{Kind: auth.KindUser, UserID: user}.Key()
	reason := "rejected"
	if how == "expired" {
		reason = "timeout"
	}
	s.endConversationAccess(ctx, id, []auth.UserID{user}, reason)
	s.publishTo(key, "chat.offer_ended", map[string]any{"conversation_id": id, "reason": reason})
	if status != nil {
		s.publishTo(key, "agent.status", status)
		s.log.Info("offer timed out; agent paused", "conversation", id, "agent", user)
	}
	if c.State == StateQueued {
		view, _ := s.view(auth.Principal{Kind: auth.KindUser}, q, c, nil)
		s.publishSubject(WaitingSubject(q.ID), "queue.entry", map[string]any{"conversation": view})
	}
	s.poke()
	return nil
}

// Reject declines p's offer of conversation id.
func (s *Service) Reject(ctx context.Context, p auth.Principal, id ConversationID) error {
	if !p.IsStaff() {
		return detail{ErrForbidden, "only agents reject offers"}
	}
	err := s.endOffer(ctx, id, p.UserID, "rejected")
	if errors.Is(err, errStale) {
		return conflict("there is no offer of this chat to you (it may have timed out or been taken)")
	}
	return err
}

// Accept gives conversation id to agent p: an offer to p, or a chat
// waiting in one of p's queues (picked from the waiting list).
func (s *Service) Accept(ctx context.Context, p auth.Principal, id ConversationID) (Conversation, []Event, error) {
	if !p.Is(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin) {
		return Conversation{}, nil, detail{ErrForbidden, "only agents accept chats"}
	}
	c, err := getConversation(ctx, s.pool, id, false)
	if err != nil {
		return Conversation{}, nil, err
	}
	q, err := s.queue(ctx, c.Queue.ID)
	if err != nil {
		return Conversation{}, nil, err
	}
	unlock := s.lockConversations(id)
	var evs []Event
	var others []auth.UserID
	wasWaiting := false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err = getConversation(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var member, offered bool
		if err := tx.QueryRow(ctx, `SELECT
				EXISTS (SELECT 1 FROM queue_members WHERE queue_id = $1 AND user_id = $2),
				EXISTS (SELECT 1 FROM offers WHERE conversation_id = $3 AND user_id = $2 AND state = 'pending')`,
			c.Queue.ID, p.UserID, id).Scan(&member, &offered); err != nil {
			return err
		}
		if !member && !offered {
			return ErrNotFound
		}
		switch c.State {
		case StateActive:
			return conflict("another agent has taken this chat")
		case StateClosed:
			return conflict("the customer has left; the chat is closed")
		}
		wasWaiting = true
		// Room: open chats and other pending offers, against the queue's capacity.
		var load int
		if err := tx.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM conversations WHERE agent_id = $1 AND state = 'active')
				+ (SELECT count(*) FROM offers WHERE user_id = $1 AND state = 'pending' AND conversation_id <> $2)`,
			p.UserID, id).Scan(&load); err != nil {
			return err
		}
		if load >= q.Capacity {
			return conflict("you already have %d chats, the most this queue allows; close one first", load)
		}
		rows, err := tx.Query(ctx, `UPDATE offers SET state = CASE WHEN user_id = $2 THEN 'accepted' ELSE 'taken' END,
			ended_at = now() WHERE conversation_id = $1 AND state = 'pending' RETURNING user_id`, id, p.UserID)
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
		if _, err := tx.Exec(ctx, `INSERT INTO agent_status (user_id, last_activity_at) VALUES ($1, now())
			ON CONFLICT (user_id) DO UPDATE SET last_activity_at = now()`, p.UserID); err != nil {
			return err
		}
		a := author(p, c)
		accepted := Event{ConversationID: id, Kind: KindAccepted, Author: a}
		if err := appendEvent(ctx, tx, &accepted); err != nil {
			return err
		}
		evs = append(evs, accepted)
		if q.Greeting != "" {
			g := Event{ConversationID: id, Kind: KindMessage, Author: a, Text: q.Greeting}
			if err := appendEvent(ctx, tx, &g); err != nil {
				return err
			}
			evs = append(evs, g)
		}
		return nil
	})
	if err == nil {
		s.publishEvents(q, evs...)
	}
	unlock()
	if err != nil {
		return Conversation{}, nil, err
	}
	s.endConversationAccess(ctx, id, others, "taken")
	for _, u := range others {
		s.publishTo(auth.Principal{Kind: auth.KindUser, UserID: u}.Key(), "chat.offer_ended",
			map[string]any{"conversation_id": id, "reason": "taken"})
	}
	s.publishTo(p.Key(), "chat.offer_ended", map[string]any{"conversation_id": id, "reason": "accepted"})
	if wasWaiting {
		s.publishSubject(WaitingSubject(q.ID), "queue.entry_removed", map[string]any{"conversation_id": id})
	}
	s.poke()
	return s.Resume(ctx, p, id, 0)
}

// WaitingQueues lists the queues whose waiting list p follows (their
// WaitingSubject carries the changes): an agent's own queues, every queue
// for supervisors and admins (followsEveryQueue).
func (s *Service) WaitingQueues(ctx context.Context, p auth.Principal) ([]QueueID, error) {
	if !p.IsStaff() {
		return nil, detail{ErrForbidden, "the waiting list is for agents"}
	}
	qrows, err := s.pool.Query(ctx, `SELECT queue_id FROM queue_members WHERE user_id = $1
		UNION SELECT id FROM queues WHERE $2`, p.UserID, followsEveryQueue(p))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(qrows, pgx.RowTo[QueueID])
}

// Waiting lists the chats waiting in p's queues, oldest first, and the
// queues (see WaitingQueues).
func (s *Service) Waiting(ctx context.Context, p auth.Principal) ([]Conversation, []QueueID, error) {
	queues, err := s.WaitingQueues(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+conversationColumns+conversationFrom+`
		WHERE c.queue_id = ANY ($1) AND c.state IN ('queued', 'offered') ORDER BY c.queued_at, c.id`, queues)
	if err != nil {
		return nil, nil, err
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conversation, error) { return scanConversation(r) })
	if err != nil {
		return nil, nil, err
	}
	for i, c := range cs {
		q, err := s.queue(ctx, c.Queue.ID)
		if err != nil {
			return nil, nil, err
		}
		cs[i], _ = s.view(p, q, c, nil)
	}
	return cs, queues, nil
}

// publishWaiting tells the queue's agents that a chat waits.
func (s *Service) publishWaiting(q Queue, c Conversation) {
	view, _ := s.view(auth.Principal{Kind: auth.KindUser}, q, c, nil)
	s.publishSubject(WaitingSubject(q.ID), "queue.entry", map[string]any{"conversation": view})
}
