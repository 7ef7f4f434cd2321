// Package floor is the contact center's floor as a supervisor sees it,
// limited to the queues the supervisor oversees (queues.Supervised): per
// queue and in total the customers waiting and the day's figures, the
// agents with their status, load and live chats, the open chats by agent
// and the closed chats of a day.
//
// A supervisor's connection watches its scope's snapshot (Watch). Every
// node keeps one group per scope that someone on it watches, and
// recomputes a group's snapshot when the floor changed, at most once per
// Interval (a second), pushing it to the group's watchers only when it
// differs from the one pushed before: nothing is computed or pushed while
// nothing changes, and a group nobody watches is dropped. What changed is
// told by the bus, whichever node made it: floor.changes (chat.FloorSubject:
// the chat service marks, after each commit, the queue of a chat
// whose state, agent, queue or times changed, or everything when an
// agent's status, team or open chats did) and staff.presence (a user's
// connections; read again an interval later, as this node's view of
// presence may learn of it a moment after the event). PostgreSQL tells
// the rest, rare admin changes (the triggers of chat's migration 0007
// left by 0027 NOTIFY parley_floor when a queue or its members change).
package floor

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/chat/queues"
	"parley/store"
)

// Channel is the PostgreSQL channel the queues' and queue members'
// triggers notify.
const Channel = "parley_floor"

// Options tune the floor. Zero values take the defaults.
type Options struct {
	// Location is the time zone of "today" (the day's figures and the
	// closed chats' days). Default UTC.
	Location *time.Location
	// Interval is the least time between two snapshots of one scope on
	// one node. Default one second.
	Interval time.Duration
	// DBTimeout bounds each snapshot's reads. Default 5s.
	DBTimeout time.Duration
}

// Onliner says whether a principal's key has a connection open on any
// node (chat.Service.Online).
type Onliner interface {
	Online(key string) bool
}

// Watcher is a connection that watches the floor: Send never blocks, and
// Done is closed when the connection ends (signaling.Conn).
type Watcher interface {
	Send(frame []byte) bool
	Done() <-chan struct{}
}

// Floor computes the floor and pushes it to its watchers.
type Floor struct {
	pool     *pgxpool.Pool
	bus      bus.Bus
	log      *slog.Logger
	presence Onliner
	opt      Options

	stop     chan struct{} // closed when Run ends
	stopOnce sync.Once
	kick     chan struct{}

	reads atomic.Int64 // snapshots read for pushes

	mu     sync.Mutex
	groups map[string]*group // by scope key
}

// group is one scope's watchers on this node and its last push.
type group struct {
	scope    queues.Scope
	watchers map[Watcher]struct{}
	dirty    bool
	// again computes it once more an interval after the next time: a
	// connection told by staff.presence may reach this node's view of
	// presence (cluster.presence, another subject) a moment later.
	again bool
	last  time.Time // when its snapshot was last computed
	sent  []byte    // the last pushed snapshot, without its time
}

// New makes the floor; Run follows the changes and pushes.
func New(pool *pgxpool.Pool, b bus.Bus, presence Onliner, log *slog.Logger, opt Options) *Floor {
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Interval <= 0 {
		opt.Interval = time.Second
	}
	if opt.DBTimeout <= 0 {
		opt.DBTimeout = 5 * time.Second
	}
	return &Floor{pool: pool, bus: b, log: log, presence: presence, opt: opt,
		stop: make(chan struct{}), kick: make(chan struct{}, 1), groups: map[string]*group{}}
}

// Location is the time zone of the floor's days.
func (f *Floor) Location() *time.Location { return f.opt.Location }

func scopeKey(s queues.Scope) string {
	if s.All {
		return "all"
	}
	ids := slices.Clone(s.Queues)
	slices.Sort(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id.String()
	}
	return strings.Join(parts, ",")
}

// Refuse answers forbidden unless p is a supervisor or an admin, the only
// ones who see the floor.
func Refuse(p auth.Principal) error {
	if p.Kind != auth.KindUser || !p.Is(auth.RoleSupervisor, auth.RoleAdmin) {
		return queues.Detail(queues.ErrForbidden, "only supervisors and admins see the floor")
	}
	return nil
}

// scope is p's scope; only supervisors and admins have one.
func (f *Floor) scope(ctx context.Context, p auth.Principal) (queues.Scope, error) {
	if err := Refuse(p); err != nil {
		return queues.Scope{}, err
	}
	return queues.Supervised(ctx, f.pool, p)
}

// Watch answers p's snapshot of the floor and pushes w every later one
// (the supervisor.floor event) until w is done.
func (f *Floor) Watch(ctx context.Context, p auth.Principal, w Watcher) (Snapshot, error) {
	scope, err := f.scope(ctx, p)
	if err != nil {
		return Snapshot{}, err
	}
	// Join first, then read: a change after the read is pushed.
	key := scopeKey(scope)
	f.mu.Lock()
	g := f.groups[key]
	if g == nil {
		g = &group{scope: scope, watchers: map[Watcher]struct{}{}}
		f.groups[key] = g
	}
	_, again := g.watchers[w]
	g.watchers[w] = struct{}{}
	f.mu.Unlock()
	if !again {
		go func() {
			select {
			case <-w.Done():
			case <-f.stop:
			}
			f.leave(key, w)
		}()
	}
	return f.Snapshot(ctx, scope)
}

