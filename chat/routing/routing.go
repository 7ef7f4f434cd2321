package routing

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// routeLoop offers waiting chats to agents. It runs when poked (a chat
// arrives, an agent frees up or comes back) and on every tick. All of its
// state is in Postgres, so after a restart it carries on where it
// stopped.
//
// The timed steps (expiring offers, wait alerts, the queues' rules, the
// sweep of uploads) run beside it in timerLoop, not between its passes:
// a pass that waited for them (a look at the rules took 40–290 ms on a
// loaded machine) held every chat that arrived meanwhile, and made most
// of the tail of queued → offer. They need no turn with the passes: each
// change they make is checked again on the chat's locked row, as on
// another node's router.
func (s *Router) routeLoop(ctx context.Context) {
	t := time.NewTicker(s.opt.Tick)
	defer t.Stop()
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		start := time.Now()
		var offered int
		s.step(ctx, "route", func(ctx context.Context) (err error) {
			offered, err = s.routeAll(ctx)
			return err
		})
		took := time.Since(start)
		if offered > 0 {
			s.log.Debug("routing: pass", "offered", offered, "took", took)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
		if wait := nextPass(took, offered) - time.Since(start); wait > 0 {
			gap.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-gap.C:
			}
		}
	}
}

// passGap is the least time from the start of one pass to the start of
// the next: a chat waits up to this much more for its offer when passes
// are quick.
const passGap = 10 * time.Millisecond

// nextPass is the least time from the start of a pass that took took and
// offered offered chats to the start of the next: passGap, so that the
// chats that arrive together share a pass, and after a pass that took
// longer, a rest after it in proportion to the chats it offered, up to
// as long as it took for a whole chunk (offerChunk) or more: a backlog.
//
// When the router is behind (session 12's runs at 200 joins a second on
// a loaded machine), passes back to back starved the accepts: each pass
// reads every member's load over the open chats and holds the
// conversation stripes of the chats it offers through its transaction,
// and the rest lets the accepts through. A slow pass of a few chats is
// not that: its time was mostly the database's (a commit or a statement
// slowed by the machine's load), and a rest as long as it took made
// every chat that queued meanwhile wait twice as long for nothing. That
// was most of the tail of queued → offer at 100 joins a second (a pass of
// 214 ms for 4 chats, then 214 ms of rest while 48 chats queued, offered
// 560 ms after they queued).
func nextPass(took time.Duration, offered int) time.Duration {
	rest := took * time.Duration(min(offered, offerChunk)) / offerChunk
	return max(passGap, took+rest)
}

