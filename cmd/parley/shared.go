package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/cluster"
)

// sharedState is what one node keeps in memory alone and several nodes
// share: presence, the router's turn, the queue cache's saves and the
// limits that guard against guessing. Nil fields take the in-process
// implementations of their users.
type sharedState struct {
	nodes       bool // chat.Options.Nodes: pokes and queue saves over the bus
	presence    chat.Presence
	turn        chat.Turn
	logins      auth.RateLimit // sign-ins per address (web)
	lookups     auth.RateLimit // wrong room numbers per address (web's conference API)
	roomNumbers auth.RateLimit // wrong room numbers per principal (room.get)
	offline     auth.RateLimit // offline messages per visitor (web); nil on one node
	stop        func()
}

var _ chat.Presence = (*cluster.Presence)(nil)

// newShared chooses, like newBus, one node's implementations (without
// --nats-url: nothing to make, nothing more on the bus or in the
// database) or the cluster's.
func newShared(ctx context.Context, cfg Config, pool *pgxpool.Pool, b bus.Bus, node *cluster.Cluster, log *slog.Logger) (*sharedState, error) {
	if cfg.NATSURL == "" {
		return &sharedState{stop: func() {}}, nil
	}
	presence, err := node.StartPresence(ctx, b, 0)
	if err != nil {
		return nil, err
	}
	turn, err := chat.NewPGTurn(ctx, pool, node.ID(), log.With("component", "chat"))
	if err != nil {
		presence.Stop()
		return nil, err
	}
	limits := log.With("component", "limits")
	return &sharedState{nodes: true, presence: presence, turn: turn,
		logins:      auth.NewPGLimiter(pool, limits, "login", 6*time.Second, 10),
		lookups:     auth.NewPGLimiter(pool, limits, "room-lookup", 30*time.Second, 10),
		roomNumbers: auth.NewPGLimiter(pool, limits, "room-number", 30*time.Second, 10),
		offline:     auth.NewPGLimiter(pool, limits, "offline", 5*time.Minute, 3),
		stop:        func() { turn.Close(); presence.Stop() },
	}, nil
}