func (f *Floor) leave(key string, w Watcher) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groups[key]
	if g == nil {
		return
	}
	delete(g.watchers, w)
	if len(g.watchers) == 0 {
		delete(f.groups, key)
	}
}

// Watching is how many connections of this node watch the floor.
func (f *Floor) Watching() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, g := range f.groups {
		n += len(g.watchers)
	}
	return n
}

// changed marks the groups whose scope has queue (every group when all)
// as changed.
func (f *Floor) changed(queue queues.QueueID, all bool) {
	f.mark(func(g *group) {
		if all || g.scope.Has(queue) {
			g.dirty = true
		}
	})
}

// connected marks every group as changed, twice: now and an interval
// later.
func (f *Floor) connected() {
	f.mark(func(g *group) { g.dirty, g.again = true, true })
}

func (f *Floor) mark(how func(*group)) {
	f.mu.Lock()
	for _, g := range f.groups {
		how(g)
	}
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Run follows the changes and pushes snapshots until ctx ends.
func (f *Floor) Run(ctx context.Context) {
	defer f.stopOnce.Do(func() { close(f.stop) })
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// On listening every group changed: a change may have been
		// missed while the connection was lost.
		store.Listen(ctx, f.pool, Channel, f.log, func() { f.changed(0, true) }, f.notified)
	}()
	if unsub, err := f.bus.Subscribe(chat.FloorSubject, f.told); err != nil {
		f.log.Error("floor: following floor.changes: chats show at the next other change", "err", err)
	} else {
		defer unsub()
	}
	if unsub, err := f.bus.Subscribe(chat.DirectorySubject, func([]byte) { f.connected() }); err != nil {
		f.log.Error("floor: following staff.presence: connections show at the next other change", "err", err)
	} else {
		defer unsub()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := f.pushDue(ctx)
		midnight := f.nextMidnight()
		wait := time.Until(midnight)
		if !next.IsZero() && time.Until(next) < wait {
			wait = time.Until(next)
		}
		timer.Reset(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		case <-timer.C:
			if !time.Now().Before(midnight) {
				f.changed(0, true) // a new day: today's figures start again
			}
		}
		timer.Stop()
	}
}

func (f *Floor) nextMidnight() time.Time {
	now := time.Now().In(f.opt.Location)
	y, m, d := now.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, f.opt.Location)
}

// pushDue computes and pushes the changed groups whose interval has
// passed, and returns when the next changed group is due (zero: none).
func (f *Floor) pushDue(ctx context.Context) time.Time {
	now := time.Now()
	var due []*group
	var next time.Time
	f.mu.Lock()
	for _, g := range f.groups {
		if !g.dirty {
			continue
		}
		if at := g.last.Add(f.opt.Interval); at.After(now) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		g.dirty, g.again, g.last = g.again, false, now
		if g.dirty && (next.IsZero() || now.Add(f.opt.Interval).Before(next)) {
			next = now.Add(f.opt.Interval)
		}
		due = append(due, g)
	}
	f.mu.Unlock()
	for _, g := range due {
		f.push(ctx, g)
	}
	return next
}

// Reads is how many snapshots this node read to push them: one per
// watched scope per interval at most, none while nothing changes.
func (f *Floor) Reads() int64 { return f.reads.Load() }

// push computes g's snapshot and sends it to g's watchers if it differs
// from the last one sent.
func (f *Floor) push(ctx context.Context, g *group) {
	f.reads.Add(1)
	snap, err := f.Snapshot(ctx, g.scope)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("floor: snapshot", "err", err)
			f.mu.Lock()
			g.dirty = true // try again at the next interval
			f.mu.Unlock()
		}
		return
	}
	at := snap.At
	snap.At = time.Time{}
	same, err := json.Marshal(snap)
	if err != nil {
		f.log.Error("floor: encode", "err", err)
		return
	}
	snap.At = at
	frame, err := bus.Frame("supervisor.floor", snap)
	if err != nil {
		f.log.Error("floor: encode", "err", err)
		return
	}
	f.mu.Lock()
	if string(same) == string(g.sent) {
		f.mu.Unlock()
		return
	}
	g.sent = same
	ws := make([]Watcher, 0, len(g.watchers))
	for w := range g.watchers {
		ws = append(ws, w)
	}
	f.mu.Unlock()
	for _, w := range ws {
		w.Send(frame)
	}
}

// notified takes a parley_floor payload: the queue a chat is in ("q"
// and its id), or "*" (anything else the floor shows).
func (f *Floor) notified(payload string) {
	if id, err := strconv.ParseInt(strings.TrimPrefix(payload, "q"), 10, 64); err == nil && payload != "*" {
		f.changed(queues.QueueID(id), false)
	} else {
		f.changed(0, true)
	}
}

// told takes a change published on floor.changes.
func (f *Floor) told(frame []byte) {
	c, err := chat.DecodeFloorChange(frame)
	if err != nil || c.All {
		f.changed(0, true)
		return
	}
	f.mark(func(g *group) {
		for _, id := range c.Queues {
			if g.scope.Has(id) {
				g.dirty = true
				return
			}
		}
	})
}
