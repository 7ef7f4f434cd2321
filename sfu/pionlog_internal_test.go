package sfu

import (
	"context"
	"log/slog"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// records keeps what a logger writes, at every level.
type records struct {
	mu  sync.Mutex
	got []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rec)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.got {
		out = append(out, rec.Level.String()+" "+rec.Message)
	}
	return out
}

func TestPionsLinesGoToTheServersLogErrorsAsErrorsTheRestAsDebug(t *testing.T) {
	var r records
	l := pionLog{slog.New(&r)}.NewLogger("ice")
	l.Trace("t")
	l.Tracef("t%d", 1)
	l.Debug("d")
	l.Debugf("d%d", 1)
	l.Info("i")
	l.Infof("i%d", 1)
	l.Warn("w")
	l.Warnf("w%d", 1)
	l.Error("e")
	l.Errorf("e%d", 1)
	want := []string{"DEBUG d", "DEBUG d1", "DEBUG i", "DEBUG i1", "DEBUG w", "DEBUG w1", "ERROR e", "ERROR e1"}
	if got := r.lines(); !slices.Equal(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}

// readLoops counts the goroutines reading a media socket for Pion's
// muxes.
func readLoops() int {
	var b strings.Builder
	pprof.Lookup("goroutine").WriteTo(&b, 1) //nolint:errcheck // a strings.Builder
	return strings.Count(b.String(), "(*UDPMuxDefault).connWorker") + strings.Count(b.String(), "(*TCPMuxDefault).start")
}

// waitReadLoops waits until n mux read loops run.
func waitReadLoops(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); readLoops() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d mux read loops after 10 s, want %d", readLoops(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Not parallel: it counts the package's mux read loops.
func TestClosingTheSFULogsNoError(t *testing.T) {
	before := readLoops()
	var r records
	s, err := New(Config{ListenIP: "127.0.0.1", TCPPort: 0, TURNPort: -1, Logger: slog.New(&r)})
	if err != nil {
		t.Fatal(err)
	}
	waitReadLoops(t, before+2) // the UDP mux's and the TCP mux's
	s.Close()
	waitReadLoops(t, before)
	for _, line := range r.lines() {
		if strings.HasPrefix(line, "ERROR") {
			t.Errorf("Close logged %q", line)
		}
	}
}
