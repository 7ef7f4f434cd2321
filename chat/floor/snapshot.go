package floor

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat"
	"parley/chat/queues"
	"parley/chat/routing"
)

// MaxWaitingRows is the most waiting customers a snapshot lists (oldest
// first); the counts are exact beyond it.
const MaxWaitingRows = 200

// Snapshot is the floor of one scope (supervisor.floor).
type Snapshot struct {
	At       time.Time      `json:"at"`
	Day      string         `json:"day"`
	TimeZone string         `json:"time_zone"`
	Queues   []QueueFigures `json:"queues"`
	Total    Figures        `json:"total"`
	Waiting  []Waiting      `json:"waiting"`
	Agents   []Agent        `json:"agents"`
}

// Figures are a queue's (or the scope's) customers waiting now and its
// figures of today.
type Figures struct {
	Waiting          int        `json:"waiting"`
	LongestWaitSince *time.Time `json:"longest_wait_since"`
	Answered         int        `json:"answered"`
	AnsweredInTime   int        `json:"answered_in_time"`
	Abandoned        int        `json:"abandoned"`
	// ServiceLevel is AnsweredInTime ÷ (Answered + Abandoned), null when
	// both are 0.
	ServiceLevel           *float64 `json:"service_level"`
	AverageWaitSeconds     *float64 `json:"average_wait_seconds"`
	AverageHandlingSeconds *float64 `json:"average_handling_seconds"`

	waitSum, handleSum float64
	handled            int
}

// QueueFigures are one queue's figures with the settings they use.
type QueueFigures struct {
	ID                  queues.QueueID `json:"id"`
	Name                string         `json:"name"`
	ServiceLevelSeconds int            `json:"service_level_seconds"`
	ChatTimeLimits      []int          `json:"chat_time_limits"`
	Figures
}

// Waiting is a customer waiting for an agent.
type Waiting struct {
	ConversationID chat.ConversationID `json:"conversation_id"`
	QueueID        queues.QueueID      `json:"queue_id"`
	Name           string              `json:"name"`
	Email          string              `json:"email"`
	State          string              `json:"state"`
	QueuedAt       time.Time           `json:"queued_at"`
}

// Agent is a member of the scope's queues, or a supervisor or admin with
// a chat in them.
type Agent struct {
	ID     auth.UserID `json:"id"`
	Name   string      `json:"name"`
	Role   auth.Role   `json:"role"`
	Status string      `json:"status"`
	Reason string      `json:"reason"`
	// Since is when the status was set (null: never set).
	Since  *time.Time `json:"since"`
	Online bool       `json:"online"`
	// OpenChats counts every chat the agent is in that counts toward its
	// capacity (active or waiting for its wrap-up), in any queue;
	// Capacity is the largest of its queues' (0: a member of none).
	OpenChats int `json:"open_chats"`
	Capacity  int `json:"capacity"`
	// IdleSince is, for an agent without an open chat, since when (its
	// last accept, close or status change); IdleLimitSeconds is the last
	// of its queues' chat_time_limits (the longest among its queues).
	IdleSince        *time.Time `json:"idle_since"`
	IdleLimitSeconds int        `json:"idle_limit_seconds"`
	Chats            []LiveChat `json:"chats"`
}

// LiveChat is an open chat of an agent, in the scope's queues.
type LiveChat struct {
	ConversationID chat.ConversationID `json:"conversation_id"`
	QueueID        queues.QueueID      `json:"queue_id"`
	CustomerName   string              `json:"customer_name"`
	// Since is when an agent accepted it: its age counts from there.
	Since  time.Time `json:"since"`
	WrapUp bool      `json:"wrap_up"`
	Lead   bool      `json:"lead"`
}

// scopeArg is the scope as a query argument: NULL for every queue.
func scopeArg(s queues.Scope) []queues.QueueID {
	if s.All {
		return nil
	}
	if s.Queues == nil {
		return []queues.QueueID{}
	}
	return s.Queues
}

// inScope is the condition that column is one of $1's queues.
func inScope(column string) string {
	return `($1::bigint[] IS NULL OR ` + column + ` = ANY ($1::bigint[]))`
}

// day is the start and end of the day of t in the floor's zone.
func (f *Floor) day(t time.Time) (time.Time, time.Time) {
	y, m, d := t.In(f.opt.Location).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, f.opt.Location)
	return start, start.AddDate(0, 0, 1)
}

