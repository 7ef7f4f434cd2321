package chat

import (
	"context"
	"testing"
)

// An agent's status shows on the floor in every queue the agent is in:
// the service tells the floor everything changed (no trigger does, since
// migration 0027), whoever set it.
func TestTheFloorHearsOfAnAgentsStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	told := make(chan FloorChange, 64)
	unsub, err := f.bus.Subscribe(FloorSubject, func(frame []byte) {
		if c, err := DecodeFloorChange(frame); err == nil {
			told <- c
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
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
