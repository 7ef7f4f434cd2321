package chat

import (
	"context"
	"testing"
	"time"
)

// An agent's status shows on the floor in every queue the agent is in:
// the service tells the floor everything changed (no trigger does, since
// migration 0027), whoever set it.
func TestTheFloorHearsOfAnAgentsStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	told := f.floorTold(t)
	// everything checks that what the service marked since the last call
	// (published at once by Flush: the memory bus delivers before Publish
	// returns) tells the floor everything changed.
	everything := func(what string) {
		t.Helper()
		f.svc.floorChanges.Flush()
		ok := false
		for len(told) > 0 {
			ok = ok || (<-told).All
		}
		if !ok {
			t.Errorf("%s: the floor was not told", what)
		}
	}
	f.svc.floorChanges.Flush() // the queue's creation
	for len(told) > 0 {
		<-told
	}
	if _, err := f.svc.SetStatus(ctx, f.alice, "paused", "lunch"); err != nil {
		t.Fatal(err)
	}
	everything("the agent paused")
	if _, err := f.svc.SetStatus(ctx, f.alice, "available", ""); err != nil {
		t.Fatal(err)
	}
	everything("the agent available again")
	if _, err := f.svc.Pause(ctx, f.sup, f.bob.UserID, "a word"); err != nil {
		t.Fatal(err)
	}
	everything("a supervisor paused an agent")
}

// A node that stops publishes the floor's changes its window still held:
// the last commits of a node going away reach the other nodes' floors at
// once, not at their next change (or never, once the bus is closed).
func TestAStoppingNodeTellsTheFloorWhatItStillHeld(t *testing.T) {
	f := newFixture(t, Options{FloorWindow: time.Hour})
	ctx := context.Background()
	told := f.floorTold(t)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.svc.Run(runCtx) }()
	// A change goes out at once and opens the hour's window (the queue's
	// creation may already have opened it); what follows waits in it.
	if _, err := f.svc.SetStatus(ctx, f.alice, "paused", "coffee"); err != nil {
		t.Fatal(err)
	}
	for len(told) > 0 {
		<-told
	}
	if _, err := f.svc.SetStatus(ctx, f.alice, "available", ""); err != nil {
		t.Fatal(err)
	}
	if n := len(told); n != 0 {
		t.Fatalf("the window should hold the change, but %d were published", n)
	}
	stop()
	<-done
	// The memory bus delivers before Publish returns.
	if len(told) == 0 || !(<-told).All {
		t.Fatal("the node stopped without telling the floor the agent is available again")
	}
}

// floorTold follows the floor's changes on the fixture's bus until the
// test ends.
func (f *fixture) floorTold(t *testing.T) chan FloorChange {
	t.Helper()
	told := make(chan FloorChange, 64)
	unsub, err := f.bus.Subscribe(FloorSubject, func(frame []byte) {
		if c, err := DecodeFloorChange(frame); err == nil {
			told <- c
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return told
}
