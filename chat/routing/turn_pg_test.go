package routing

import (
	"context"
	"testing"
	"time"

	"parley/chat/chattest"
	"parley/chat/queues"
)

func TestTheTurnPassesToAnotherNodeWhenItsHoldersConnectionEnds(t *testing.T) {
	pool, _ := chattest.DB(t)
	ctx := context.Background()
	newTurn := func() *PGTurn {
		turn, err := NewPGTurn(ctx, pool, "test", chattest.Quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(turn.Close)
		return turn
	}
	a, b := newTurn(), newTurn()
	q, other := queues.QueueID(7001), queues.QueueID(7002)
	routes := func(turn *PGTurn, q queues.QueueID) bool {
		t.Helper()
		mine, err := turn.Routes(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return mine
	}
	if !routes(a, q) {
		t.Fatal("the first node to ask does not route the queue")
	}
	if routes(b, q) {
		t.Fatal("two nodes route one queue")
	}
	if !routes(b, other) || routes(a, other) {
		t.Fatal("another queue's turn is not its own")
	}
	// a's connection ends as a dead node's does (the database drops it).
	a.mu.Lock()
	pid := a.conn.PgConn().PID()
	a.mu.Unlock()
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !routes(b, q) {
		if time.Now().After(deadline) {
			t.Fatal("no other node took the turn of a node whose connection ended")
		}
		time.Sleep(20 * time.Millisecond) // the router asks at each pass, this often or less
	}
	// a finds out at its check, within a second, and stops routing.
	for {
		mine, err := a.Routes(ctx, q)
		if err == nil && !mine {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a node that lost its connection still routes the queue")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