// Snapshot reads scope's floor now.
func (f *Floor) Snapshot(ctx context.Context, scope queues.Scope) (Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opt.DBTimeout)
	defer cancel()
	now := time.Now()
	start, end := f.day(now)
	snap := Snapshot{At: now, Day: start.Format(time.DateOnly), TimeZone: f.opt.Location.String(),
		Queues: []QueueFigures{}, Waiting: []Waiting{}, Agents: []Agent{}}
	sc := scopeArg(scope)
	err := pgx.BeginTxFunc(ctx, f.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			if err := f.figures(ctx, tx, sc, start, end, &snap); err != nil {
				return err
			}
			if err := f.waiting(ctx, tx, sc, &snap); err != nil {
				return err
			}
			return f.agents(ctx, tx, sc, &snap)
		})
	return snap, err
}

func (f *Floor) figures(ctx context.Context, tx pgx.Tx, sc []queues.QueueID, start, end time.Time, snap *Snapshot) error {
	rows, err := tx.Query(ctx, `SELECT q.id, q.name, q.service_level_seconds, q.chat_time_limits,
			coalesce(w.n, 0), w.oldest,
			coalesce(d.answered, 0), coalesce(d.in_time, 0), coalesce(d.abandoned, 0),
			coalesce(d.wait_sum, 0), coalesce(d.handled, 0), coalesce(d.handle_sum, 0)
		FROM queues q
		LEFT JOIN LATERAL (SELECT count(*) AS n, min(queued_at) AS oldest FROM conversations
			WHERE queue_id = q.id AND state IN ('queued', 'offered')) w ON true
		LEFT JOIN LATERAL (SELECT
				count(*) FILTER (WHERE c.accepted_at >= $2 AND c.accepted_at < $3) AS answered,
				count(*) FILTER (WHERE c.accepted_at >= $2 AND c.accepted_at < $3
					AND c.accepted_at - c.queued_at <= make_interval(secs => q.service_level_seconds)) AS in_time,
				count(*) FILTER (WHERE c.closed_at >= $2 AND c.closed_at < $3 AND c.accepted_at IS NULL
					AND c.closed_by IN ('customer', 'system')) AS abandoned,
				sum(extract(epoch FROM c.accepted_at - c.queued_at))
					FILTER (WHERE c.accepted_at >= $2 AND c.accepted_at < $3) AS wait_sum,
				count(*) FILTER (WHERE c.closed_at >= $2 AND c.closed_at < $3 AND c.accepted_at IS NOT NULL) AS handled,
				sum(extract(epoch FROM c.closed_at - c.accepted_at))
					FILTER (WHERE c.closed_at >= $2 AND c.closed_at < $3 AND c.accepted_at IS NOT NULL) AS handle_sum
			FROM conversations c
			WHERE c.queue_id = q.id AND ((c.accepted_at >= $2 AND c.accepted_at < $3)
				OR (c.closed_at >= $2 AND c.closed_at < $3))) d ON true
		WHERE `+inScope("q.id")+` ORDER BY q.name, q.id`, sc, start, end)
	if err != nil {
		return err
	}
	qs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueFigures, error) {
		var q QueueFigures
		err := r.Scan(&q.ID, &q.Name, &q.ServiceLevelSeconds, &q.ChatTimeLimits, &q.Waiting, &q.LongestWaitSince,
			&q.Answered, &q.AnsweredInTime, &q.Abandoned, &q.waitSum, &q.handled, &q.handleSum)
		return q, err
	})
	if err != nil {
		return err
	}
	for i := range qs {
		q := &qs[i].Figures
		q.finish()
		t := &snap.Total
		t.Waiting += q.Waiting
		if q.LongestWaitSince != nil && (t.LongestWaitSince == nil || q.LongestWaitSince.Before(*t.LongestWaitSince)) {
			t.LongestWaitSince = q.LongestWaitSince
		}
		t.Answered += q.Answered
		t.AnsweredInTime += q.AnsweredInTime
		t.Abandoned += q.Abandoned
		t.waitSum += q.waitSum
		t.handled += q.handled
		t.handleSum += q.handleSum
	}
	snap.Total.finish()
	snap.Queues = qs
	return nil
}

// finish works out the ratios from the counts and sums.
func (x *Figures) finish() {
	if n := x.Answered + x.Abandoned; n > 0 {
		v := float64(x.AnsweredInTime) / float64(n)
		x.ServiceLevel = &v
	}
	if x.Answered > 0 {
		v := x.waitSum / float64(x.Answered)
		x.AverageWaitSeconds = &v
	}
	if x.handled > 0 {
		v := x.handleSum / float64(x.handled)
		x.AverageHandlingSeconds = &v
	}
}

