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
	var alerted time.Time
	for {
		s.step(ctx, "expire offers", s.expireOffers)
		s.step(ctx, "route", s.routeAll)
		if time.Since(alerted) >= waitAlertEvery {
			alerted = time.Now()
			s.step(ctx, "wait alerts", s.alertWaiting)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
	}
}

// step runs one of the router's steps within DBTimeout, and logs its
// failure unless the router is stopping.
func (s *Service) step(ctx context.Context, what string, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.DBTimeout)
	defer cancel()
	if err := f(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn(what, "err", err)
	} else if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.log.Warn(what, "err", "the database did not answer in time")
	}
}

// routeAll routes every queue with queued chats that this node routes
// now (Options.Turn). Each queue costs a few
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
		if mine, err := s.opt.Turn.Routes(ctx, qid); err != nil || !mine {
			if err != nil {
				return err
			}
			continue
		}
		if err := s.routeQueue(ctx, qid); err != nil {
			return err
		}
	}
	return nil
}

// DefaultRejectCooldown is how long, unless Options.RejectCooldown says
// otherwise, a chat an agent rejected or missed is not offered to that
// agent again. It is short because when no other agent has room the
// customer waits it out: then the chat goes back to the same agents.
const DefaultRejectCooldown = 15 * time.Second

// MissesBeforePause is how many offers in a row an agent may let run out
// before the router pauses the agent ("missed offer"). One miss is a
// moment away from the desk, and pausing for it would leave the chat
// with nobody when the agent is the only one on duty; two in a row say
// the agent is not there.
const MissesBeforePause = 2

// waitAlertEvery is how often the router looks for chats waiting past
// their queue's threshold: an alert may come up to this much late.
const waitAlertEvery = time.Second

type candidate struct {
	ID       auth.UserID
	Load     int       // open chats, chats to wrap up, and pending offers
	LastBusy time.Time // when the agent last took or ended a chat
}

