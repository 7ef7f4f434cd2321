package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const quick = 100 * time.Millisecond

func startNode(t *testing.T, id string) *Cluster {
	t.Helper()
	pool := storetest.Pool(t, Migrations)
	c, err := Start(context.Background(), pool, Options{ID: id, Heartbeat: quick, TTL: 5 * quick})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })
	return c
}

// halt ends the heartbeat as a kill -9 would: the row is left as it was.
func (c *Cluster) halt() {
	close(c.stop)
	<-c.done
}

// goneWatch records the nodes a Cluster is told are gone.
func goneWatch(c *Cluster) <-chan Node {
	ch := make(chan Node, 16)
	c.OnGone(func(n Node) { ch <- n })
	return ch
}

func waitGone(t *testing.T, ch <-chan Node, id string) Node {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-ch:
			if n.ID == id {
				return n
			}
		case <-deadline:
			t.Fatalf("node %s was not seen gone", id)
		}
	}
}

func waitAlive(t *testing.T, c *Cluster, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !c.IsAlive(id) {
		if time.Now().After(deadline) {
			t.Fatalf("node %s not seen alive by %s", id, c.ID())
		}
		time.Sleep(10 * time.Millisecond) // polling a view the heartbeat renews
	}
}

func TestANodeThatStopsIsGoneAtTheNextHeartbeat(t *testing.T) {
	a, b := startNode(t, "a-stop"), startNode(t, "b-stop")
	waitAlive(t, a, b.ID())
	gone := goneWatch(a)
	stopped := time.Now()
	b.Stop(context.Background())
	waitGone(t, gone, b.ID())
	if d := time.Since(stopped); d > 3*quick+time.Second {
		t.Errorf("a stopped node was seen gone after %v, not at the next heartbeat", d)
	}
	if a.IsAlive(b.ID()) {
		t.Error("a stopped node is still alive")
	}
}

func TestANodeThatDiesIsGoneAfterTheTTLAndOneNodeClaimsIt(t *testing.T) {
	a, b, dead := startNode(t, "a-die"), startNode(t, "b-die"), startNode(t, "dead")
	waitAlive(t, a, dead.ID())
	waitAlive(t, b, dead.ID())
	goneA, goneB := goneWatch(a), goneWatch(b)
	dead.halt()
	waitGone(t, goneA, dead.ID())
	waitGone(t, goneB, dead.ID())

	gone, err := a.Gone(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range gone {
		found = found || n.ID == dead.ID()
		if n.ID == a.ID() || n.ID == b.ID() {
			t.Errorf("Gone lists live node %s", n.ID)
		}
	}
	if !found {
		t.Fatalf("Gone = %v, without the dead node %s", gone, dead.ID())
	}
	var claims atomic.Int32
	var wg sync.WaitGroup
	for _, c := range []*Cluster{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := c.Claim(context.Background(), dead.ID())
			if err != nil {
				t.Error(err)
			}
			if ok {
				claims.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := claims.Load(); n != 1 {
		t.Fatalf("%d claims of one dead node, want exactly 1", n)
	}
	if ok, _ := a.Claim(context.Background(), a.ID()); ok {
		t.Error("a live node was claimed")
	}
}

func TestARestartUnderTheSameIDIsGoneThenNew(t *testing.T) {
	a, b := startNode(t, "a-re"), startNode(t, "b-re")
	waitAlive(t, a, b.ID())
	gone := goneWatch(a)
	fresh := make(chan Node, 4)
	a.OnNew(func(n Node) { fresh <- n })
	b.halt() // killed, and back at once under the same id
	b2 := startNode(t, "b-re")
	old := waitGone(t, gone, "b-re")
	if !old.Started.Equal(b.Self().Started) {
		t.Errorf("the gone node is not the first run")
	}
	select {
	case n := <-fresh:
		if !n.Started.Equal(b2.Self().Started) {
			t.Errorf("the new node is not the second run")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the restarted node was not seen as new")
	}
}
