package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"parley/signaling/client"
)

// floorWatcher is a supervisor watching the floor through a chat run
// (--supervisor): the run's admin, whose connection asks supervisor.floor
// and then takes the server's pushes, as an open supervisor page does.
// The server recomputes the floor for it whenever a chat changes, at most
// once a second.
type floorWatcher struct {
	p      *peer
	pushes atomic.Int64 // supervisor.floor events received
}

func (w *floorWatcher) connected(ctx context.Context, c *client.Client) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := c.Request(rctx, "supervisor.floor", nil)
	return err
}

func (w *floorWatcher) event(_ context.Context, _ *client.Client, ev client.Envelope) {
	if ev.Type == "supervisor.floor" {
		w.pushes.Add(1)
	}
}

// watchFloor starts the admin's floor watcher on the node of the first
// agent and waits until it watches.
func watchFloor(ctx, runCtx context.Context, t *target, peers *sync.WaitGroup) (*floorWatcher, error) {
	w := &floorWatcher{}
	w.p = newPeer(t.agentURLs(0), t.admin, 64, w, func(int) {})
	peers.Add(1)
	go func() { defer peers.Done(); w.p.run(runCtx) }()
	if err := waitFirstUp(ctx, w.p, 30*time.Second); err != nil {
		return nil, err
	}
	return w, nil
}
