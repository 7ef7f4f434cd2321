package conversation

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat/queues"
)

// Options tune the log. Zero values take the defaults.
type Options struct {
	// BatchMax is the most messages committed in one transaction.
	BatchMax int
	// Writers is how many writers commit messages side by side, each with
	// its own connection, each for a share of the conversations (by id),
	// so a conversation's messages are still committed one batch after
	// the other. A divisor of 64; default 1.
	Writers int
	// Linger is how long a busy writer waits, from a message's arrival,
	// for more messages to commit in the same transaction: PostgreSQL's
	// cost is mostly per transaction, not per message in it
	// (docs/benchmarks.md, "CPU per chat message"). A writer is busy for
	// quietLingers lingers after a batch of several messages; otherwise
	// it commits a message at once. Default 5ms; negative: never wait.
	Linger time.Duration
	// Presence holds who is connected; nil takes NewLocalPresence.
	Presence Presence
	// DBTimeout bounds each batch of messages committed. Default 5s.
	DBTimeout time.Duration
	// Floor is told of the events that change what the supervisors'
	// floor shows (floor.go); nil tells nobody.
	Floor *FloorNotifier
}

// Hooks are told what the log did that the router counts: a chat that
// waits, a chat closed (its pending offers withdrawn with it) and an
// agent's place freed by a wrap-up. They are called after the commit,
// and must not block.
type Hooks interface {
	Queued(id ID)
	Closed(id ID)
	WrappedUp(agent auth.UserID)
}

// noHooks is the Hooks of a log nobody routes.
type noHooks struct{}

func (noHooks) Queued(ID)             {}
func (noHooks) Closed(ID)             {}
func (noHooks) WrappedUp(auth.UserID) {}

// Log is the conversation log: conversations and their numbered events,
// who may read and write them (Decide), the message writer, delivery on
// the bus. Run starts its writers.
type Log struct {
	pool *pgxpool.Pool
	bus  bus.Bus
	log  *slog.Logger
	opt  Options

	writers []*writer // a conversation's messages go to writers[id % len(writers)]

	// positions takes chat.position checks to the one loop that reads
	// them in batches (position.go), while positionsRunning says it runs.
	positions        chan *posReq
	positionsRunning atomic.Bool

	// stripes serialise commit-then-publish per conversation, so the
	// events of one conversation leave this node in seq order.
	stripes [stripeCount]sync.Mutex

	presence Presence
	queues   *queues.Store
	hooks    Hooks

	// closed, when set before Run, is told of each conversation closed
	// (its video room ends with it).
	closed func(ID)
}

// New makes the log over the queues qs. Call Run to write.
func New(pool *pgxpool.Pool, b bus.Bus, log *slog.Logger, qs *queues.Store, opt Options) *Log {
	if opt.DBTimeout <= 0 {
		opt.DBTimeout = 5 * time.Second
	}
	if opt.BatchMax == 0 {
		opt.BatchMax = 128
	}
	if opt.Presence == nil {
		opt.Presence = NewLocalPresence()
	}
	if opt.Writers <= 0 {
		opt.Writers = 1
	}
	if opt.Linger == 0 {
		opt.Linger = 5 * time.Millisecond
	}
	for stripeCount%opt.Writers != 0 { // each writer's conversations then take their own stripes
		opt.Writers--
	}
	s := &Log{pool: pool, bus: b, log: log, opt: opt, presence: opt.Presence, queues: qs, hooks: noHooks{},
		positions: make(chan *posReq, 1024)}
	s.writers = make([]*writer, opt.Writers)
	for i := range s.writers {
		s.writers[i] = newWriter(s)
	}
	return s
}

// SetHooks sets who is told what the router counts; call it before the
// log is used.
func (s *Log) SetHooks(h Hooks) { s.hooks = h }

// OnClose sets the function told of each closed conversation; call it
// before the log is used.
func (s *Log) OnClose(f func(ID)) { s.closed = f }

// Run writes messages and reads positions until ctx ends. Checks of
// positions made while it does not run are read one by one.
func (s *Log) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(len(s.writers) + 1)
	for _, wr := range s.writers {
		go func() { defer wg.Done(); s.writeLoop(ctx, wr) }()
	}
	s.positionsRunning.Store(true)
	go func() {
		defer wg.Done()
		s.positionLoop(ctx)
	}()
	wg.Wait()
	s.positionsRunning.Store(false)
}

// queue returns queue id's settings, cached.
func (s *Log) queue(ctx context.Context, id queues.QueueID) (queues.Queue, error) {
	return s.queues.Get(ctx, id)
}
