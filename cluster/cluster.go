// Package cluster is the membership of a deployment's nodes: each node
// has a row in cluster_nodes that it renews every second (its heartbeat),
// and every node reads the rows to know which nodes are alive. A node
// whose heartbeat is older than the TTL (5 s), or that stopped, is gone;
// the others are told once (OnGone), and exactly one of them may claim
// what it left behind (Claim). PostgreSQL is the only shared state: there
// is no protocol of our own between nodes. One node alone runs it too, as
// a cluster of one.
package cluster

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the cluster's table.
var Migrations = store.Migrations{Component: "cluster", FS: mustSub(migrations, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(fmt.Sprintf("cluster: %v", err))
	}
	return sub
}

// Defaults of Options.
const (
	DefaultHeartbeat = time.Second
	DefaultTTL       = 5 * time.Second
)

// Node is one running Parley process.
type Node struct {
	ID string
	// Addr is the node's own HTTP address (host:port), for the logs and
	// for operators: clients reach nodes through the load balancer.
	Addr string
	// Media says the node runs an SFU and may host video rooms.
	Media bool
	// Started tells one run of a node from the next under the same ID: a
	// node that restarts is gone, then a new node.
	Started time.Time
}

// Options of a node.
type Options struct {
	// ID names the node; empty makes one from the host name and random
	// bytes (NewID).
	ID    string
	Addr  string
	Media bool
	// Heartbeat is how often the node renews its row and reads the
	// others' (DefaultHeartbeat); TTL how old a heartbeat may be for its
	// node to count as alive (DefaultTTL).
	Heartbeat time.Duration
	TTL       time.Duration
	Logger    *slog.Logger
}

// Cluster is this node's view of the deployment.
type Cluster struct {
	pool *pgxpool.Pool
	self Node
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	alive  map[string]Node // by ID, as of the last read
	onGone []func(Node)
	onNew  []func(Node)

	stop chan struct{}
	done chan struct{}
}

// NewID is a node ID unique enough to need no configuration: the host
// name and eight random hex digits.
func NewID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	host = strings.Map(func(r rune) rune {
		if r == '.' || r == ' ' {
			return '-'
		}
		return r
	}, host)
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail on Linux
	return host + "-" + hex.EncodeToString(b)
}

