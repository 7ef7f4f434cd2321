package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/bus"
)

// watchPresence starts c's presence over b and records what its watcher
// is told of keys that start with prefix (the test's: the nodes of
// earlier tests are cleaned up meanwhile), as "key true" or "key false".
func watchPresence(t *testing.T, c *Cluster, b bus.Bus, prefix string) (*Presence, <-chan string) {
	t.Helper()
	p, err := c.StartPresence(context.Background(), b, quick)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	ch := make(chan string, 64)
	p.Watch(func(key string, online bool) {
		if strings.HasPrefix(key, prefix) {
			ch <- fmt.Sprint(key, " ", online)
		}
	})
	return p, ch
}

// keys names a test run's keys: others' leftovers (cleaned up while the
// test runs) are told under other names.
func keys() func(name string) string {
	prefix := fmt.Sprintf("user:%d-", time.Now().UnixNano())
	return func(name string) string { return prefix + name }
}

// nextChange is the next change either node's watcher is told of.
func nextChange(t *testing.T, a, b <-chan string) string {
	t.Helper()
	select {
	case s := <-a:
		return s
	case s := <-b:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no presence change was told")
		return ""
	}
}

// waitRows waits for key to have n rows in the table.
func waitRows(t *testing.T, p *Presence, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got int
		if err := p.c.pool.QueryRow(context.Background(), `SELECT count(*) FROM cluster_presence WHERE key = $1`, key).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d rows, want %d", key, got, n)
		}
		time.Sleep(10 * time.Millisecond) // polling rows another goroutine writes
	}
}

func waitOnline(t *testing.T, p *Presence, key string, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Online(key) != want {
		if time.Now().After(deadline) {
			t.Fatalf("Online(%s) is not %v on %s", key, want, p.c.ID())
		}
		time.Sleep(10 * time.Millisecond) // polling a view the bus and the refresh keep
	}
}

func TestPresenceIsTheSumOfTheNodesAndToldOnceInTheDeployment(t *testing.T) {
	b := bus.NewMemory()
	key := keys()
	a, ach := watchPresence(t, startNode(t, "a-presence"), b, key(""))
	c, cch := watchPresence(t, startNode(t, "c-presence"), b, key(""))
	// Each step is followed by a change of a key of its own, so a second
	// telling of a step's change would come before it.
	mark := 0
	barrier := func() {
		t.Helper()
		mark++
		barrier := key(fmt.Sprint("barrier-", mark))
		a.Add(barrier, 1)
		if got, want := nextChange(t, ach, cch), barrier+" true"; got != want {
			t.Fatalf("told %q before the barrier, want %q", got, want)
		}
	}
	for i, step := range []struct {
		on   *Presence
		d    int
		told string // "" nothing
		rows int    // the key's rows after it
	}{
		{a, 1, "1 true", 1},   // the first tab, on a
		{c, 1, "", 2},         // a second, on c
		{a, -1, "", 1},        // a's closes: c still holds one
		{c, -1, "1 false", 0}, // the last one
		{c, 1, "1 true", 1},
	} {
		step.on.Add(key("1"), step.d)
		if step.told != "" {
			if got := nextChange(t, ach, cch); got != key(step.told) {
				t.Fatalf("step %d: told %q, want %q", i, got, key(step.told))
			}
		}
		waitRows(t, a, key("1"), step.rows) // the next step starts from them
		barrier()
		want := step.told != "1 false"
		waitOnline(t, a, key("1"), want)
		waitOnline(t, c, key("1"), want)
	}
}

func TestADeadNodesConnectionsStopCountingAndAreToldOffOnce(t *testing.T) {
	b := bus.NewMemory()
	key := keys()
	deadNode := startNode(t, "dead-presence")
	dead, dch := watchPresence(t, deadNode, b, key(""))
	live, lch := watchPresence(t, startNode(t, "live-presence"), b, key(""))
	dead.Add(key("7"), 1)
	live.Add(key("8"), 1)
	// Two nodes, two keys: told in either order.
	if got := []string{nextChange(t, dch, lch), nextChange(t, dch, lch)}; !slices.Contains(got, key("7 true")) || !slices.Contains(got, key("8 true")) {
		t.Fatalf("told %q, want %s and %s", got, key("7 true"), key("8 true"))
	}
	waitOnline(t, live, key("7"), true)
	dead.Stop()
	deadNode.halt() // as kill -9: the rows stay
	waitOnline(t, live, key("7"), false)
	if got := nextChange(t, dch, lch); got != key("7 false") {
		t.Fatalf("told %q, want user:7 false", got)
	}
	live.Add(key("9"), 1)
	if got := nextChange(t, dch, lch); got != key("9 true") {
		t.Fatalf("told %q after the dead node's key, want user:9 true (once is enough)", got)
	}
	if !live.Online(key("8")) {
		t.Error("the live node's own key went offline with the dead node")
	}
}

func TestANodeRestartedUnderItsIDDropsItsEarlierRunsConnections(t *testing.T) {
	b := bus.NewMemory()
	key := keys()
	earlier := startNode(t, "restart-presence")
	ep, ech := watchPresence(t, earlier, b, key(""))
	ep.Add(key("1"), 1)
	if got := nextChange(t, ech, nil); got != key("1 true") {
		t.Fatalf("told %q, want user:restart-1 true", got)
	}
	ep.Stop()
	earlier.halt() // killed, and started again at once under the same id
	later := startNode(t, "restart-presence")
	lp, lch := watchPresence(t, later, b, key(""))
	if got := nextChange(t, lch, nil); got != key("1 false") {
		t.Fatalf("told %q, want user:restart-1 false (the earlier run's connection)", got)
	}
	waitOnline(t, lp, key("1"), false)
	lp.Add(key("1"), 1)
	if got := nextChange(t, lch, nil); got != key("1 true") {
		t.Fatalf("told %q, want user:restart-1 true", got)
	}
}
