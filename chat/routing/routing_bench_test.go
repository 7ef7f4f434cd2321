package routing

import (
	"context"
	"strconv"
	"testing"
	"time"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// routeBench is a queue with waiting chats and connected agents, for the
// router's benchmarks. The service does not run: the benchmarks drive it.
type routeBench struct {
	svc     *Router
	q       queues.Queue
	members []auth.UserID
}

// newRouteBench makes a queue of capacity 3 with agents connected members
// and chats waiting chats, one a second, the oldest first; every fifth
// chat was rejected by one of the agents, turned down (seconds ago) that
// long ago.
func newRouteBench(b *testing.B, agents, chats int, turnedDown time.Duration) *routeBench {
	b.Helper()
	pool, a := chattest.DB(b)
	ctx := context.Background()
	qs := queues.New(pool, queues.NewLocalCache())
	rb := &routeBench{svc: New(pool, chattest.Quiet, qs,
		conversation.New(pool, bus.NewMemory(), chattest.Quiet, qs, conversation.Options{}), Options{})}
	for i := range agents {
		u, err := a.CreateUser(ctx, auth.NewUser{Username: chattest.Unique("route-agent"),
			Name: "Agent " + strconv.Itoa(i), Role: auth.RoleAgent, Password: "secret"})
		if err != nil {
			b.Fatal(err)
		}
		rb.members = append(rb.members, u.ID)
		rb.svc.presence.Add(auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent, UserID: u.ID}.Key(), 1)
	}
	var err error
	rb.q, err = rb.svc.queues.Create(ctx, queues.Queue{Key: chattest.Unique("route"), Name: "Route",
		Capacity: 3}, rb.members...)
	if err != nil {
		b.Fatal(err)
	}
	rb.exec(b, `INSERT INTO conversations (queue_id, visitor, customer_name, state, queued_at)
		SELECT $1, 'v-' || i, 'Customer ' || i, 'queued', now() - make_interval(secs => $2 - i) FROM generate_series(1, $2) i`,
		rb.q.ID, chats)
	rb.exec(b, `INSERT INTO offers (conversation_id, user_id, state, deadline, ended_at)
		SELECT c.id, ($2::bigint[])[1 + c.id % $3], 'rejected', now(), now() - $4::interval
		FROM conversations c WHERE c.queue_id = $1 AND c.id % 5 = 0`, rb.q.ID, rb.members, agents, turnedDown.String())
	rb.exec(b, `ANALYZE`)
	return rb
}

func (rb *routeBench) exec(b *testing.B, sql string, args ...any) {
	b.Helper()
	if _, err := rb.svc.pool.Exec(context.Background(), sql, args...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRoutePass is one router pass over a queue with 2,000 waiting
// chats, a fifth of them rejected within the cool-down by one agent or
// another, and 20 connected agents with room for 60: it reads the queue's
// members, its cool-downs and the chats it can place, and commits 60
// offers. Between passes (off the clock) the offers are withdrawn and the
// chats queued again.
func BenchmarkRoutePass(b *testing.B) {
	rb := newRouteBench(b, 20, 2000, 0)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		rb.exec(b, `UPDATE offers SET state = 'withdrawn', ended_at = now() WHERE state = 'pending'`)
		rb.exec(b, `UPDATE conversations SET state = 'queued' WHERE queue_id = $1 AND state = 'offered'`, rb.q.ID)
		rb.exec(b, `UPDATE offers SET ended_at = now() WHERE state = 'rejected'`)
		b.StartTimer()
		if _, err := rb.svc.routeAll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var offered int
	if err := rb.svc.pool.QueryRow(ctx, `SELECT count(*) FROM offers WHERE state = 'pending'`).Scan(&offered); err != nil {
		b.Fatal(err)
	}
	if offered != 60 {
		b.Fatalf("a pass made %d offers, want 60", offered)
	}
}

// BenchmarkRouteReads is what a pass reads of a queue before it offers
// (its members with their load, the cool-downs, the chats it can place),
// with 9,000 chats waiting: a fifth of them turned down an hour ago, none
// within the cool-down. It should not grow with the chats waiting.
func BenchmarkRouteReads(b *testing.B) {
	for _, chats := range []int{1000, 9000} {
		b.Run("waiting="+strconv.Itoa(chats), func(b *testing.B) {
			rb := newRouteBench(b, 20, chats, time.Hour)
			rb.exec(b, `UPDATE queues SET capacity = 100 WHERE id = $1`, rb.q.ID)
			rb.svc.forgetQueue(rb.q.ID)
			ctx := context.Background()
			for b.Loop() {
				if _, err := rb.svc.routable(ctx, rb.q.ID); err != nil {
					b.Fatal(err)
				}
				ids, cooling, err := rb.svc.waiting(ctx, rb.q.ID, 60)
				if err != nil || len(cooling) != 0 || len(ids) != 60 {
					b.Fatalf("waiting: %d chats, %d cooling, %v", len(ids), len(cooling), err)
				}
			}
		})
	}
}

// BenchmarkWaitAlerts is the router's look, once a second, for chats
// waiting past their queue's threshold when none is: 9,000 chats waiting,
// all younger than the threshold, or all alerted already.
func BenchmarkWaitAlerts(b *testing.B) {
	for _, alerted := range []bool{false, true} {
		b.Run("alerted="+strconv.FormatBool(alerted), func(b *testing.B) {
			rb := newRouteBench(b, 1, 9000, time.Hour)
			if alerted {
				rb.exec(b, `UPDATE conversations SET wait_alert_at = now() WHERE queue_id = $1`, rb.q.ID)
			} else {
				rb.exec(b, `UPDATE queues SET wait_alert_seconds = 3600 WHERE id = $1`, rb.q.ID)
				rb.exec(b, `UPDATE conversations SET queued_at = now() WHERE queue_id = $1`, rb.q.ID)
			}
			ctx := context.Background()
			// The package's benchmarks share a database: the chats the
			// others left waiting are past their thresholds, and the first
			// pass would alert them all (seconds), which is not the pass
			// measured here. Alerted once, before the timing, they are not
			// due any more.
			if err := rb.svc.alertWaiting(ctx); err != nil {
				b.Fatal(err)
			}
			rb.exec(b, `VACUUM ANALYZE conversations`)
			for b.Loop() {
				if err := rb.svc.alertWaiting(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
