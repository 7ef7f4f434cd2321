package signaling

import (
	"bytes"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/auth"
	"parley/bus"
)

// heldBus is the memory bus on which subscribing to one subject, and
// ending such a subscription, take as long as the test says, as a call to
// a bus across the network may: each such call tells begun that it has
// begun, then waits for a turn of gate. It counts the subject's live
// subscriptions.
type heldBus struct {
	*bus.MemoryBus
	subject string
	begun   chan string              // "subscribe" or "unsubscribe"
	gates   map[string]chan struct{} // by call
	live    atomic.Int64
}

func newHeldBus(subject string) *heldBus {
	return &heldBus{MemoryBus: bus.NewMemory(), subject: subject,
		begun: make(chan string, 8),
		gates: map[string]chan struct{}{"subscribe": make(chan struct{}), "unsubscribe": make(chan struct{})}}
}

var _ bus.Bus = (*heldBus)(nil)

func (b *heldBus) Subscribe(subject string, h bus.Handler) (func(), error) {
	if subject != b.subject {
		return b.MemoryBus.Subscribe(subject, h)
	}
	b.begun <- "subscribe"
	<-b.gates["subscribe"]
	unsub, err := b.MemoryBus.Subscribe(subject, h)
	if err != nil {
		return nil, err
	}
	b.live.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			b.begun <- "unsubscribe"
			<-b.gates["unsubscribe"]
			unsub()
			b.live.Add(-1)
		})
	}, nil
}

const held = "conv.1.staff"

// within waits for done, or fails the test after a generous deadline.
func within(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen within 10 s", what)
	}
}

// begins waits for the held call call to begin.
func (b *heldBus) begins(t *testing.T, call string) {
	t.Helper()
	select {
	case got := <-b.begun:
		if got != call {
			t.Fatalf("the bus call %s began, want %s", got, call)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no bus call %s began within 10 s", call)
	}
}

// lets lets one held call go on.
func (b *heldBus) lets(t *testing.T, call string) {
	t.Helper()
	select {
	case b.gates[call] <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("no held bus call to let go on within 10 s")
	}
}

// idle fails when a held call has begun that the test did not expect.
func (b *heldBus) idle(t *testing.T) {
	t.Helper()
	select {
	case got := <-b.begun:
		t.Fatalf("an unexpected bus call %s began", got)
	default:
	}
}

func heldHub(t *testing.T) (*Hub, *heldBus) {
	b := newHeldBus(held)
	quiet := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	return NewHub(DefaultConfig(), b, NewRouter(), quiet, nil), b
}

// joined is a connection of a visitor named name, in the hub as a served
// connection is, without a socket: what the hub sends it stays queued.
func joined(t *testing.T, h *Hub, name string) *Conn {
	t.Helper()
	c := &Conn{id: name, principal: auth.Principal{Kind: auth.KindVisitor, Subject: name}, hub: h, cfg: h.cfg,
		done: make(chan struct{}), subs: make(map[string]struct{}),
		writing: true} // no writer starts: frames stay queued
	// No socket and no client: never found silent by the ping schedule's
	// pong timeout, however long the package's tests run.
	c.lastRead.Store(math.MaxInt64)

	if !h.add(c) {
		t.Fatal("the hub refused a connection")
	}
	return c
}

// frames is how many frames c has been sent and not read; it reads them.
func frames(c *Conn) int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	n := 0
	for _, f := range c.queue {
		if f.op == websocket.TextMessage { // not the pings of the schedule
			n++
		}
	}
	c.queue, c.qbytes = nil, 0
	return n
}

// publish publishes an event on the held subject. The memory bus delivers
// it before Publish returns.
func publish(t *testing.T, b *heldBus) {
	t.Helper()
	if err := b.Publish(held, []byte(`{"type":"chat.event"}`)); err != nil {
		t.Fatal(err)
	}
}

// reaches publishes an event on the held subject and checks how many
// times it reached each connection.
func reaches(t *testing.T, b *heldBus, want map[*Conn]int) {
	t.Helper()
	publish(t, b)
	for c, n := range want {
		if got := frames(c); got != n {
			t.Errorf("an event reached %s %d times, want %d", c.id, got, n)
		}
	}
}

// holds checks that no held call is under way and that the held subject
// has n bus subscriptions.
func (b *heldBus) holds(t *testing.T, n int64) {
	t.Helper()
	b.idle(t)
	if got := b.live.Load(); got != n {
		t.Errorf("%d bus subscriptions of %s, want %d", got, held, n)
	}
}

// inSubject waits until n connections are in the hub's subject name.
func inSubject(t *testing.T, h *Hub, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		s := h.subjects[name]
		got := 0
		if s != nil {
			got = len(s.conns)
		}
		h.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections in %s, want %d", got, name, n)
		}
		runtime.Gosched()
	}
}

func subscribed(t *testing.T, c *Conn, name string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.Subscribe(name); err != nil {
			t.Error(err)
		}
	}()
	return done
}

