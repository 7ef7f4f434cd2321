package routing

import (
	"context"
	"parley/chat/queues"
)

// Turn says whether this node routes a queue now: offers its waiting
// chats and expires their offers. Every step of the router is a
// transaction on rows it locks, so two nodes routing one queue would
// not break it, but would offer its chats twice as fast as the queue's
// order allows. LocalTurn, for one node, always says yes; several nodes
// add an implementation (a PostgreSQL advisory lock or a lease per
// queue) and route each queue on one of them.
type Turn interface {
	Routes(ctx context.Context, q queues.QueueID) (bool, error)
}

var _ Turn = LocalTurn{}

// LocalTurn is the Turn of a node that is alone: it routes every queue.
type LocalTurn struct{}

// Routes implements Turn.
func (LocalTurn) Routes(context.Context, queues.QueueID) (bool, error) { return true, nil }
