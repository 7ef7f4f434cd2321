package main

import (
	"fmt"
	"testing"
)

// Nodes started at the same moment on a database that does not exist yet
// (the README's three nodes): every one starts, the database is created
// once, and the demo accounts and queue are made once. (A password hash
// of cost 8, a quarter of the real one, keeps the first node making
// accounts long enough for the others to race it; at the real cost, under
// the race detector on a busy machine, a node sometimes ran past its 30 s
// to start.)
func TestNodesStartingTogetherOnANewDatabaseAllStart(t *testing.T) {
	t.Parallel()
	db := freshDatabase(t)
	nats := startNATS(t)
	const nodes = 3
	type started struct {
		base string
		err  error
	}
	out := make(chan started, nodes)
	for i := range nodes {
		go func() {
			base, _, err := spawnProcess(t, db, "--bcrypt-cost", "8", "--nats-url", nats.ClientURL(), "--node-id", fmt.Sprintf("together-%d", i))
			out <- started{base, err}
		}()
	}
	var bases []string
	for range nodes {
		s := <-out
		if s.err != nil {
			t.Fatalf("a node did not start: %v", s.err)
		}
		bases = append(bases, s.base)
	}
	for _, base := range bases {
		if tok := (&server{base: base}).login(t, "alice"); tok == "" {
			t.Fatalf("no session from %s", base)
		}
	}
	if code, body := get(t, bases[0]+"/api/widget/demo"); code != 200 {
		t.Fatalf("the demo queue: %d %s", code, body)
	}
}