func TestConnectionsSubscribingAtOnceShareOneBusSubscriptionMadeOutsideTheHubsMutex(t *testing.T) {
	h, b := heldHub(t)
	a, c, other := joined(t, h, "a"), joined(t, h, "c"), joined(t, h, "other")
	aDone := subscribed(t, a, held)
	b.begins(t, "subscribe")

	// The bus call is under way: the hub's mutex is free, so the hub
	// counts, subscribes other subjects and delivers their events.
	free := make(chan struct{})
	go func() {
		defer close(free)
		h.Count()
		if err := other.Subscribe("conv.2.staff"); err != nil {
			t.Error(err)
		}
		b.Publish("conv.2.staff", []byte(`{"type":"chat.event"}`)) //nolint:errcheck
	}()
	within(t, free, "a hub call while a bus subscription is being made")
	if n := frames(other); n != 1 {
		t.Errorf("another subject's event reached its subscriber %d times during the bus call, want 1", n)
	}

	// A second connection joins the subject being made: it makes no second
	// bus subscription, and its Subscribe returns only once events flow.
	cDone := make(chan struct{})
	go func() {
		defer close(cDone)
		if err := c.Subscribe(held); err != nil {
			t.Error(err)
		}
		publish(t, b)
	}()
	inSubject(t, h, held, 2)
	b.lets(t, "subscribe")
	within(t, aDone, "the first subscribe")
	within(t, cDone, "the second subscribe")
	b.holds(t, 1)
	if n := frames(c); n != 1 {
		t.Errorf("the event published once the second Subscribe returned reached it %d times, want 1", n)
	}
	frames(a)
	reaches(t, b, map[*Conn]int{a: 1, c: 1})
}

func TestAnUnsubscribeWhileTheBusSubscriptionIsMadeLeavesNone(t *testing.T) {
	h, b := heldHub(t)
	a := joined(t, h, "a")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.subscribe(a, held); err != nil {
			t.Error(err)
		}
	}()
	b.begins(t, "subscribe")
	left := make(chan struct{})
	go func() { defer close(left); h.unsubscribe(a, held) }()
	within(t, left, "an unsubscribe while the bus subscription is made")
	b.idle(t) // it made no bus call: the subscription is not made yet
	b.lets(t, "subscribe")
	b.begins(t, "unsubscribe") // the maker ends what no one follows
	b.lets(t, "unsubscribe")
	within(t, done, "the subscribe")
	b.holds(t, 0)
	noSubjects(t, h)
	reaches(t, b, map[*Conn]int{a: 0})
}

// noSubjects checks that the hub follows no subject of its own accord.
func noSubjects(t *testing.T, h *Hub) {
	t.Helper()
	h.mu.Lock()
	_, kept := h.subjects[held]
	h.mu.Unlock()
	if kept {
		t.Error("the hub keeps a subject no connection follows")
	}
}

func TestASubscribeWhileTheLastUnsubscribeEndsTheBusSubscriptionMissesNothing(t *testing.T) {
	h, b := heldHub(t)
	a, c := joined(t, h, "a"), joined(t, h, "c")
	aDone := subscribed(t, a, held)
	b.begins(t, "subscribe")
	b.lets(t, "subscribe")
	within(t, aDone, "the first subscribe")

	// a leaves last: its bus unsubscribe is under way when c subscribes.
	left := make(chan struct{})
	go func() { defer close(left); a.Unsubscribe(held) }()
	b.begins(t, "unsubscribe")
	cDone := subscribed(t, c, held)
	b.begins(t, "subscribe")
	b.lets(t, "subscribe")
	within(t, cDone, "the subscribe during the unsubscribe")
	reaches(t, b, map[*Conn]int{a: 0, c: 1}) // while the old subscription ends
	b.lets(t, "unsubscribe")
	within(t, left, "the unsubscribe")
	b.holds(t, 1)
	reaches(t, b, map[*Conn]int{a: 0, c: 1})
}

func TestAConnectionEndingWhileItSubscribesLeavesNoSubscription(t *testing.T) {
	h, b := heldHub(t)
	a := joined(t, h, "a")
	aDone := subscribed(t, a, held)
	b.begins(t, "subscribe")
	removed := make(chan struct{})
	go func() { defer close(removed); h.remove(a) }()
	// remove takes a out of the connections before it waits for a's
	// subscribe to finish.
	deadline := time.Now().Add(10 * time.Second)
	for h.Count() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("remove did not take the connection out within 10 s")
		}
		runtime.Gosched()
	}
	b.lets(t, "subscribe")
	b.begins(t, "unsubscribe")
	b.lets(t, "unsubscribe")
	within(t, aDone, "the subscribe")
	within(t, removed, "the removal")
	b.holds(t, 0)
	noSubjects(t, h)

	// A subscribe that comes after the end makes no subscription at all.
	if err := a.Subscribe(held); err != nil {
		t.Fatal(err)
	}
	b.holds(t, 0)
	noSubjects(t, h)
}
