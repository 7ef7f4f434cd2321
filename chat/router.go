package chat

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/chat/routing"
)

// The router's names and calls, for chat's callers (chat/routing).
type (
	AgentStatus  = routing.AgentStatus
	AgentQueue   = routing.AgentQueue
	AgentState   = routing.AgentState
	PendingOffer = routing.PendingOffer
	Turn         = routing.Turn
	LocalTurn    = routing.LocalTurn
	PGTurn       = routing.PGTurn
)

// TurnApplication is the application_name of a PGTurn's connection,
// before the node's id.
const TurnApplication = routing.TurnApplication

// NewPGTurn is the Turn of a node among several: a PostgreSQL advisory
// lock per queue (routing.NewPGTurn).
func NewPGTurn(ctx context.Context, pool *pgxpool.Pool, node string, log *slog.Logger) (*PGTurn, error) {
	return routing.NewPGTurn(ctx, pool, node, log)
}

// Agent statuses.
const (
	StatusAvailable = routing.StatusAvailable
	StatusPaused    = routing.StatusPaused
	StatusOffline   = routing.StatusOffline
)

// DefaultRejectCooldown is how long, unless Options.RejectCooldown says
// otherwise, a chat an agent rejected or missed is not offered to that
// agent again.
const DefaultRejectCooldown = routing.DefaultRejectCooldown

// MissesBeforePause is how many offers in a row an agent may let run out
// before the router pauses the agent ("missed offer").
const MissesBeforePause = routing.MissesBeforePause

// Accept gives conversation id to agent p: an offer to p, or a chat
// waiting in one of p's queues (picked from the waiting list).
func (s *Service) Accept(ctx context.Context, p auth.Principal, id ConversationID) (Conversation, []Event, error) {
	return s.router.Accept(ctx, p, id)
}

// Take is Accept without reading the chat back: the caller subscribes
// to the chat, then reads it (Resume), so that nothing falls between.
func (s *Service) Take(ctx context.Context, p auth.Principal, id ConversationID) error {
	return s.router.Take(ctx, p, id)
}

// Reject declines p's offer of conversation id.
func (s *Service) Reject(ctx context.Context, p auth.Principal, id ConversationID) error {
	return s.router.Reject(ctx, p, id)
}

// State returns p's status, queues, number of open chats and pending
// offers.
func (s *Service) State(ctx context.Context, p auth.Principal) (AgentState, error) {
	return s.router.State(ctx, p)
}

// SetStatus changes p's status; every tab of p hears of it.
func (s *Service) SetStatus(ctx context.Context, p auth.Principal, status, reason string) (AgentStatus, error) {
	return s.router.SetStatus(ctx, p, status, reason)
}

// WaitingQueues lists the queues whose waiting list p follows.
func (s *Service) WaitingQueues(ctx context.Context, p auth.Principal) ([]QueueID, error) {
	return s.router.WaitingQueues(ctx, p)
}

// Waiting lists the chats waiting in p's queues, oldest first, and the
// queues.
func (s *Service) Waiting(ctx context.Context, p auth.Principal) ([]Conversation, []QueueID, error) {
	return s.router.Waiting(ctx, p)
}
