package conversation

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
	"parley/chat/queues"
	"parley/store/storetest"
)

// TestMain gives the package's tests and benchmarks a fresh database.
func TestMain(m *testing.M) { storetest.Main(m) }

// sendBench is a running chat service on the real PostgreSQL with open
// conversations, and a subscriber on each conversation's subjects that
// counts what is delivered: the fan-out the websocket hub does, without
// the sockets.
type sendBench struct {
	svc       *Log
	qs        *queues.Store
	customers []auth.Principal
	convs     []ID
	delivered atomic.Int64 // frames handed to subscribers
	next      atomic.Int64 // client ids
}

func newSendBench(b *testing.B, conversations int) *sendBench {
	b.Helper()
	pool, a := chattest.DB(b)
	ctx := context.Background()
	u := chattest.User(b, a, "Bench Agent", auth.RoleAgent)
	mb := bus.NewMemory()
	qs := queues.New(pool, queues.NewLocalCache())
	sb := &sendBench{svc: New(pool, mb, chattest.Quiet, qs, Options{}), qs: qs}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sb.svc.Run(runCtx) }()
	b.Cleanup(func() { stop(); <-done })
	q, err := sb.qs.Create(ctx, queues.Queue{Key: chattest.Unique("bench"), Name: "Bench"}, u.UserID)
	if err != nil {
		b.Fatal(err)
	}
	count := func([]byte) { sb.delivered.Add(1) }
	// The chats stay queued (the agent is not connected, so nothing is
	// offered): a customer's message takes the same path in any open chat.
	for i := range conversations {
		p := chattest.Visitor("bench", q.Key)
		c, _, err := sb.svc.Start(ctx, p, StartInput{Name: "Vera Visitor " + strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		for _, subject := range []string{StaffSubject(c.ID), PublicSubject(c.ID)} {
			unsub, err := mb.Subscribe(subject, count)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(unsub)
		}
		sb.customers = append(sb.customers, p)
		sb.convs = append(sb.convs, c.ID)
	}
	return sb
}

const benchText = "Hello, I would like to know where my order 7731 is; it was due yesterday."

// send sends one message as customer i and checks it was committed.
func (sb *sendBench) send(b *testing.B, i int) {
	id := "m-" + strconv.FormatInt(sb.next.Add(1), 36)
	res, err := sb.svc.Send(context.Background(), sb.customers[i], SendInput{ConversationID: sb.convs[i], ClientID: id, Text: benchText})
	if err != nil || res.Seq == 0 || res.Duplicate {
		b.Errorf("send: %+v %v", res, err)
	}
}

// BenchmarkSend is the chat send path for one sender: validate, commit
// (its own transaction: nothing else arrives to batch with), fan-out to
// the conversation's two subjects. ns/op is the latency of an ack.
func BenchmarkSend(b *testing.B) {
	sb := newSendBench(b, 1)
	b.ReportAllocs()
	cpu0 := processCPU(b)
	for b.Loop() {
		sb.send(b, 0)
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	if got := sb.delivered.Load(); got != 2*int64(b.N) {
		b.Fatalf("%d frames delivered for %d messages, want 2 each", got, b.N)
	}
}

// BenchmarkSendParallel is the persisted-and-delivered ceiling of the
// batched commit path: many senders at once, each in its own conversation
// (as customers are), every message committed before its sender is
// answered. msgs/s is the figure to hold against the target (20,000/s on
// a 2-core machine).
func BenchmarkSendParallel(b *testing.B) {
	for _, senders := range []int{16, 128, 512} {
		b.Run("senders="+strconv.Itoa(senders), func(b *testing.B) {
			sb := newSendBench(b, senders)
			b.ReportAllocs()
			var ops atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ops.Add(1) <= int64(b.N) {
						sb.send(b, w)
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if got := sb.delivered.Load(); got != 2*int64(b.N) {
				b.Fatalf("%d frames delivered for %d messages, want 2 each", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
