package conversation

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
	"parley/chat/queues"
	"parley/store"
)

// BenchmarkStartsBesideTheFloor starts chats from 16 goroutines on 16
// connections while a floor follows them: told on the bus after each
// commit (bus, as since migration 0027), or with 0007's NOTIFY trigger put
// back on conversations and a connection LISTENing (notify, as before).
// The two differ by the NOTIFY alone.
func BenchmarkStartsBesideTheFloor(b *testing.B) {
	for _, notify := range []bool{false, true} {
		name := "bus"
		if notify {
			name = "notify"
		}
		b.Run(name, func(b *testing.B) { benchStarts(b, notify) })
	}
}

func benchStarts(b *testing.B, notify bool) {
	base, a := chattest.DB(b)
	ctx := context.Background()
	cfg := base.Config()
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	u := chattest.User(b, a, "Bench Agent", auth.RoleAgent)
	mb := bus.NewMemory()
	qs := queues.New(pool, queues.NewLocalCache())
	s := New(pool, mb, chattest.Quiet, qs, Options{Floor: NewFloorNotifier(mb, chattest.Quiet, 0)})
	q, err := qs.Create(ctx, queues.Queue{Key: chattest.Unique("floorbench"), Name: "Bench"}, u.UserID)
	if err != nil {
		b.Fatal(err)
	}
	var told atomic.Int64
	unsub, err := mb.Subscribe(FloorSubject, func([]byte) { told.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(unsub)
	if notify {
		if _, err := pool.Exec(ctx, `CREATE FUNCTION parley_floor_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				PERFORM pg_notify('parley_floor', 'q' || NEW.queue_id);
				RETURN NULL;
			END $$;
			CREATE TRIGGER floor_conversation_insert AFTER INSERT ON conversations
				FOR EACH ROW EXECUTE FUNCTION parley_floor_conversation()`); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			pool.Exec(context.Background(), `DROP TRIGGER floor_conversation_insert ON conversations; --
				DROP FUNCTION parley_floor_conversation()`) //nolint:errcheck // the database is the test's
		})
		lctx, stop := context.WithCancel(ctx)
		listening := make(chan struct{}, 1)
		done := make(chan struct{})
		var heard atomic.Int64
		go func() {
			defer close(done)
			store.Listen(lctx, pool, "parley_floor", chattest.Quiet, func() {
				select {
				case listening <- struct{}{}:
				default:
				}
			}, func(string) { heard.Add(1) })
		}()
		b.Cleanup(func() { stop(); <-done })
		<-listening
	}
	var n atomic.Int64
	b.SetParallelism(8) // 16 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, _, err := s.Start(ctx, chattest.Visitor("bench", q.Key), StartInput{Name: "Vera " + strconv.FormatInt(i, 10)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(told.Load())/float64(b.N), "bus-msgs/start")
}
