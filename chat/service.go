package chat

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/bus"
	"parley/chat/queues"
	"parley/chat/schema"
)

// Migrations are chat's tables (chat/schema). They refer to auth's users,
// so auth's migrations run first.
var Migrations = schema.Migrations

// Options tune the service. Zero values take the defaults.
type Options struct {
	// RejectCooldown is how long an agent who rejected or missed a chat is
	// not offered that chat again. Other agents with room are offered it
	// meanwhile; when there are none, it waits out the cool-down and goes
	// back to the same agents. Default DefaultRejectCooldown.
	RejectCooldown time.Duration
	// Tick is how often the router looks for expired offers. Default 250ms.
	Tick time.Duration
	// BatchMax is the most messages committed in one transaction.
	BatchMax int
	// Writers is how many writers commit messages side by side, each with
	// its own connection, each for a share of the conversations (by id),
	// so a conversation's messages are still committed one batch after
	// the other. A divisor of 64; default 1. Two let PostgreSQL use two
	// cores for the messages (+25 % at 512 senders in BenchmarkSendParallel)
	// but halve the batches: more commits, more PostgreSQL CPU per message,
	// which costs more than it gains when PostgreSQL shares the server's
	// cores (the C1 runs in docs/benchmarks.md).
	Writers int
	// Presence, QueueCache and Turn hold what is per node; nil takes the
	// in-process implementation (NewLocalPresence, queues.NewLocalCache,
	// LocalTurn), which is all of it on one node.
	Presence   Presence
	QueueCache queues.Cache
	Turn       Turn
	// DBTimeout bounds each database step of the service's own loops: a
	// batch of messages committed, a router pass, an expiry of offers. A
	// database that hangs then costs a step this long: its senders are
	// answered unavailable and the loop goes on. Default 5s.
	DBTimeout time.Duration
}

// Service is the chat domain. Run starts its router and message writer.
type Service struct {
	pool *pgxpool.Pool
	bus  bus.Bus
	log  *slog.Logger
	opt  Options

	sends []chan *sendReq // one per writer; a conversation's go to sends[id % len(sends)]
	kick  chan struct{}

	// stripes serialise commit-then-publish per conversation, so the
	// events of one conversation leave this node in seq order.
	stripes [stripeCount]sync.Mutex

	presence Presence
	queues   *queues.Store

	// closed, when set before Run, is told of each conversation closed
	// (its video room ends with it).
	closed func(ConversationID)
}

// OnClose sets the function told of each closed conversation; call it
// before the service is used.
func (s *Service) OnClose(f func(ConversationID)) { s.closed = f }

// New makes the service. Call Run to route and write.
func New(pool *pgxpool.Pool, b bus.Bus, log *slog.Logger, opt Options) *Service {
	if opt.RejectCooldown == 0 {
		opt.RejectCooldown = DefaultRejectCooldown
	}
	if opt.Tick == 0 {
		opt.Tick = 250 * time.Millisecond
	}
	if opt.DBTimeout <= 0 {
		opt.DBTimeout = 5 * time.Second
	}
	if opt.BatchMax == 0 {
		opt.BatchMax = 128
	}
	if opt.Presence == nil {
		opt.Presence = NewLocalPresence()
	}
	if opt.QueueCache == nil {
		opt.QueueCache = queues.NewLocalCache()
	}
	if opt.Turn == nil {
		opt.Turn = LocalTurn{}
	}
	if opt.Writers <= 0 {
		opt.Writers = 1
	}
	for stripeCount%opt.Writers != 0 { // each writer's conversations then take their own stripes
		opt.Writers--
	}
	sends := make([]chan *sendReq, opt.Writers)
	for i := range sends {
		sends[i] = make(chan *sendReq, 4096)
	}
	s := &Service{
		pool:     pool,
		bus:      b,
		log:      log,
		opt:      opt,
		sends:    sends,
		kick:     make(chan struct{}, 1),
		presence: opt.Presence,
		queues:   queues.New(pool, opt.QueueCache),
	}
	s.queues.OnChange(s.queueChanged)
	return s
}

// Run routes and writes until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1 + len(s.sends))
	for _, in := range s.sends {
		go func() { defer wg.Done(); s.writeLoop(ctx, in) }()
	}
	go func() { defer wg.Done(); s.routeLoop(ctx) }()
	wg.Wait()
}

// poke asks the router to look again soon.
func (s *Service) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
