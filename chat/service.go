// Package chat wires routed webchat together for its callers: queue
// settings (chat/queues), the conversation log (chat/conversation) and
// the router (chat/routing), with the tables' migrations (chat/schema).
// Service is what signaling, web and cmd use; the rules are in the
// packages it wires.
package chat

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat/conversation"
	"parley/chat/crm"
	"parley/chat/queues"
	"parley/chat/routing"
	"parley/chat/schema"
	"parley/chat/search"
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
	// Linger is how long a busy writer waits for more messages to commit
	// with one that came (conversation.Options.Linger). Default 5ms;
	// negative: never wait.
	Linger time.Duration
	// Presence, QueueCache and Turn hold what is per node; nil takes the
	// in-process implementation (NewLocalPresence, queues.NewLocalCache,
	// LocalTurn), which is all of it on one node.
	Presence   Presence
	QueueCache queues.Cache
	Turn       Turn
	// Nodes says several nodes serve the deployment over a shared bus:
	// each router's pokes wake the others' (routing.poke), and a queue
	// saved here is dropped from the others' caches (queue.saved; unless
	// QueueCache is set). Off, nothing more goes on the bus.
	Nodes bool
	// DBTimeout bounds each database step of the service's own loops: a
	// batch of messages committed, a router pass, an expiry of offers. A
	// database that hangs then costs a step this long: its senders are
	// answered unavailable and the loop goes on. Default 5s.
	DBTimeout time.Duration
	// EndSessions ends every session of a user a supervisor signs out
	// (agent.logout): auth's EndSessions. Nil ends none.
	EndSessions func(context.Context, auth.UserID) error
	// FloorWindow is the least time between two of this node's
	// publishes of the floor's changes. Default conversation.FloorWindow.
	FloorWindow time.Duration
}

// Service is the chat domain: the queues, the conversation log and the
// router over them. Run starts its router and message writer.
type Service struct {
	presence Presence
	nodes    *nodes // nil on a node alone
	// forgetHere drops a queue another node saved from this node's cache
	forgetHere func(QueueID)
	dir        *directory
	queues     *queues.Store
	conv       *conversation.Log
	router     *routing.Router
	search     *search.Searcher
	pool       *pgxpool.Pool
	tickets    *crm.Tickets
	contacts   *crm.Contacts
	// floorChanges tells every node's floor of this node's commits.
	floorChanges *conversation.FloorNotifier
}

// New makes the service. Call Run to route and write.
func New(pool *pgxpool.Pool, b bus.Bus, log *slog.Logger, opt Options) *Service {
	if opt.Presence == nil {
		opt.Presence = NewLocalPresence()
	}
	var n *nodes
	if opt.Nodes {
		n = newNodes(b, log)
	}
	forgetHere := func(queues.QueueID) {} // another node saved a queue
	if opt.QueueCache == nil && n != nil {
		local := queues.NewLocalCache()
		opt.QueueCache, forgetHere = toldCache{local, n}, local.Forget
	}
	if opt.QueueCache == nil {
		opt.QueueCache = queues.NewLocalCache()
	}
	var spread func()
	if n != nil {
		spread = n.poke
	}
	qs := queues.New(pool, opt.QueueCache)
	// The floor hears of the chats' changes from what this node commits,
	// on the bus (every node's floor), not from triggers (migration 0027).
	floorChanges := conversation.NewFloorNotifier(b, log, opt.FloorWindow)
	conv := conversation.New(pool, b, log, qs, conversation.Options{BatchMax: opt.BatchMax, Writers: opt.Writers,
		Linger: opt.Linger, Presence: opt.Presence, DBTimeout: opt.DBTimeout, Floor: floorChanges})
	dir := newDirectory(pool, b, log, opt.Presence, opt.DBTimeout)
	onStatus := func(u auth.UserID) {
		dir.changed(u)
		floorChanges.All() // the agent's row, in each of its queues
	}
	router := routing.New(pool, log, qs, conv, routing.Options{RejectCooldown: opt.RejectCooldown, Tick: opt.Tick,
		DBTimeout: opt.DBTimeout, Presence: opt.Presence, Turn: opt.Turn, OnStatus: onStatus, Spread: spread,
		EndSessions: opt.EndSessions})
	conv.SetHooks(router)
	s := &Service{presence: opt.Presence, nodes: n, forgetHere: forgetHere, dir: dir, queues: qs, conv: conv, router: router,
		search: search.New(pool), pool: pool, tickets: crm.NewTickets(pool, b, log), contacts: crm.NewContacts(pool),
		floorChanges: floorChanges}
	s.queues.OnChange(s.queueChanged)
	s.presence.Watch(s.presenceChanged)
	return s
}

// FloorSubject carries the floor's changes, whichever node made them
// (chat/floor follows it): a FloorChange published by the node's
// FloorNotifier after its commits.
const FloorSubject = conversation.FloorSubject

type (
	FloorChange   = conversation.FloorChange
	FloorNotifier = conversation.FloorNotifier
)

// DecodeFloorChange reads a change published on FloorSubject.
func DecodeFloorChange(frame []byte) (FloorChange, error) {
	return conversation.DecodeFloorChange(frame)
}

// NewFloorNotifier makes a notifier publishing on b at most once per
// window (zero: 50 ms), as each node's service has.
func NewFloorNotifier(b bus.Bus, log *slog.Logger, window time.Duration) *FloorNotifier {
	return conversation.NewFloorNotifier(b, log, window)
}

// FloorChanges is how many changes this node marked for the floor and
// how many messages it published for them on floor.changes.
func (s *Service) FloorChanges() (marks, sent int64) {
	return s.floorChanges.Marks(), s.floorChanges.Sent()
}

// OnClose sets the function told of each closed conversation; call it
// before the service is used.
func (s *Service) OnClose(f func(ConversationID)) { s.conv.OnClose(f) }

// Run routes, writes and tells the staff directory's changes until ctx
// ends. Before it returns it publishes the floor's changes still held by
// the window, so that the other nodes' floors see this node's last
// commits (the bus closes after it).
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if s.nodes != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.nodes.run(ctx, s.router.Wake, s.forgetHere) }()
	}
	wg.Add(3)
	go func() { defer wg.Done(); s.conv.Run(ctx) }()
	go func() { defer wg.Done(); s.router.Run(ctx) }()
	go func() { defer wg.Done(); s.dir.run(ctx) }()
	wg.Wait()
	s.floorChanges.Flush()
}