// routeQueue offers a queue's queued chats, oldest first, by its
// strategy. When no agent has room for a chat, the later ones wait too,
// so order is kept. A chat that every agent with room turned down within
// the cool-down waits it out, and the chats behind it go on.
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
	cooling, held, err := s.cooling(ctx, qid)
	if err != nil {
		return err
	}
	// Up to held chats may be skipped as cooling; read enough behind
	// them to fill the room.
	rows, err := s.pool.Query(ctx, `SELECT id FROM conversations WHERE queue_id = $1 AND state = 'queued'
		ORDER BY queued_at, id LIMIT $2`, qid, room+held)
	if err != nil {
		return err
	}
	waiting, err := pgx.CollectRows(rows, pgx.RowTo[ConversationID])
	if err != nil {
		return err
	}
	var plan []plannedOffer
	for _, id := range waiting {
		var free []candidate
		roomLeft := false
		for _, m := range members {
			if m.Load >= q.Capacity {
				continue
			}
			roomLeft = true
			if !cooling[offerKey{id, m.ID}] {
				free = append(free, *m)
			}
		}
		if !roomLeft {
			break
		}
		if len(free) == 0 {
			continue
		}
		picked := pick(q, free)
		plan = append(plan, plannedOffer{id, picked})
		for _, m := range members {
			if slices.Contains(picked, m.ID) {
				m.Load++
			}
		}
		if q.Strategy == RoundRobin {
			q.RRLast = &picked[0]
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
// available and connected, with their load. A chat the customer ended
// counts until its agent wraps it up: the agent is still working on it.
func (s *Service) routable(ctx context.Context, qid QueueID) ([]*candidate, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.user_id,
			(SELECT count(*) FROM conversations c WHERE c.agent_id = m.user_id AND (c.state = 'active' OR c.wrap_up_due))
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
		if s.presence.Online(auth.Principal{Kind: auth.KindUser, UserID: c.ID}.Key()) {
			online = append(online, c)
		}
	}
	return online, nil
}

type offerKey struct {
	Conv ConversationID
	User auth.UserID
}

// cooling says which agents rejected or missed which of queue qid's
// queued chats within the cool-down: they are not offered those chats
// again yet. held is how many chats that concerns. It reads the offers
// turned down within the cool-down (an index range), not the queue.
func (s *Service) cooling(ctx context.Context, qid QueueID) (set map[offerKey]bool, held int, err error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT o.conversation_id, o.user_id FROM offers o
		JOIN conversations c ON c.id = o.conversation_id
		WHERE o.state IN ('rejected', 'expired') AND o.ended_at > now() - $2::interval
			AND c.queue_id = $1 AND c.state = 'queued'`,
		qid, s.opt.RejectCooldown.String())
	if err != nil {
		return nil, 0, err
	}
	pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[offerKey])
	if err != nil {
		return nil, 0, err
	}
	set = make(map[offerKey]bool, len(pairs))
	chats := make(map[ConversationID]bool)
	for _, k := range pairs {
		set[k] = true
		chats[k.Conv] = true
	}
	return set, len(chats), nil
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
			if q.RRLast != nil && c.ID > *q.RRLast {
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

// expireOffers ends the offers past their deadline of the queues this
// node routes (Options.Turn): the chat goes back to its queue, and an agent who missed MissesBeforePause in a row is paused
// ("missed offer").
func (s *Service) expireOffers(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT o.id, o.conversation_id, o.user_id, c.queue_id FROM offers o
		JOIN conversations c ON c.id = o.conversation_id
		WHERE o.state = 'pending' AND o.deadline <= now() ORDER BY o.deadline`)
	if err != nil {
		return err
	}
	type expired struct {
		ID    int64
		Conv  ConversationID
		User  auth.UserID
		Queue QueueID
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

// endOffer ends user's pending offer of conversation id as rejected or
// expired. The agent's MissesBeforePause-th expired offer in a row
// pauses the agent.
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
			// The agent's last answers: accepted and rejected offers end a
			// run of misses; taken and withdrawn ones were not the agent's
			// to answer.
			var misses int
			if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'expired') FROM (
					SELECT state FROM offers WHERE user_id = $1 AND state IN ('accepted', 'rejected', 'expired')
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
		return detail(ErrForbidden, "only agents reject offers")
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
		return Conversation{}, nil, detail(ErrForbidden, "only agents accept chats")
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
		r := Relation{State: c.State}
		if member {
			r.Members = []auth.UserID{p.UserID}
		}
		if offered {
			r.Offered = []auth.UserID{p.UserID}
		}
		if !Decide(p, r).Take {
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
				(SELECT count(*) FROM conversations WHERE agent_id = $1 AND (state = 'active' OR wrap_up_due))
				+ (SELECT count(*) FROM offers WHERE user_id = $1 AND state = 'pending' AND conversation_id <> $2)`,
			p.UserID, id).Scan(&load); err != nil {
			return err
		}
		if load >= q.Capacity {
			return conflict("you already have %d chats, the most this queue allows; close or wrap up one first", load)
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
// for supervisors and admins (seesEveryQueue).
func (s *Service) WaitingQueues(ctx context.Context, p auth.Principal) ([]QueueID, error) {
	if !p.IsStaff() {
		return nil, detail(ErrForbidden, "the waiting list is for agents")
	}
	qrows, err := s.pool.Query(ctx, `SELECT queue_id FROM queue_members WHERE user_id = $1
		UNION SELECT id FROM queues WHERE $2`, p.UserID, seesEveryQueue(p))
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

// alertWaiting marks the chats that have waited longer than their queue's
// WaitAlertSeconds, once each (the UPDATE marks a chat on one node only,
// so it needs no Turn), and tells the queues' waiting lists (which
// supervisors follow) with a queue.entry carrying wait_alert_at. The
// alert ends with the entry: queue.entry_removed when the chat is taken
// or closed.
func (s *Service) alertWaiting(ctx context.Context) error {
	// The bound by the shortest threshold lets the index skip the chats
	// that have not waited long enough in any queue.
	rows, err := s.pool.Query(ctx, `UPDATE conversations c SET wait_alert_at = now() FROM queues q
		WHERE q.id = c.queue_id AND c.state IN ('queued', 'offered') AND c.wait_alert_at IS NULL
			AND c.queued_at <= now() - make_interval(secs => (SELECT min(wait_alert_seconds) FROM queues))
			AND c.queued_at <= now() - make_interval(secs => q.wait_alert_seconds)
		RETURNING c.id`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[ConversationID])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.tellWaitAlert(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// tellWaitAlert publishes chat id's entry with its alert, read under its
// stripe so that it cannot overtake a queue.entry_removed.
func (s *Service) tellWaitAlert(ctx context.Context, id ConversationID) error {
	unlock := s.lockConversations(id)
	defer unlock()
	c, err := getConversation(ctx, s.pool, id, false)
	if err != nil {
		return err
	}
	q, err := s.queue(ctx, c.Queue.ID)
	if err != nil {
		return err
	}
	if c.State == StateQueued || c.State == StateOffered {
		s.log.Info("chat waits past its queue's alert", "conversation", id, "queue", q.ID, "seconds", q.WaitAlertSeconds)
		s.publishWaiting(q, c)
	}
	return nil
}

// publishWaiting tells the queue's agents that a chat waits.
func (s *Service) publishWaiting(q Queue, c Conversation) {
	view, _ := s.view(auth.Principal{Kind: auth.KindUser}, q, c, nil)
	s.publishSubject(WaitingSubject(q.ID), "queue.entry", map[string]any{"conversation": view})
}
