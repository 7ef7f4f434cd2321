package chat

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
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
}

// AgentQueue is a queue an agent works in.
type AgentQueue struct {
	ID       QueueID  `json:"id"`
	Name     string   `json:"name"`
	Capacity int      `json:"capacity"`
	Statuses []string `json:"statuses"` // what a chat may be closed as
}

// AgentState is everything the desk shows about the agent itself.
type AgentState struct {
	AgentStatus
	Queues    []AgentQueue `json:"queues"`
	OpenChats int          `json:"open_chats"`
}

// State returns p's status, queues and number of open chats.
func (s *Service) State(ctx context.Context, p auth.Principal) (AgentState, error) {
	if !p.IsStaff() {
		return AgentState{}, detail{ErrForbidden, "agent state is for agents"}
	}
	var st AgentState
	err := s.pool.QueryRow(ctx, `SELECT coalesce(st.status, 'available'), coalesce(st.reason, ''), coalesce(st.since, now()),
			(SELECT count(*) FROM conversations WHERE agent_id = $1 AND state = 'active')
		FROM (SELECT $1::bigint AS id) u LEFT JOIN agent_status st ON st.user_id = u.id`, p.UserID).
		Scan(&st.Status, &st.Reason, &st.Since, &st.OpenChats)
	if err != nil {
		return AgentState{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT q.id, q.name, q.capacity, q.statuses FROM queues q
		JOIN queue_members m ON m.queue_id = q.id WHERE m.user_id = $1 ORDER BY q.name`, p.UserID)
	if err != nil {
		return AgentState{}, err
	}
	st.Queues, err = pgx.CollectRows(rows, pgx.RowToStructByPos[AgentQueue])
	return st, err
}

// SetStatus changes p's status; every tab of p hears of it.
func (s *Service) SetStatus(ctx context.Context, p auth.Principal, status, reason string) (AgentStatus, error) {
	if !p.IsStaff() {
		return AgentStatus{}, detail{ErrForbidden, "only agents have a status"}
	}
	reason = strings.TrimSpace(reason)
	switch status {
	case StatusAvailable, StatusOffline:
		reason = ""
	case StatusPaused:
		if reason == "" || utf8.RuneCountInString(reason) > 100 {
			return AgentStatus{}, bad("reason: say why you pause (1–100 characters)")
		}
	default:
		return AgentStatus{}, bad("status: available, paused or offline")
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
	s.publishTo(p.Key(), "agent.status", st)
	if status == StatusAvailable {
		s.poke()
	}
	return st, nil
}

func setStatus(ctx context.Context, tx pgx.Tx, user auth.UserID, status, reason string) (AgentStatus, error) {
	st := AgentStatus{Status: status, Reason: reason}
	err := tx.QueryRow(ctx, `INSERT INTO agent_status (user_id, status, reason, since) VALUES ($1, $2, $3, now())
		ON CONFLICT (user_id) DO UPDATE SET status = $2, reason = $3, since = now() RETURNING since`,
		user, status, reason).Scan(&st.Since)
	return st, err
}
