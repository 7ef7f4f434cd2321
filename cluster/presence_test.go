package cluster

import (
	"context"
	"fmt"
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
	a, ach := watchPresence(t, startNode(t, "a-presence"), b, "user:")
	c, cch := watchPresence(t, startNode(t, "c-presence"), b, "user:")
	// Each step is followed by a change of a key of its own, so a second
	// telling of a step's change would come before it.
	mark := 0
	barrier := func() {
		t.Helper()
		mark++
		key := fmt.Sprint("user:barrier-", mark)
		a.Add(key, 1)
		if got, want := nextChange(t, ach, cch), key+" true"; got != want {
			t.Fatalf("told %q before the barrier, want %q", got, want)
		}
	}
	for i, step := range []struct {
		on   *Presence
		d    int
		told string // "" nothing
	}{
		{a, 1, "user:1 true"},   // the first tab, on a
		{c, 1, ""},              // a second, on c
		{a, -1, ""},             // a's closes: c still holds one
		{c, -1, "user:1 false"}, // the last one
		{c, 1, "user:1 true"},
	} {
		step.on.Add("user:1", step.d)
		if step.told != "" {
			if got := nextChange(t, ach, cch); got != step.told {
				t.Fatalf("step %d: told %q, want %q", i, got, step.told)
			}
		}
		barrier()
		want := step.told != "user:1 false"
		waitOnline(t, a, "user:1", want)
		waitOnline(t, c, "user:1", want)
	}
}

func TestADeadNodesConnectionsStopCountingAndAreToldOffOnce(t *testing.T) {
	b := bus.NewMemory()
	deadNode := startNode(t, "dead-presence")
	dead, dch := watchPresence(t, deadNode, b, "user:dead-")
	live, lch := watchPresence(t, startNode(t, "live-presence"), b, "user:dead-")
	dead.Add("user:dead-7", 1)
	live.Add("user:dead-8", 1)
	for _, want := range []string{"user:dead-7 true", "user:dead-8 true"} {
		if got := nextChange(t, dch, lch); got != want {
			t.Fatalf("told %q, want %q", got, want)
		}
	}
	waitOnline(t, live, "user:dead-7", true)
	dead.Stop()
	deadNode.halt() // as kill -9: the rows stay
	waitOnline(t, live, "user:dead-7", false)
	if got := nextChange(t, dch, lch); got != "user:dead-7 false" {
		t.Fatalf("told %q, want user:7 false", got)
	}
	live.Add("user:dead-9", 1)
	if got := nextChange(t, dch, lch); got != "user:dead-9 true" {
		t.Fatalf("told %q after the dead node's key, want user:9 true (once is enough)", got)
	}
	if !live.Online("user:dead-8") {
		t.Error("the live node's own key went offline with the dead node")
	}
}

func TestANodeRestartedUnderItsIDDropsItsEarlierRunsConnections(t *testing.T) {
	b := bus.NewMemory()
	earlier := startNode(t, "restart-presence")
	ep, ech := watchPresence(t, earlier, b, "user:restart-")
	ep.Add("user:restart-1", 1)
	if got := nextChange(t, ech, nil); got != "user:restart-1 true" {
		t.Fatalf("told %q, want user:restart-1 true", got)
	}
	ep.Stop()
	earlier.halt() // killed, and started again at once under the same id
	later := startNode(t, "restart-presence")
	lp, lch := watchPresence(t, later, b, "user:restart-")
	if got := nextChange(t, lch, nil); got != "user:restart-1 false" {
		t.Fatalf("told %q, want user:restart-1 false (the earlier run's connection)", got)
	}
	waitOnline(t, lp, "user:restart-1", false)
	lp.Add("user:restart-1", 1)
	if got := nextChange(t, lch, nil); got != "user:restart-1 true" {
		t.Fatalf("told %q, want user:restart-1 true", got)
	}
}
