package main

import (
	"context"
	"net/http"
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

// floorBus reports the floor's changes the server marked and the messages
// it published for them on the bus (servers that count them: since
// migration 0027).
func floorBus(res *result, t *target) {
	const marked, published = "parley_floor_changes_marked_total", "parley_floor_changes_published_total"
	m, err := t.scrapeNodes(&http.Client{Timeout: 5 * time.Second}, marked, published)
	if _, ok := m[marked]; err != nil || !ok {
		return
	}
	res.add("floor changes", "%.0f marked, %.0f bus messages", m[marked], m[published])
}
