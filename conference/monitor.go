package conference

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"parley/auth"
)

// Screen monitoring: a supervisor asks to see an agent's screen (a
// Monitor, pending), the agent consents and shares it in a room of kind
// KindMonitor, which only the agent publishes in and only that supervisor
// watches (live), until either stops it (ended). The requests' state is in
// the monitors table, so the supervisor and the agent may be on different
// nodes. Who may ask, answer and stop is decided above (parley/rooms).

// KindMonitor is the kind of a room that shows one agent's screen to one
// supervisor.
const KindMonitor = "monitor"

// Monitor states.
const (
	MonitorPending = "pending"
	MonitorLive    = "live"
	MonitorEnded   = "ended"
)

// MonitorAskTTL is how long a request waits for the agent's answer
// before it expires.
const MonitorAskTTL = 2 * time.Minute

// MonitorID names a request to see an agent's screen.
type MonitorID int64

// Monitor is one request to see an agent's screen.
type Monitor struct {
	ID         MonitorID
	Supervisor auth.UserID
	Agent      auth.UserID
	// The names of both, as each signed in.
	SupervisorName, AgentName string
	RoomID                    string // set once live
	State                     string
	Reason                    string // why it ended
}

// WatcherKey is a monitor room's watcher's principal key ("" for other
// rooms).
func (r Room) WatcherKey() string {
	if r.watcherKey == nil {
		return ""
	}
	return *r.watcherKey
}

const monitorColumns = `id, supervisor_id, agent_id, supervisor_name, agent_name, coalesce(room_id, ''), state, reason`

func scanMonitor(row pgx.Row) (Monitor, error) {
	var m Monitor
	err := row.Scan(&m.ID, &m.Supervisor, &m.Agent, &m.SupervisorName, &m.AgentName, &m.RoomID, &m.State, &m.Reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return Monitor{}, ErrNotFound
	}
	return m, err
}

// GetMonitor reads request id.
func (s *Service) GetMonitor(ctx context.Context, id MonitorID) (Monitor, error) {
	return scanMonitor(s.pool.QueryRow(ctx, `SELECT `+monitorColumns+` FROM monitors WHERE id = $1`, id))
}

// AskMonitor records supervisor's request to see agent's screen (each
// named as it is shown to the other). An
// agent whose screen is asked for or shown already is a conflict; a
// request left over by a node that died (pending past MonitorAskTTL, or
// live in a room that has ended) is ended first.
func (s *Service) AskMonitor(ctx context.Context, supervisor auth.Principal, agent auth.UserID, agentName string) (Monitor, error) {
	_, err := s.pool.Exec(ctx, `UPDATE monitors m SET state = 'ended', reason = 'expired', ended_at = now()
		WHERE m.agent_id = $1 AND m.state <> 'ended' AND (
			(m.state = 'pending' AND m.created_at < now() - make_interval(secs => $2))
			OR (m.state = 'live' AND EXISTS (SELECT 1 FROM rooms r WHERE r.id = m.room_id AND r.ended_at IS NOT NULL)))`,
		agent, MonitorAskTTL.Seconds())
	if err != nil {
		return Monitor{}, err
	}
	m, err := scanMonitor(s.pool.QueryRow(ctx, `INSERT INTO monitors (supervisor_id, agent_id, supervisor_name, agent_name)
		VALUES ($1, $2, $3, $4) RETURNING `+monitorColumns, supervisor.UserID, agent, supervisor.Name, agentName))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Monitor{}, WithMessage(ErrConflict, "this agent's screen is already asked for or shown")
	}
	return m, err
}

// AcceptMonitor is the agent's consent to pending request id: the
// monitor room is made, with the agent as its creator (its one
// publisher) and the supervisor as its one watcher. name is the room's
// name. A request that is not the agent's is not found; one answered,
// stopped or expired already is a conflict.
func (s *Service) AcceptMonitor(ctx context.Context, agent auth.Principal, id MonitorID, name string) (Monitor, Room, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Monitor{}, Room{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after a commit it does nothing
	m, err := scanMonitor(tx.QueryRow(ctx, `SELECT `+monitorColumns+` FROM monitors WHERE id = $1 AND agent_id = $2
		FOR UPDATE`, id, agent.UserID))
	if err != nil {
		return Monitor{}, Room{}, err
	}
	if m.State != MonitorPending {
		return Monitor{}, Room{}, monitorOver(m)
	}
	watcher := auth.Principal{Kind: auth.KindUser, UserID: m.Supervisor}.Key()
	by := authorOf(agent, "")
	r, err := scanRoom(tx.QueryRow(ctx, `INSERT INTO rooms (id, kind, name, creator_key, creator_kind, creator_name, watcher_key)
		VALUES ($1, 'monitor', $2, $3, $4, $5, $6) RETURNING `+roomColumns,
		newID("r", 8), name, agent.Key(), by.Kind, by.Name, watcher))
	if err != nil {
		return Monitor{}, Room{}, err
	}
	m, err = scanMonitor(tx.QueryRow(ctx, `UPDATE monitors SET state = 'live', room_id = $2, started_at = now()
		WHERE id = $1 RETURNING `+monitorColumns, id, r.ID))
	if err != nil {
		return Monitor{}, Room{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Monitor{}, Room{}, err
	}
	s.open(r)
	return m, r, nil
}

// EndMonitor ends request id for reason (declined, stopped,
// disconnected, expired). With pendingOnly it ends it only while it waits
// for an answer (a decline, an expiry). It returns the request as it was
// before; a request ended already (or, with pendingOnly, answered) is
// ErrEnded. Its room, if live, is left to the caller to end.
func (s *Service) EndMonitor(ctx context.Context, id MonitorID, reason string, pendingOnly bool) (Monitor, error) {
	m, err := scanMonitor(s.pool.QueryRow(ctx, `UPDATE monitors SET state = 'ended', reason = $2, ended_at = now()
		WHERE id = $1 AND state <> 'ended' AND (NOT $3 OR state = 'pending')
		RETURNING id, supervisor_id, agent_id, supervisor_name, agent_name, coalesce(room_id, ''), CASE WHEN room_id IS NULL THEN 'pending' ELSE 'live' END, reason`,
		id, reason, pendingOnly))
	if errors.Is(err, ErrNotFound) {
		return Monitor{}, WithMessage(ErrEnded, "this screen monitoring is over")
	}
	return m, err
}

// monitorOver is the conflict of answering a request no longer pending.
func monitorOver(m Monitor) error {
	if m.State == MonitorLive {
		return WithMessage(ErrConflict, "this request was answered already")
	}
	return WithMessage(ErrEnded, "this request is over: "+m.Reason)
}
