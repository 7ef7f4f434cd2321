package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"parley/bus"
)

// PresenceSubject carries cluster.presence: a node's row of
// cluster_presence written or deleted, so the other nodes' views follow
// at once rather than at their next refresh.
const PresenceSubject = "cluster.presence"

// DefaultPresenceRefresh is how often a Presence reads the whole table
// again: what it missed on the bus is mended within it.
const DefaultPresenceRefresh = 5 * time.Second

// presenceLockClass is the first key of the advisory locks that order
// the writers of one principal's rows (the second is the key's hash).
const presenceLockClass = 0x70726573 // "pres"

// Presence counts connections over every live node of the deployment (it
// is chat's conversation.Presence when several nodes run). Each node
// counts its own connections in memory and keeps one row per principal
// key it holds in cluster_presence, written when the key's count here
// goes 0↔1; Online is a map lookup in a view of the other nodes' rows,
// kept by the bus (cluster.presence) and read again every refresh. A key
// comes online when its first row anywhere is written and goes offline
// when its last row is deleted; the writer of that row tells its watcher,
// so the deployment hears of it once. A row and the check of the others
// run in one transaction under an advisory lock per key, so two nodes
// cannot both think they wrote the first or deleted the last. A node
// that dies stops counting on every node as soon as the heartbeat finds
// it gone (OnGone), and its rows are deleted by the live nodes, each row
// by exactly one of them.
type Presence struct {
	c   *Cluster
	bus bus.Bus
	log *slog.Logger

	refresh time.Duration
	unsub   func()
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	mu      sync.Mutex
	local   map[string]int           // this node's connections by key
	remote  map[string]map[run]int64 // the other nodes' rows: key → run → the bus seq that wrote it
	seq     int64                    // counts what the bus changed in remote
	touched map[string]int64         // key → seq of its last change by the bus
	dirty   map[string]struct{}      // keys whose row may not match local
	dead    map[run]struct{}         // runs whose rows are to be deleted
	watch   func(key string, online bool)
	pending []presenceChange // changes before Watch
}

// run is one run of a node: its id and when it started (microseconds).
type run struct {
	Node    string `json:"node"`
	Started int64  `json:"started"`
}

type presenceMsg struct {
	run
	Key    string `json:"key"`
	Online bool   `json:"online"`
}

type presenceChange struct {
	key    string
	online bool
}

// StartPresence follows the deployment's presence over b; refresh 0 is
// DefaultPresenceRefresh. Call Stop when done.
func (c *Cluster) StartPresence(ctx context.Context, b bus.Bus, refresh time.Duration) (*Presence, error) {
	if refresh <= 0 {
		refresh = DefaultPresenceRefresh
	}
	p := &Presence{c: c, bus: b, log: c.log, refresh: refresh,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		local: map[string]int{}, remote: map[string]map[run]int64{}, touched: map[string]int64{},
		dirty: map[string]struct{}{}, dead: map[run]struct{}{}}
	unsub, err := b.Subscribe(PresenceSubject, p.heard)
	if err != nil {
		return nil, fmt.Errorf("cluster: follow presence: %w", err)
	}
	p.unsub = unsub
	if err := p.read(ctx); err != nil {
		unsub()
		return nil, fmt.Errorf("cluster: read presence: %w", err)
	}
	c.OnGone(p.gone)
	go p.loop()
	return p, nil
}

func (p *Presence) self() run { return run{p.c.self.ID, p.c.self.Started.UnixMicro()} }

// Online reports whether key has a connection on this node or on another
// node alive now.
func (p *Presence) Online(key string) bool {
	p.mu.Lock()
	if p.local[key] > 0 {
		p.mu.Unlock()
		return true
	}
	var nodes []string
	for r := range p.remote[key] {
		nodes = append(nodes, r.Node)
	}
	p.mu.Unlock()
	for _, n := range nodes {
		if p.c.IsAlive(n) {
			return true
		}
	}
	return false
}

// Add changes key's count of connections on this node by d. The row is
// written by Presence's own goroutine, so Add never waits on the
// database.
func (p *Presence) Add(key string, d int) {
	p.mu.Lock()
	before := p.local[key]
	after := max(0, before+d)
	if after == 0 {
		delete(p.local, key)
	} else {
		p.local[key] = after
	}
	if (before == 0) != (after == 0) {
		p.dirty[key] = struct{}{}
	}
	p.mu.Unlock()
	p.poke()
}