func (f *Floor) waiting(ctx context.Context, tx pgx.Tx, sc []queues.QueueID, snap *Snapshot) error {
	rows, err := tx.Query(ctx, `SELECT id, queue_id, customer_name, customer_email, state, queued_at
		FROM conversations WHERE state IN ('queued', 'offered') AND `+inScope("queue_id")+`
		ORDER BY queued_at, id LIMIT $2`, sc, MaxWaitingRows)
	if err != nil {
		return err
	}
	snap.Waiting, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Waiting, error) {
		var w Waiting
		err := r.Scan(&w.ConversationID, &w.QueueID, &w.Name, &w.Email, &w.State, &w.QueuedAt)
		return w, err
	})
	return err
}

// agentColumns are an agent's columns of users u and agent_status st.
const agentColumns = `u.id, u.display_name, u.role, coalesce(st.status, 'available'), coalesce(st.reason, ''), st.since,
	CASE WHEN st.last_activity_at > st.since THEN st.last_activity_at ELSE st.since END,
	` + `coalesce((SELECT max(q.capacity) FROM queue_members m JOIN queues q ON q.id = m.queue_id WHERE m.user_id = u.id), 0),
	coalesce((SELECT max(q.chat_time_limits[cardinality(q.chat_time_limits)]) FROM queue_members m
		JOIN queues q ON q.id = m.queue_id WHERE m.user_id = u.id), 0)`

func scanAgent(r pgx.Row, a *Agent, extra ...any) error {
	var active *time.Time
	err := r.Scan(append([]any{&a.ID, &a.Name, &a.Role, &a.Status, &a.Reason, &a.Since, &active, &a.Capacity,
		&a.IdleLimitSeconds, &a.OpenChats}, extra...)...)
	if a.OpenChats == 0 {
		a.IdleSince = active
	}
	a.Chats = []LiveChat{}
	return err
}

func (f *Floor) agents(ctx context.Context, tx pgx.Tx, sc []queues.QueueID, snap *Snapshot) error {
	rows, err := tx.Query(ctx, `WITH people AS (
			SELECT m.user_id FROM queue_members m WHERE `+inScope("m.queue_id")+`
			UNION
			SELECT ca.user_id FROM conversation_agents ca JOIN conversations c ON c.id = ca.conversation_id
			WHERE (c.state = 'active' OR c.wrap_up_due) AND `+inScope("c.queue_id")+`)
		SELECT `+agentColumns+`, `+openChats+`
		FROM people JOIN users u ON u.id = people.user_id LEFT JOIN agent_status st ON st.user_id = u.id
		WHERE NOT u.disabled ORDER BY u.display_name, u.id`, sc)
	if err != nil {
		return err
	}
	agents, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Agent, error) {
		var a Agent
		err := scanAgent(r, &a)
		a.Online = f.presence.Online(auth.Principal{Kind: auth.KindUser, UserID: a.ID}.Key())
		return a, err
	})
	if err != nil {
		return err
	}
	chats, err := liveChats(ctx, tx, sc, 0)
	if err != nil {
		return err
	}
	at := make(map[auth.UserID]int, len(agents))
	for i, a := range agents {
		at[a.ID] = i
	}
	for _, c := range chats {
		if i, ok := at[c.user]; ok {
			agents[i].Chats = append(agents[i].Chats, c.LiveChat)
		}
	}
	snap.Agents = agents
	return nil
}

type agentChat struct {
	user auth.UserID
	LiveChat
}

// liveChats are the open chats in the scope's queues with their agents
// (only user's, unless 0), oldest first.
func liveChats(ctx context.Context, tx pgx.Tx, sc []queues.QueueID, user auth.UserID) ([]agentChat, error) {
	rows, err := tx.Query(ctx, `SELECT ca.user_id, c.id, c.queue_id, c.customer_name,
			coalesce(c.accepted_at, ca.joined_at), c.wrap_up_due, c.agent_id IS NOT DISTINCT FROM ca.user_id
		FROM conversation_agents ca JOIN conversations c ON c.id = ca.conversation_id
		WHERE (c.state = 'active' OR c.wrap_up_due) AND `+inScope("c.queue_id")+` AND ($2::bigint = 0 OR ca.user_id = $2::bigint)
		ORDER BY 5, c.id`, sc, user)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (agentChat, error) {
		var c agentChat
		err := r.Scan(&c.user, &c.ConversationID, &c.QueueID, &c.CustomerName, &c.Since, &c.WrapUp, &c.Lead)
		return c, err
	})
}

// openChats counts u's chats that count toward its capacity.
var openChats = routing.OpenChatsOf("u.id")