// Start registers this node (taking over the row of an earlier run under
// the same ID), reads the nodes alive now, and beats the heart until Stop.
func Start(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Cluster, error) {
	if opts.ID == "" {
		opts.ID = NewID()
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{pool: pool, opts: opts, log: opts.Logger, alive: map[string]Node{},
		stop: make(chan struct{}), done: make(chan struct{})}
	var wasAlive bool
	err := pool.QueryRow(ctx, `
		WITH before AS (
			SELECT stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $4) AS alive
			FROM cluster_nodes WHERE id = $1)
		INSERT INTO cluster_nodes (id, addr, media) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET addr = $2, media = $3, started_at = now(), heartbeat_at = now(),
			stopped_at = NULL, reaped_at = NULL
		RETURNING started_at, coalesce((SELECT alive FROM before), false)`,
		opts.ID, opts.Addr, opts.Media, opts.TTL.Seconds()).Scan(&c.self.Started, &wasAlive)
	if err != nil {
		return nil, fmt.Errorf("cluster: register node %s: %w", opts.ID, err)
	}
	if wasAlive {
		c.log.Warn("node id was in use by a node that looked alive: taking it over", "node", opts.ID)
	}
	c.self.ID, c.self.Addr, c.self.Media = opts.ID, opts.Addr, opts.Media
	if err := c.read(ctx); err != nil {
		return nil, err
	}
	go c.run()
	return c, nil
}

// Self is this node.
func (c *Cluster) Self() Node { return c.self }

// ID is this node's ID.
func (c *Cluster) ID() string { return c.self.ID }

// TTL is how old a heartbeat may be for its node to count as alive.
func (c *Cluster) TTL() time.Duration { return c.opts.TTL }

// Alive is the nodes alive as of the last heartbeat (at most a
// heartbeat old), this one included, sorted by ID.
func (c *Cluster) Alive() []Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Node, 0, len(c.alive))
	for _, n := range c.alive {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IsAlive reports whether node id was alive at the last heartbeat. This
// node is always alive to itself.
func (c *Cluster) IsAlive(id string) bool {
	if id == c.self.ID {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.alive[id]
	return ok
}

// OnGone registers f, called once for each node that this node saw alive
// and then saw gone (stopped, or its heartbeat older than the TTL, or
// restarted under the same ID). Calls come one at a time from the
// heartbeat's goroutine: f must not block for long.
func (c *Cluster) OnGone(f func(Node)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onGone = append(c.onGone, f)
}

// OnNew registers f, called once for each node that appears after Start
// (a new node, or a node restarted). Same rules as OnGone.
func (c *Cluster) OnNew(f func(Node)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onNew = append(c.onNew, f)
}

// Claim reports whether this node is the one to clean up after node id,
// which must be gone: true for exactly one caller in the whole deployment
// (until the node starts again).
func (c *Cluster) Claim(ctx context.Context, id string) (bool, error) {
	tag, err := c.pool.Exec(ctx, `
		UPDATE cluster_nodes SET reaped_at = now()
		WHERE id = $1 AND reaped_at IS NULL
		  AND (stopped_at IS NOT NULL OR heartbeat_at <= now() - make_interval(secs => $2))`,
		id, c.opts.TTL.Seconds())
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// Gone lists the nodes that are gone and that nobody has cleaned up
// after yet: what a node starting, or one that missed a death, claims.
func (c *Cluster) Gone(ctx context.Context) ([]Node, error) {
	rows, err := c.pool.Query(ctx, `
		SELECT id, addr, media, started_at FROM cluster_nodes
		WHERE reaped_at IS NULL
		  AND (stopped_at IS NOT NULL OR heartbeat_at <= now() - make_interval(secs => $1))
		ORDER BY id`, c.opts.TTL.Seconds())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		var n Node
		if err := rows.Scan(&n.ID, &n.Addr, &n.Media, &n.Started); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Stop ends the heartbeat and marks this node stopped, so the others see
// it gone at their next heartbeat rather than after the TTL.
func (c *Cluster) Stop(ctx context.Context) {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	<-c.done
	_, err := c.pool.Exec(ctx, `UPDATE cluster_nodes SET stopped_at = now() WHERE id = $1 AND started_at = $2`,
		c.self.ID, c.self.Started)
	if err != nil {
		c.log.Warn("cluster: marking this node stopped", "err", err)
	}
}

func (c *Cluster) run() {
	defer close(c.done)
	t := time.NewTicker(c.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.TTL)
		err := c.beat(ctx)
		if err == nil {
			err = c.read(ctx)
		}
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			// The nodes known alive stay as they were: a database that
			// does not answer says nothing about the other nodes.
			c.log.Warn("cluster: heartbeat", "err", err)
		}
	}
}

// beat renews this node's row; a row taken over by a later run under the
// same ID is left alone.
func (c *Cluster) beat(ctx context.Context) error {
	tag, err := c.pool.Exec(ctx, `UPDATE cluster_nodes SET heartbeat_at = now() WHERE id = $1 AND started_at = $2`,
		c.self.ID, c.self.Started)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		c.log.Error("cluster: this node's row was taken over by another node with the same id", "node", c.self.ID)
	}
	return nil
}

// read reads the nodes alive now and tells of the changes.
func (c *Cluster) read(ctx context.Context) error {
	rows, err := c.pool.Query(ctx, `
		SELECT id, addr, media, started_at FROM cluster_nodes
		WHERE stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1)`, c.opts.TTL.Seconds())
	if err != nil {
		return err
	}
	now := map[string]Node{}
	for rows.Next() {
		var n Node
		if err := rows.Scan(&n.ID, &n.Addr, &n.Media, &n.Started); err != nil {
			rows.Close()
			return err
		}
		now[n.ID] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now[c.self.ID] = c.self
	c.mu.Lock()
	var gone, fresh []Node
	for id, n := range c.alive {
		if m, ok := now[id]; !ok || !m.Started.Equal(n.Started) {
			gone = append(gone, n)
		}
	}
	for id, n := range now {
		if m, ok := c.alive[id]; !ok || !m.Started.Equal(n.Started) {
			fresh = append(fresh, n)
		}
	}
	first := len(c.alive) == 0
	c.alive = now
	onGone, onNew := c.onGone, c.onNew
	c.mu.Unlock()
	if first {
		return nil // Start's own read: nothing has changed for anyone yet
	}
	for _, n := range gone {
		for _, f := range onGone {
			f(n)
		}
	}
	for _, n := range fresh {
		for _, f := range onNew {
			f(n)
		}
	}
	return nil
}