// Watch sets f, told once in the deployment of each key that comes
// online or goes offline; calls come from Presence's goroutine.
func (p *Presence) Watch(f func(key string, online bool)) {
	p.mu.Lock()
	p.watch = f
	p.mu.Unlock()
	p.poke()
}

// Stop ends the goroutine and the bus subscription. The rows stay: the
// node's stop (Cluster.Stop) makes the others delete them.
func (p *Presence) Stop() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	<-p.done
	p.unsub()
}

func (p *Presence) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// gone is told by the heartbeat of a node that died or stopped: its keys
// stop counting here at once, and its rows are to be deleted.
func (p *Presence) gone(n Node) {
	r := run{n.ID, n.Started.UnixMicro()}
	p.mu.Lock()
	for key, runs := range p.remote {
		for rr := range runs {
			if rr.Node == n.ID {
				delete(runs, rr)
			}
		}
		if len(runs) == 0 {
			delete(p.remote, key)
		}
	}
	p.dead[r] = struct{}{}
	p.mu.Unlock()
	p.poke()
}

// heard applies another node's row written or deleted.
func (p *Presence) heard(frame []byte) {
	var env struct {
		Data presenceMsg `json:"data"`
	}
	if err := json.Unmarshal(frame, &env); err != nil {
		p.log.Warn("cluster: a presence frame", "err", err)
		return
	}
	m := env.Data
	if m.run == p.self() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	p.touched[m.Key] = p.seq
	runs := p.remote[m.Key]
	if m.Online {
		if runs == nil {
			runs = map[run]int64{}
			p.remote[m.Key] = runs
		}
		runs[m.run] = p.seq
		return
	}
	delete(runs, m.run)
	if len(runs) == 0 {
		delete(p.remote, m.Key)
	}
}

// loop writes this node's rows, deletes dead nodes' rows and reads the
// table again every refresh, until Stop. A step that fails is tried
// again at the next refresh.
func (p *Presence) loop() {
	defer close(p.done)
	t := time.NewTicker(p.refresh)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Each step is bounded as a heartbeat is: a database that hangs
	// costs a step, which is tried again.
	step := func(f func(context.Context)) {
		sctx, cancel := context.WithTimeout(ctx, p.c.opts.TTL)
		defer cancel()
		f(sctx)
	}
	for {
		step(p.clean)
		step(p.write)
		p.tell()
		select {
		case <-p.stop:
			return
		case <-p.kick:
		case <-t.C:
			step(func(ctx context.Context) {
				if err := p.read(ctx); err != nil && ctx.Err() == nil {
					p.log.Warn("cluster: read presence", "err", err)
				}
			})
		}
	}
}

// write brings this node's rows in line with its counts.
func (p *Presence) write(ctx context.Context) {
	p.mu.Lock()
	keys := make([]string, 0, len(p.dirty))
	for k := range p.dirty {
		keys = append(keys, k)
	}
	p.dirty = map[string]struct{}{}
	p.mu.Unlock()
	sort.Strings(keys)
	me := p.self()
	for i, key := range keys {
		p.mu.Lock()
		want := p.local[key] > 0
		p.mu.Unlock()
		changed, first, err := p.setRow(ctx, me, key, want)
		if err != nil {
			p.mu.Lock()
			for _, k := range keys[i:] {
				p.dirty[k] = struct{}{}
			}
			p.mu.Unlock()
			if ctx.Err() == nil {
				p.log.Warn("cluster: write presence", "key", key, "err", err)
			}
			return
		}
		if changed {
			p.publish(presenceMsg{me, key, want})
		}
		if first {
			p.note(key, want)
		}
	}
}

// setRow writes (online) or deletes run r's row of key, and reports
// whether the row changed and whether it was the first or the last row
// of key in the deployment.
func (p *Presence) setRow(ctx context.Context, r run, key string, online bool) (changed, edge bool, err error) {
	err = pgx.BeginFunc(ctx, p.c.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, presenceLockClass, key); err != nil {
			return err
		}
		started := time.UnixMicro(r.Started)
		var tag pgconn.CommandTag
		var err error
		if online {
			tag, err = tx.Exec(ctx, `INSERT INTO cluster_presence (node_id, node_started, key) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, r.Node, started, key)
		} else {
			tag, err = tx.Exec(ctx, `DELETE FROM cluster_presence WHERE node_id = $1 AND node_started = $2 AND key = $3`,
				r.Node, started, key)
		}
		if err != nil {
			return err
		}
		changed = tag.RowsAffected() == 1
		if !changed {
			return nil
		}
		var others bool
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cluster_presence WHERE key = $1
			AND NOT (node_id = $2 AND node_started = $3))`, key, r.Node, started).Scan(&others)
		edge = !others
		return err
	})
	return changed, edge, err
}