// timerLoop runs the router's timed steps: every tick it expires the
// offers past their deadline (an expired offer pokes the route loop),
// every waitAlertEvery it raises wait alerts, every rulesEvery it
// enforces the queues' rules, every sweepEvery it sweeps uploads.
func (s *Router) timerLoop(ctx context.Context) {
	t := time.NewTicker(s.opt.Tick)
	defer t.Stop()
	var alerted, enforced, swept time.Time
	for {
		s.step(ctx, "expire offers", s.expireOffers)
		if time.Since(alerted) >= waitAlertEvery {
			alerted = time.Now()
			s.step(ctx, "wait alerts", s.alertWaiting)
		}
		if time.Since(enforced) >= rulesEvery {
			enforced = time.Now()
			s.step(ctx, "queue rules", s.enforceRules) // rules.go
		}
		if time.Since(swept) >= sweepEvery {
			swept = time.Now()
			s.step(ctx, "sweep uploads", s.sweepUploads)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepEvery is how often the router deletes the uploads never sent
// (conversation.SweepUploads): a DELETE on every node, which needs no
// Turn (each row is deleted once).
const sweepEvery = time.Minute

func (s *Router) sweepUploads(ctx context.Context) error {
	n, err := s.conv.SweepUploads(ctx, conversation.PendingUploadTTL)
	if n > 0 {
		s.log.Info("deleted uploads never sent", "files", n, "older than", conversation.PendingUploadTTL)
	}
	return err
}

// step runs one of the router's steps within DBTimeout, and logs its
// failure unless the router is stopping.
func (s *Router) step(ctx context.Context, what string, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.DBTimeout)
	defer cancel()
	if err := f(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn(what, "err", err)
	} else if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.log.Warn(what, "err", "the database did not answer in time")
	}
}

// routeAll routes every queue with queued chats that this node routes now
// (Options.Turn), and says how many chats it offered. Each queue costs a
// few queries a pass, however many chats wait: its members' load is read
// once and kept up to date in memory as offers go out, and no more
// waiting chats are read than its members have room for.
func (s *Router) routeAll(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT queue_id FROM conversations WHERE state = 'queued'
		GROUP BY queue_id ORDER BY min(queued_at)`)
	if err != nil {
		return 0, err
	}
	queues, err := pgx.CollectRows(rows, pgx.RowTo[queues.QueueID])
	if err != nil {
		return 0, err
	}
	offered := 0
	for _, qid := range queues {
		if mine, err := s.opt.Turn.Routes(ctx, qid); err != nil || !mine {
			if err != nil {
				return offered, err
			}
			s.log.Debug("routing: another node routes the queue", "queue", qid)
			continue
		}
		n, err := s.routeQueue(ctx, qid)
		offered += n
		if err != nil {
			return offered, err
		}
	}
	return offered, nil
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
func (s *Router) routeQueue(ctx context.Context, qid queues.QueueID) (int, error) {
	q, err := s.queue(ctx, qid)
	if err != nil {
		return 0, err
	}
	if q.Disabled {
		return 0, nil // out of service: nothing is routed (rules.go ends its waiting chats)
	}
	members, err := s.routable(ctx, qid)
	if err != nil {
		return 0, err
	}
	room := 0 // every offer takes at least one member's place
	for _, m := range members {
		room += max(0, q.Capacity-m.Load)
	}
	if room == 0 {
		s.log.Debug("routing: no member connected and available has room", "queue", qid, "members", len(members))
		return 0, nil
	}
	waiting, cooling, err := s.waiting(ctx, qid, room)
	if err != nil {
		return 0, err
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
		if q.Strategy == queues.RoundRobin {
			q.RRLast = &picked[0]
		}
	}
	// A chat someone else moved meanwhile is skipped; the places it took
	// in the plan are free again at the next pass.
	offered := 0
	for len(plan) > 0 {
		n := min(len(plan), offerChunk)
		made, err := s.offerAll(ctx, q, plan[:n])
		offered += made
		if err != nil {
			return offered, err
		}
		plan = plan[n:]
	}
	return offered, nil
}

// routable lists the members of queue qid who take chats now: enabled,
// available and connected, with their load. A chat the customer ended
// counts until its agent wraps it up: the agent is still working on it.
// Every agent in a chat counts it, and a pending offer of any kind (an
// invitation or a transfer too) holds a place.
//
// The load is counted from the open chats and the pending offers, each
// read once for all the members (openChatsByUser), not by a count for
// each member: that count scanned the chats once a member (262 ms a pass
// with 200 agents and 2,000 chats), and the router fell behind the joins.
func (s *Router) routable(ctx context.Context, qid queues.QueueID) ([]*candidate, error) {
	rows, err := s.pool.Query(ctx, `WITH mine AS (
			SELECT user_id FROM queue_members WHERE queue_id = $1
		), open AS (`+openChatsByUser+` AND ca.user_id IN (SELECT user_id FROM mine) GROUP BY ca.user_id
		), pending AS (
			SELECT o.user_id, count(*) AS n FROM offers o
			WHERE o.state = 'pending' AND o.user_id IN (SELECT user_id FROM mine) GROUP BY o.user_id
		)
		SELECT m.user_id, coalesce(op.n, 0) + coalesce(pe.n, 0), coalesce(st.last_activity_at, 'epoch')
		FROM queue_members m
		JOIN users u ON u.id = m.user_id AND NOT u.disabled
		LEFT JOIN agent_status st ON st.user_id = m.user_id
		LEFT JOIN open op ON op.user_id = m.user_id
		LEFT JOIN pending pe ON pe.user_id = m.user_id
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

// openChatsByUser counts, by user, the chats that count toward capacity
// (as OpenChatsOf does), from the open chats (the partial indexes of
// active chats and of those to wrap up) rather than from each user's
// every chat: the caller adds its filter of users after the WHERE and
// the GROUP BY.
const openChatsByUser = `SELECT ca.user_id, count(*) AS n FROM conversations oc
		JOIN conversation_agents ca ON ca.conversation_id = oc.id
		WHERE (oc.state = 'active' OR oc.wrap_up_due)`

type offerKey struct {
	Conv conversation.ID
	User auth.UserID
}

// waiting reads the first of queue qid's queued chats, oldest first, and
// which agents rejected or missed which of them within the cool-down
// (cooling): they are not offered those chats again yet. Up to as many
// chats as are cooling may be skipped, so it reads that many more than
// room, to fill the room behind them. The turned-down offers are read
// from an index range of the offers, not from the queue, and both are
// one statement.
func (s *Router) waiting(ctx context.Context, qid queues.QueueID, room int) ([]conversation.ID, map[offerKey]bool, error) {
	rows, err := s.pool.Query(ctx, `WITH cool AS (
			SELECT DISTINCT o.conversation_id, o.user_id FROM offers o
			JOIN conversations c ON c.id = o.conversation_id
			WHERE o.state IN ('rejected', 'expired') AND o.kind = 'route' AND o.ended_at > now() - $3::interval
				AND c.queue_id = $1 AND c.state = 'queued'
		), w AS (
			SELECT id, queued_at FROM conversations WHERE queue_id = $1 AND state = 'queued'
			ORDER BY queued_at, id LIMIT $2 + (SELECT count(DISTINCT conversation_id) FROM cool)
		)
		SELECT w.id, coalesce((SELECT array_agg(cool.user_id) FROM cool WHERE cool.conversation_id = w.id), '{}')
		FROM w ORDER BY w.queued_at, w.id`, qid, room, s.opt.RejectCooldown.String())
	if err != nil {
		return nil, nil, err
	}
	var ids []conversation.ID
	set := make(map[offerKey]bool)
	var id conversation.ID
	var users []auth.UserID
	if _, err := pgx.ForEachRow(rows, []any{&id, &users}, func() error {
		ids = append(ids, id)
		for _, u := range users {
			set[offerKey{id, u}] = true
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	return ids, set, nil
}

// OpenChatsOf is the SQL count of the chats the user (an SQL expression)
// is in and that count toward capacity: active, or waiting for a wrap-up.
//
// Each of the user's chats is looked up by its key (a scalar subquery,
// which the planner does not turn into a join): as a join, the planner
// took a hash join over a scan of every conversation, for each user it
// was asked of.
func OpenChatsOf(user string) string {
	return `(SELECT count(*) FROM conversation_agents ca WHERE ca.user_id = ` + user + `
		AND (SELECT oc.state = 'active' OR oc.wrap_up_due FROM conversations oc WHERE oc.id = ca.conversation_id))`
}

// pick chooses whom to offer to by the queue's strategy.
func pick(q queues.Queue, free []candidate) []auth.UserID {
	idle := func(i, j int) bool {
		if !free[i].LastBusy.Equal(free[j].LastBusy) {
			return free[i].LastBusy.Before(free[j].LastBusy)
		}
		return free[i].ID < free[j].ID
	}
	switch q.Strategy {
	case queues.RingAll:
		ids := make([]auth.UserID, len(free))
		for i, c := range free {
			ids[i] = c.ID
		}
		return ids
	case queues.LeastBusy:
		sort.Slice(free, func(i, j int) bool {
			if free[i].Load != free[j].Load {
				return free[i].Load < free[j].Load
			}
			return idle(i, j)
		})
	case queues.RoundRobin:
		sort.Slice(free, func(i, j int) bool { return free[i].ID < free[j].ID })
		// The first agent after the one offered last, wrapping round.
		for _, c := range free {
			if q.RRLast != nil && c.ID > *q.RRLast {
				return []auth.UserID{c.ID}
			}
		}
	default: // queues.LongestIdle
		sort.Slice(free, idle)
	}
	return []auth.UserID{free[0].ID}
}
