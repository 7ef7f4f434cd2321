// Package routing is the router: it offers waiting chats to agents by
// their queue's strategy, expires unanswered offers, takes accepts and
// rejects, keeps agents' status and the waiting list. The conversations
// and their events are chat/conversation's, which tells it through
// conversation.Hooks what it counts.
package routing

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Options tune the router. Zero values take the defaults.
type Options struct {
	// RejectCooldown is how long an agent who rejected or missed a chat is
	// not offered that chat again. Default DefaultRejectCooldown.
	RejectCooldown time.Duration
	// Tick is how often the router looks for expired offers. Default 250ms.
	Tick time.Duration
	// DBTimeout bounds each step of the router: a pass, an expiry of
	// offers. Default 5s.
	DBTimeout time.Duration
	// Presence says which agents are connected; nil takes
	// conversation.NewLocalPresence. Turn says which queues this node
	// routes; nil takes LocalTurn.
	Presence conversation.Presence
	Turn     Turn
	// OnStatus is told of each user whose status changed (set, or paused
	// for missed offers), after the commit: the staff directory.
	OnStatus func(auth.UserID)
	// EndSessions ends every session of a user a supervisor signs out
	// (auth's); nil ends none (the connections are closed all the same).
	EndSessions func(context.Context, auth.UserID) error
	// Spread, when set, is called by every Poke to wake the other nodes'
	// routers too (which take it as Wake): the node that routes a
	// queue now may not be the one where its chat arrived or its agent
	// freed a place. It must not block.
	Spread func()
	// PositionRefresh is how often the node that routes a queue tells its
	// waiting customers their place again. Default DefaultPositionRefresh.
	PositionRefresh time.Duration
}

// Router routes the chats of the conversation log conv over the queues
// qs. Run starts its loop.
type Router struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	opt  Options
	kick chan struct{}
	pos  *positions

	presence conversation.Presence
	queues   *queues.Store
	conv     *conversation.Log
}

var _ conversation.Hooks = (*Router)(nil)

// New makes the router. Call Run to route.
func New(pool *pgxpool.Pool, log *slog.Logger, qs *queues.Store, conv *conversation.Log, opt Options) *Router {
	if opt.RejectCooldown == 0 {
		opt.RejectCooldown = DefaultRejectCooldown
	}
	if opt.Tick == 0 {
		opt.Tick = 250 * time.Millisecond
	}
	if opt.DBTimeout <= 0 {
		opt.DBTimeout = 5 * time.Second
	}
	if opt.Presence == nil {
		opt.Presence = conversation.NewLocalPresence()
	}
	if opt.Turn == nil {
		opt.Turn = LocalTurn{}
	}
	if opt.PositionRefresh <= 0 {
		opt.PositionRefresh = DefaultPositionRefresh
	}
	if opt.OnStatus == nil {
		opt.OnStatus = func(auth.UserID) {}
	}
	if opt.EndSessions == nil {
		opt.EndSessions = func(context.Context, auth.UserID) error { return nil }
	}
	return &Router{pool: pool, log: log, opt: opt, kick: make(chan struct{}, 1), pos: newPositions(), presence: opt.Presence, queues: qs, conv: conv}
}

// Run routes, keeps the timed rules (timerLoop) and tells waiting
// customers their place, until ctx ends.
func (s *Router) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.positionLoop(ctx) }()
	go func() { defer wg.Done(); s.timerLoop(ctx) }()
	s.routeLoop(ctx)
	wg.Wait()
}

// Poke asks the router to look again soon, here and (Options.Spread) on
// the other nodes: a chat arrived, an agent freed up or came back.
func (s *Router) Poke() {
	s.Wake()
	if s.opt.Spread != nil {
		s.opt.Spread()
	}
}

// Wake asks this node's router alone to look again soon: another node's
// Poke. Wakes that come while the router works are one more pass.
func (s *Router) Wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Queued implements conversation.Hooks: a new chat waits, and its
// queue's customers learn their place.
func (s *Router) Queued(id conversation.ID) {
	s.pos.chat(id)
	s.Poke()
}

// Closed implements conversation.Hooks: a closed chat's offers were
// withdrawn, and its agent may have room.
// The customers waiting in its queue learn their place (it may have been
// one of them, and an agent with room changes the estimate).
func (s *Router) Closed(id conversation.ID) {
	s.pos.chat(id)
	s.Poke()
}

// WrappedUp implements conversation.Hooks: the agent has room again.
func (s *Router) WrappedUp(auth.UserID) { s.Poke() }

// queue returns queue id's settings, cached.
func (s *Router) queue(ctx context.Context, id queues.QueueID) (queues.Queue, error) {
	return s.queues.Get(ctx, id)
}

// forgetQueue drops a queue from the cache after it changed.
func (s *Router) forgetQueue(id queues.QueueID) { s.queues.Forget(id) }