// clean deletes the rows of the runs found dead, key by key, telling of
// each key whose last row that was.
func (p *Presence) clean(ctx context.Context) {
	p.mu.Lock()
	dead := make([]run, 0, len(p.dead))
	for r := range p.dead {
		dead = append(dead, r)
	}
	p.mu.Unlock()
	for _, r := range dead {
		if err := p.cleanRun(ctx, r); err != nil {
			if ctx.Err() == nil {
				p.log.Warn("cluster: delete a gone node's presence", "node", r.Node, "err", err)
			}
			continue
		}
		p.mu.Lock()
		delete(p.dead, r)
		p.mu.Unlock()
	}
}

func (p *Presence) cleanRun(ctx context.Context, r run) error {
	rows, err := p.c.pool.Query(ctx, `SELECT key FROM cluster_presence WHERE node_id = $1 AND node_started = $2`,
		r.Node, time.UnixMicro(r.Started))
	if err != nil {
		return err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, key := range keys {
		changed, last, err := p.setRow(ctx, r, key, false)
		if err != nil {
			return err
		}
		if changed {
			p.publish(presenceMsg{r, key, false})
		}
		if last {
			p.note(key, false)
		}
	}
	if len(keys) > 0 {
		p.log.Info("cluster: a gone node's connections deleted", "node", r.Node, "keys", len(keys))
	}
	return nil
}

func (p *Presence) publish(m presenceMsg) {
	frame, err := bus.Frame(PresenceSubject, m)
	if err == nil {
		err = p.bus.Publish(PresenceSubject, frame)
	}
	if err != nil {
		p.log.Warn("cluster: publish presence", "err", err)
	}
}

// note queues a change for the watcher.
func (p *Presence) note(key string, online bool) {
	p.mu.Lock()
	p.pending = append(p.pending, presenceChange{key, online})
	p.mu.Unlock()
}

// tell hands the queued changes to the watcher, once there is one.
func (p *Presence) tell() {
	p.mu.Lock()
	f, changes := p.watch, p.pending
	if f != nil {
		p.pending = nil
	}
	p.mu.Unlock()
	if f == nil {
		return
	}
	for _, ch := range changes {
		p.log.Debug("presence: told", "key", ch.key, "online", ch.online)
		f(ch.key, ch.online)
	}
}

// read reads the whole table again: the other live nodes' rows become
// the view (but for keys the bus changed meanwhile, which it knows
// better), rows of runs not alive are to be deleted, and this node's
// rows that do not match its counts are to be written again.
func (p *Presence) read(ctx context.Context) error {
	p.mu.Lock()
	since := p.seq
	p.mu.Unlock()
	// Alive by the database's rows now, not by the last heartbeat's
	// view: a node that has just started is not taken for dead.
	rows, err := p.c.pool.Query(ctx, `SELECT p.node_id, p.node_started, p.key,
			n.stopped_at IS NULL AND n.started_at = p.node_started AND n.heartbeat_at > now() - make_interval(secs => $1)
		FROM cluster_presence p JOIN cluster_nodes n ON n.id = p.node_id`, p.c.opts.TTL.Seconds())
	if err != nil {
		return err
	}
	me := p.self()
	view := map[string]map[run]int64{}
	mine := map[string]bool{}
	dead := map[run]struct{}{}
	for rows.Next() {
		var r run
		var started time.Time
		var key string
		var alive bool
		if err := rows.Scan(&r.Node, &started, &key, &alive); err != nil {
			rows.Close()
			return err
		}
		r.Started = started.UnixMicro()
		switch {
		case r == me:
			mine[key] = true
		case !alive:
			dead[r] = struct{}{}
		default:
			if view[key] == nil {
				view[key] = map[run]int64{}
			}
			view[key][r] = 0
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, seq := range p.touched {
		if seq > since {
			view[key] = p.remote[key] // the bus told of it after the read began
		} else {
			delete(p.touched, key)
		}
	}
	for key, runs := range view {
		if len(runs) == 0 {
			delete(view, key)
		}
	}
	p.remote = view
	for r := range dead {
		p.dead[r] = struct{}{}
	}
	for key := range mine {
		if p.local[key] == 0 {
			p.dirty[key] = struct{}{}
		}
	}
	for key := range p.local {
		if !mine[key] {
			p.dirty[key] = struct{}{}
		}
	}
	if len(dead) > 0 || len(p.dirty) > 0 {
		p.poke()
	}
	return nil
}
