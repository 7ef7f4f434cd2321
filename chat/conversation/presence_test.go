package conversation

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/bus"
	"parley/cluster"
	"parley/store/storetest"
)

// presences are the implementations of Presence, each passing the same
// steps: in this process, and the cluster's (one node of it here; the
// cluster's own tests run two and kill one).
func presences(t *testing.T) map[string]Presence {
	pool := storetest.Pool(t, cluster.Migrations)
	node, err := cluster.Start(context.Background(), pool, cluster.Options{ID: fmt.Sprint("presence-suite-", time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Stop(context.Background()) })
	shared, err := node.StartPresence(context.Background(), bus.NewMemory(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(shared.Stop)
	return map[string]Presence{"local": NewLocalPresence(), "cluster": shared}
}

func TestPresenceTellsWhenAPrincipalComesAndGoes(t *testing.T) {
	for name, p := range presences(t) {
		t.Run(name, func(t *testing.T) {
			// This run's keys: the leftovers of earlier runs' nodes, which
			// the cluster's cleans up meanwhile, are told under others.
			run := fmt.Sprint(time.Now().UnixNano(), "-")
			told := make(chan string, 16)
			p.Watch(func(key string, online bool) {
				if strings.Contains(key, run) {
					told <- fmt.Sprint(key, " ", online)
				}
			})
			next := func() string {
				t.Helper()
				select {
				case s := <-told:
					return s
				case <-time.After(10 * time.Second):
					t.Fatal("nothing told")
					return ""
				}
			}
			for i, step := range []struct {
				key     string
				d       int
				changed bool
				online  bool
			}{
				{"user:1", 1, true, true},   // the first tab
				{"user:1", 1, false, true},  // a second tab
				{"user:2", 1, true, true},   // someone else
				{"user:1", -1, false, true}, // one tab of two closes
				{"user:1", -1, true, false}, // the last one
				{"user:1", -1, false, false},
				{"user:1", 1, true, true}, // never below nobody
			} {
				key := strings.Replace(step.key, ":", ":"+run, 1)
				p.Add(key, step.d)
				if step.changed {
					if got, want := next(), fmt.Sprint(key, " ", step.online); got != want {
						t.Fatalf("step %d: Add(%s, %d) told %q, want %q", i, step.key, step.d, got, want)
					}
				}
				// A change of a key of its own after each step: a step
				// that tells what it should not is told before it.
				barrier := fmt.Sprint("visitor:", run, "barrier-", i)
				p.Add(barrier, 1)
				if got := next(); got != barrier+" true" {
					t.Fatalf("step %d: Add(%s, %d) told %q, want nothing", i, step.key, step.d, got)
				}
				if got := p.Online(key); got != step.online {
					t.Errorf("step %d: Online(%s) %v, want %v", i, step.key, got, step.online)
				}
			}
		})
	}
}
