package signaling

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"parley/bus"
)

// session.resync goes out in waves: the first at once, the rest a pace
// apart, until every connection has been told once.
func TestResyncTellsEveryConnectionOnceInWaves(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ResyncWave, cfg.ResyncPace = 2, 200*time.Millisecond
	quiet := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	h := NewHub(cfg, bus.NewMemory(), NewRouter(), quiet, nil)
	var conns []*Conn
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		conns = append(conns, joined(t, h, name))
	}
	told := make(map[*Conn]int)
	count := func() int {
		n := 0
		for _, c := range conns {
			told[c] += frames(c)
			if told[c] > 0 {
				n++
			}
		}
		return n
	}
	h.Resync(ResyncReasonBus)
	if n := count(); n != cfg.ResyncWave {
		t.Fatalf("%d connections told at once, want the first wave of %d", n, cfg.ResyncWave)
	}
	// The later waves come from a goroutine of the hub's, on its pace.
	deadline := time.Now().Add(10 * time.Second)
	for count() < len(conns) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s only %d of %d connections were told", count(), len(conns))
		}
		time.Sleep(5 * time.Millisecond)
	}
	count() // anything sent twice
	for c, n := range told {
		if n != 1 {
			t.Errorf("connection %s was told %d times", c.id, n)
		}
	}
}
