package bus

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/nats-io/nats-server/v2/server"
)

// startNATS runs a real NATS server in the test process on a random local
// port, so the tests need no service on the machine.
func startNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(deadline) {
		t.Fatal("the embedded NATS server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

func dial(t *testing.T, url, name string, log *slog.Logger, opts NATSOptions) *NATS {
	t.Helper()
	b, err := DialNATS(url, name, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestNATSBusPassesTheSuite(t *testing.T) {
	url := startNATS(t)
	runSuite(t, func(t *testing.T) Bus { return dial(t, url, "suite", nil, NATSOptions{}) })
}

// Two nodes share one server: a frame published on node A reaches a
// subscriber on node B, and B's own frames reach A.
func TestNATSCarriesFramesBetweenNodes(t *testing.T) {
	url := startNATS(t)
	a := dial(t, url, "node-a", nil, NATSOptions{})
	b := dial(t, url, "node-b", nil, NATSOptions{})
	onA, onB := newInbox(), newInbox()
	subscribe(t, a, "conv.42", onA.handler)
	subscribe(t, b, "conv.42", onB.handler)
	publish(t, a, "conv.42", "from a")
	if f := onB.next(t, "node b"); f != "from a" {
		t.Fatalf("node b got %q", f)
	}
	if f := onA.next(t, "node a"); f != "from a" {
		t.Fatalf("node a got %q", f)
	}
	for i := range 500 {
		publish(t, b, "conv.42", "b"+strings.Repeat("x", i%7))
	}
	for i := range 500 {
		if f := onA.next(t, "node a"); f != "b"+strings.Repeat("x", i%7) {
			t.Fatalf("frame %d from b reached a as %q", i, f)
		}
	}
}

// Every Parley subject, whatever it holds, maps to a valid literal NATS
// subject, back again, and to a subject of its own.
func TestNATSSubjectsRoundTripAndNeverCollide(t *testing.T) {
	subjects := []string{
		"conv.42.staff", "principal.user:7", "principal.visitor:Zm9v_-", "room.8.staff",
		"access", "broadcast", "queue.3", "queue.3.staff",
		"a.b", "a_b", "a-b", "a*b", "a>b", "a b", "a\tb", "a\nb", "a\x00b", "a/b", "a+b", "a=b",
		"principal.a*b", "principal.a_b", "principal.a.b", "principal.a>b", "principal.a b",
		"*", ">", ".", "..", "parley", "parley.x", "ü", "principal.visitor:ünïcode", strings.Repeat("k", 500),
	}
	seen := map[string]string{}
	for _, s := range subjects {
		n, err := NATSSubject(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if other, ok := seen[n]; ok {
			t.Errorf("%q and %q both map to %q", s, other, n)
		}
		seen[n] = s
		enc, ok := strings.CutPrefix(n, NATSSubjectPrefix)
		if !ok || enc == "" || strings.ContainsFunc(enc, func(r rune) bool {
			return r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) || r > unicode.MaxASCII || r < ' '
		}) {
			t.Errorf("%q maps to %q: not one plain token under %q", s, n, NATSSubjectPrefix)
		}
		back, err := ParleySubject(n)
		if err != nil || back != s {
			t.Errorf("%q → %q → %q, %v", s, n, back, err)
		}
	}
	if _, err := NATSSubject(""); err == nil {
		t.Error("the empty subject was mapped")
	}
	for _, bad := range []string{"", "parley.", "other.Y29udg", "parley.Y29udg==", "parley.!!", "parley.a.b"} {
		if s, err := ParleySubject(bad); err == nil {
			t.Errorf("%q read as the parley subject %q", bad, s)
		}
	}
}

// signalHandler is a slog.Handler that hands each record's message to a
// channel: the test waits on the log line as an event.
type signalHandler struct{ ch chan string }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.ch <- r.Message:
	default:
	}
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// A handler that does not keep up does not hold back Publish: past its
// pending limit NATS drops frames for it, and the bus logs and counts that.
func TestNATSSlowSubscriberNeverBlocksPublish(t *testing.T) {
	url := startNATS(t)
	logged := make(chan string, 16)
	b := dial(t, url, "slow", slog.New(signalHandler{logged}), NATSOptions{PendingMsgs: 4, PendingBytes: 1 << 20})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	subscribe(t, b, "conv.1", func([]byte) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	})
	defer close(release)
	for range 1000 {
		publish(t, b, "conv.1", "frame")
	}
	select {
	case <-entered:
	case <-time.After(deadline):
		t.Fatal("the handler was never called")
	}
	for {
		select {
		case msg := <-logged:
			if strings.Contains(msg, "too slow") {
				if b.SlowConsumers() == 0 {
					t.Fatal("a slow consumer was logged but not counted")
				}
				return
			}
		case <-time.After(deadline):
			t.Fatal("no slow consumer was logged")
		}
	}
}

// A node's subscriptions share the lanes' goroutines: a thousand subjects
// followed add no goroutine, and each still gets its frames in order.
func TestNATSSubscriptionsShareTheLanesGoroutines(t *testing.T) {
	url := startNATS(t)
	b := dial(t, url, "lanes", nil, NATSOptions{Lanes: 4})
	before := runtime.NumGoroutine()
	const subjects, frames = 1000, 5
	got := make(chan string, subjects*frames)
	for i := range subjects {
		subscribe(t, b, "conv."+strconv.Itoa(i), func(f []byte) { got <- string(f) })
	}
	if added := runtime.NumGoroutine() - before; added > 10 {
		t.Fatalf("%d subscriptions added %d goroutines", subjects, added)
	}
	for n := range frames {
		for i := range subjects {
			publish(t, b, "conv."+strconv.Itoa(i), strconv.Itoa(i)+":"+strconv.Itoa(n))
		}
	}
	next := make(map[string]int)
	for range subjects * frames {
		select {
		case f := <-got:
			subject, n, _ := strings.Cut(f, ":")
			if want := strconv.Itoa(next[subject]); n != want {
				t.Fatalf("conv.%s: frame %s before %s", subject, n, want)
			}
			next[subject]++
		case <-time.After(deadline):
			t.Fatalf("%d of %d frames arrived", len(next), subjects*frames)
		}
	}
}
