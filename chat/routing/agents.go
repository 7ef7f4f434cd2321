package routing

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Agent statuses.
const (
	StatusAvailable = "available"
	StatusPaused    = "paused"
	StatusOffline   = "offline"
)

// AgentStatus is whether an agent takes chats.
type AgentStatus struct {
	Status string    `json:"status"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	// By is the supervisor or admin who set it (agent.pause,
	// agent.logout); nil when the agent did, or the server.
	By *Colleague `json:"by,omitempty"`
}

// AgentQueue is a queue an agent works in.
type AgentQueue struct {
	ID       queues.QueueID `json:"id"`
	Name     string         `json:"name"`
	Capacity int            `json:"capacity"`
	Statuses []string       `json:"statuses"` // what a chat may be closed as
	// ChatTimeLimits colour the agent's live chats by their age.
	ChatTimeLimits []int `json:"chat_time_limits"`
	// ServiceLevelSeconds colours a live chat's time to first response.
	ServiceLevelSeconds int `json:"service_level_seconds"`
}

// AgentState is everything the desk shows about the agent itself.
type AgentState struct {
	AgentStatus
	Queues    []AgentQueue   `json:"queues"`
	OpenChats int            `json:"open_chats"`
	Offers    []PendingOffer `json:"offers"` // offers waiting for this agent's answer
}

// PendingOffer is an offer out to the agent, as the chat.offer event
// carried it, so a reloaded desk can show it again.
type PendingOffer struct {
	Kind         string                    `json:"kind"`         // route, invite or transfer
	By           *Colleague                `json:"by,omitempty"` // who invited or transfers
	Conversation conversation.Conversation `json:"conversation"`
	OfferedAt    time.Time                 `json:"offered_at"`
	Deadline     time.Time                 `json:"deadline"`
}

// State returns p's status, queues and number of open chats.
func (s *Router) State(ctx context.Context, p auth.Principal) (AgentState, error) {
	if !p.IsStaff() {
		return AgentState{}, queues.Detail(queues.ErrForbidden, "agent state is for agents")
	}
	var st AgentState
	var byID *auth.UserID
	var byName *string
	err := s.pool.QueryRow(ctx, `SELECT coalesce(st.status, 'available'), coalesce(st.reason, ''), coalesce(st.since, now()),
			`+OpenChatsOf("$1")+`, st.by_user_id, (SELECT display_name FROM users WHERE id = st.by_user_id)
		FROM (SELECT $1::bigint AS id) u LEFT JOIN agent_status st ON st.user_id = u.id`, p.UserID).
		Scan(&st.Status, &st.Reason, &st.Since, &st.OpenChats, &byID, &byName)
	if err != nil {
		return AgentState{}, err
	}
	if byID != nil && byName != nil {
		st.By = &Colleague{ID: *byID, Name: *byName}
	}
	rows, err := s.pool.Query(ctx, `SELECT q.id, q.name, q.capacity, q.statuses, q.chat_time_limits, q.service_level_seconds FROM queues q
		JOIN queue_members m ON m.queue_id = q.id WHERE m.user_id = $1 ORDER BY q.name`, p.UserID)
	if err != nil {
		return AgentState{}, err
	}
	if st.Queues, err = pgx.CollectRows(rows, pgx.RowToStructByPos[AgentQueue]); err != nil {
		return AgentState{}, err
	}
	orows, err := s.pool.Query(ctx, `SELECT `+conversation.Columns+`, o.offered_at, o.deadline, o.kind, o.by_user_id,
			coalesce((SELECT display_name FROM users WHERE id = o.by_user_id), '')`+conversation.From+`
		JOIN offers o ON o.conversation_id = c.id WHERE o.user_id = $1 AND o.state = 'pending' ORDER BY o.offered_at`, p.UserID)
	if err != nil {
		return AgentState{}, err
	}
	st.Offers, err = pgx.CollectRows(orows, func(r pgx.CollectableRow) (PendingOffer, error) {
		var o PendingOffer
		var by *auth.UserID
		var byName string
		var err error
		o.Conversation, err = conversation.Scan(r, &o.OfferedAt, &o.Deadline, &o.Kind, &by, &byName)
		if by != nil {
			o.By = &Colleague{ID: *by, Name: byName}
		}
		return o, err
	})
	if err != nil {
		return AgentState{}, err
	}
	for i := range st.Offers {
		q, err := s.queue(ctx, st.Offers[i].Conversation.Queue.ID)
		if err != nil {
			return AgentState{}, err
		}
		st.Offers[i].Conversation, _ = s.conv.View(p, q, st.Offers[i].Conversation, nil)
	}
	return st, nil
}

// SetStatus changes p's status; every tab of p hears of it.
func (s *Router) SetStatus(ctx context.Context, p auth.Principal, status, reason string) (AgentStatus, error) {
	if !p.IsStaff() {
		return AgentStatus{}, queues.Detail(queues.ErrForbidden, "only agents have a status")
	}
	reason = strings.TrimSpace(reason)
	if err := queues.BadText("status", status, "reason", reason); err != nil {
		return AgentStatus{}, err
	}
	switch status {
	case StatusAvailable, StatusOffline:
		reason = ""
	case StatusPaused:
		if reason == "" || utf8.RuneCountInString(reason) > 100 {
			return AgentStatus{}, queues.Bad("reason: say why you pause (1–100 characters)")
		}
	default:
		return AgentStatus{}, queues.Bad("status: available, paused or offline")
	}
	var st AgentStatus
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		st, err = setStatus(ctx, tx, p.UserID, status, reason)
		return err
	})
	if err != nil {
		return AgentStatus{}, err
	}
	s.conv.PublishTo(p.Key(), "agent.status", st)
	s.opt.OnStatus(p.UserID)
	if status == StatusAvailable {
		s.Poke()
	}
	return st, nil
}

func setStatus(ctx context.Context, tx pgx.Tx, user auth.UserID, status, reason string) (AgentStatus, error) {
	return setStatusBy(ctx, tx, user, status, reason, nil)
}

// setStatusBy is setStatus by someone else than the agent (by: a
// supervisor or an admin), or by the agent or the server (nil).
func setStatusBy(ctx context.Context, tx pgx.Tx, user auth.UserID, status, reason string, by *Colleague) (AgentStatus, error) {
	st := AgentStatus{Status: status, Reason: reason, By: by}
	var byID *auth.UserID
	if by != nil {
		byID = &by.ID
	}
	err := tx.QueryRow(ctx, `INSERT INTO agent_status (user_id, status, reason, since, by_user_id) VALUES ($1, $2, $3, now(), $4)
		ON CONFLICT (user_id) DO UPDATE SET status = $2, reason = $3, since = now(), by_user_id = $4 RETURNING since`,
		user, status, reason, byID).Scan(&st.Since)
	return st, err
}
