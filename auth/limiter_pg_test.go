package auth

import (
	"log/slog"
	"testing"
	"time"

	"parley/store/storetest"
)

// Two PGLimiters on one database are two nodes: they share the buckets.
func TestPGLimiterIsOneBucketPerKeyAcrossNodes(t *testing.T) {
	pool := storetest.Pool(t, Migrations)
	quiet := slog.New(slog.DiscardHandler)
	name := "test-" + time.Now().Format("150405.000000")
	nodes := []*PGLimiter{NewPGLimiter(pool, quiet, name, time.Hour, 3), NewPGLimiter(pool, quiet, name, time.Hour, 3)}
	if blocked, _ := nodes[0].Blocked("1.2.3.4"); blocked {
		t.Fatal("an unused key is blocked")
	}
	for i := range 3 {
		if ok, _ := nodes[i%2].Allow("1.2.3.4"); !ok {
			t.Fatalf("event %d of a burst of 3 refused", i+1)
		}
	}
	for i, l := range nodes {
		if ok, retry := l.Allow("1.2.3.4"); ok || retry < 59*time.Minute || retry > time.Hour {
			t.Errorf("node %d: the 4th event: ok %v, retry %v; want refused for about an hour", i, ok, retry)
		}
		if blocked, retry := l.Blocked("1.2.3.4"); !blocked || retry < 59*time.Minute {
			t.Errorf("node %d: Blocked %v, %v; want blocked for about an hour", i, blocked, retry)
		}
	}
	if ok, _ := nodes[1].Allow("5.6.7.8"); !ok {
		t.Error("another key is limited with the first")
	}
	other := NewPGLimiter(pool, quiet, name+"-other", time.Hour, 3)
	if ok, _ := other.Allow("1.2.3.4"); !ok {
		t.Error("another limit is limited with the first")
	}
}

func TestPGLimiterRefillsAtItsRate(t *testing.T) {
	pool := storetest.Pool(t, Migrations)
	l := NewPGLimiter(pool, slog.New(slog.DiscardHandler), "refill", 50*time.Millisecond, 1)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("the first event refused")
	}
	ok, retry := l.Allow("k")
	if ok || retry <= 0 || retry > 50*time.Millisecond {
		t.Fatalf("second event at once: ok %v retry %v; want refused for at most 50ms", ok, retry)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(retry) // the bucket refills by the clock: this is the behaviour tested
		if ok, retry = l.Allow("k"); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the bucket never refilled")
		}
	}
}
