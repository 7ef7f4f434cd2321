package chat

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat/queues"
	"parley/chat/routing"
)

// DirectorySubject carries staff.presence, the directory's changes, to
// the connections of staff who asked for the directory.
const DirectorySubject = "staff.presence"

// Colleague is a user as the staff directory lists it: who, the status
// the user set (status, reason), whether a connection of it is open
// (online) and how many chats it has (open_chats, as agent.state counts).
type Colleague struct {
	ID        auth.UserID `json:"id"`
	Name      string      `json:"name"`
	Username  string      `json:"username"` // the login, as a comment mentions it (@username)
	Role      auth.Role   `json:"role"`
	Status    string      `json:"status"`
	Reason    string      `json:"reason"`
	Online    bool        `json:"online"`
	OpenChats int         `json:"open_chats"`
}

// StaffPresence is the staff.presence event: a colleague's status or
// connectedness changed.
type StaffPresence struct {
	UserID auth.UserID `json:"user_id"`
	Status string      `json:"status"`
	Reason string      `json:"reason"`
	Online bool        `json:"online"`
}

// Directory lists every active user but p, by name, with their status
// and whether they are connected. Only staff may ask.
func (s *Service) Directory(ctx context.Context, p auth.Principal) ([]Colleague, error) {
	if !p.IsStaff() {
		return nil, queues.Detail(queues.ErrForbidden, "the staff directory is for agents, supervisors and admins")
	}
	rows, err := s.dir.pool.Query(ctx, `SELECT u.id, u.display_name, u.username, u.role,
			coalesce(st.status, 'available'), coalesce(st.reason, ''),
			`+routing.OpenChatsOf("u.id")+`
		FROM users u LEFT JOIN agent_status st ON st.user_id = u.id
		WHERE NOT u.disabled AND u.id <> $1 ORDER BY u.display_name, u.id`, p.UserID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Colleague, error) {
		var c Colleague
		err := r.Scan(&c.ID, &c.Name, &c.Username, &c.Role, &c.Status, &c.Reason, &c.OpenChats)
		c.Online = s.presence.Online(auth.Principal{Kind: auth.KindUser, UserID: c.ID}.Key())
		return c, err
	})
}

// directory tells staff of each user whose status or connectedness
// changed. Changes are marked and published by one goroutine (run), which
// reads the user's state as it is then: marking never blocks the caller
// (a connection opening, a status set), and the last event of a user
// always says how it is now.
type directory struct {
	pool     *pgxpool.Pool
	bus      bus.Bus
	log      *slog.Logger
	presence Presence
	timeout  time.Duration

	mu    sync.Mutex
	dirty map[auth.UserID]struct{}
	kick  chan struct{}
}

func newDirectory(pool *pgxpool.Pool, b bus.Bus, log *slog.Logger, presence Presence, timeout time.Duration) *directory {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &directory{pool: pool, bus: b, log: log, presence: presence, timeout: timeout,
		dirty: map[auth.UserID]struct{}{}, kick: make(chan struct{}, 1)}
}

// changed marks user's state as changed.
func (d *directory) changed(user auth.UserID) {
	d.mu.Lock()
	d.dirty[user] = struct{}{}
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run publishes the marked users' state until ctx ends.
func (d *directory) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		}
		d.mu.Lock()
		users := d.dirty
		d.dirty = map[auth.UserID]struct{}{}
		d.mu.Unlock()
		for u := range users {
			d.publish(ctx, u)
		}
	}
}

func (d *directory) publish(ctx context.Context, user auth.UserID) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	ev := StaffPresence{UserID: user}
	err := d.pool.QueryRow(ctx, `SELECT coalesce(st.status, 'available'), coalesce(st.reason, '')
		FROM users u LEFT JOIN agent_status st ON st.user_id = u.id WHERE u.id = $1`, user).Scan(&ev.Status, &ev.Reason)
	if err != nil {
		d.log.Warn("directory: read status", "user", user, "err", err)
		return
	}
	ev.Online = d.presence.Online(auth.Principal{Kind: auth.KindUser, UserID: user}.Key())
	frame, err := bus.Frame("staff.presence", ev)
	if err != nil {
		d.log.Error("directory: encode", "err", err)
		return
	}
	if err := d.bus.Publish(DirectorySubject, frame); err != nil {
		d.log.Warn("directory: publish", "err", err)
	}
}
