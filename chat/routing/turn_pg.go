package routing

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/chat/queues"
)

// turnLockClass is the first key of the advisory locks of PGTurn (the
// second is the queue's id).
const turnLockClass = 0x726f7574 // "rout"

// DefaultTurnCheck is how often PGTurn makes sure its connection still
// holds its locks.
const DefaultTurnCheck = time.Second

var _ Turn = (*PGTurn)(nil)

// PGTurn is the Turn of a node among several: a node routes a queue
// while it holds the queue's PostgreSQL session advisory lock, on a
// connection of its own (not the pool's). The first node to ask takes
// the lock and keeps it until it dies: its connection ends, PostgreSQL
// releases its locks, and the next node to ask (at its next pass once
// DefaultTurnCheck has passed since it last found the lock taken) takes
// them. A node that loses its connection, or whose
// connection does not answer the check (every DefaultTurnCheck, within
// the check itself), drops every turn at once and opens a new
// connection; the node that took its turns meanwhile keeps them.
type PGTurn struct {
	pool *pgxpool.Pool
	node string
	log  *slog.Logger

	mu   sync.Mutex // one query at a time on conn
	conn *pgx.Conn  // nil while there is none
	held map[queues.QueueID]bool
	// tried: when a lock held elsewhere was last asked for. A node that
	// does not route a queue asks again after DefaultTurnCheck at the
	// soonest, not at every pass: every chat queued or freed anywhere
	// wakes every node's router (routing.poke), and a query per queue
	// per pass per node would be the price.
	tried map[queues.QueueID]time.Time

	stop chan struct{}
	done chan struct{}
}

// TurnApplication is the application_name of a turn's connection, and
// the node's id follows it: pg_stat_activity, joined to pg_locks, shows
// which node routes which queue.
const TurnApplication = "parley routing turn "

// NewPGTurn opens the turn's connection of node, with pool's settings,
// and checks it until Close.
func NewPGTurn(ctx context.Context, pool *pgxpool.Pool, node string, log *slog.Logger) (*PGTurn, error) {
	t := &PGTurn{pool: pool, node: node, log: log, held: map[queues.QueueID]bool{},
		tried: map[queues.QueueID]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	conn, err := t.dial(ctx)
	if err != nil {
		return nil, err
	}
	t.conn = conn
	go t.check()
	return t, nil
}

func (t *PGTurn) dial(ctx context.Context) (*pgx.Conn, error) {
	cfg := t.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = TurnApplication + t.node
	return pgx.ConnectConfig(ctx, cfg)
}

// Routes implements Turn: true while this node holds queue q's lock, or
// takes it now.
func (t *PGTurn) Routes(ctx context.Context, q queues.QueueID) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held[q] {
		return true, nil
	}
	if t.conn == nil {
		return false, nil // the check is opening a new one
	}
	if at, ok := t.tried[q]; ok && time.Since(at) < DefaultTurnCheck {
		return false, nil // another node held it a moment ago
	}
	var got bool // two queues 2³² apart share a turn: harmless
	if err := t.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2::int4)`, turnLockClass, int32(q)).Scan(&got); err != nil {
		t.lostLocked(err)
		return false, err
	}
	if !got {
		t.tried[q] = time.Now()
	}
	if got {
		delete(t.tried, q)
		t.held[q] = true
		t.log.Info("routing: this node routes the queue now", "queue", q)
	}
	return got, nil
}

// lostLocked drops the connection and every turn with it; t.mu is held.
func (t *PGTurn) lostLocked(err error) {
	if len(t.held) > 0 && err != nil {
		t.log.Warn("routing: the turn's connection failed: this node routes no queue until it has a new one", "err", err)
	}
	t.held = map[queues.QueueID]bool{}
	if t.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		t.conn.Close(ctx) //nolint:errcheck // the connection is gone either way
		cancel()
		t.conn = nil
	}
}

// check pings the connection every DefaultTurnCheck, and opens a new one
// when it is gone, until Close.
func (t *PGTurn) check() {
	defer close(t.done)
	tick := time.NewTicker(DefaultTurnCheck)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		if t.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), DefaultTurnCheck)
			if err := t.conn.Ping(ctx); err != nil {
				t.lostLocked(err)
			}
			cancel()
		}
		if t.conn == nil {
			ctx, cancel := context.WithTimeout(context.Background(), DefaultTurnCheck)
			conn, err := t.dial(ctx)
			cancel()
			if err == nil {
				t.conn = conn
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.log.Warn("routing: the turn's connection", "err", err)
			}
		}
		t.mu.Unlock()
	}
}

// Close ends the check and the connection: the node's turns go to the
// others.
func (t *PGTurn) Close() {
	select {
	case <-t.stop:
		return
	default:
	}
	close(t.stop)
	<-t.done
	t.mu.Lock()
	t.lostLocked(nil)
	t.mu.Unlock()
}
