package routing

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

func TestPickFollowsTheQueuesStrategy(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	// Agent 1 is busiest and idle longest; 2 idle least; 3 in between, least busy.
	free := func() []candidate {
		return []candidate{
			{ID: 2, Load: 1, LastBusy: t0.Add(30 * time.Minute)},
			{ID: 1, Load: 2, LastBusy: t0},
			{ID: 3, Load: 0, LastBusy: t0.Add(10 * time.Minute)},
		}
	}
	last := func(id auth.UserID) *auth.UserID { return &id }
	cases := []struct {
		name string
		q    queues.Queue
		want []auth.UserID
	}{
		{"longest idle offers the one idle longest", queues.Queue{Strategy: queues.LongestIdle}, []auth.UserID{1}},
		{"least busy offers the one with fewest chats", queues.Queue{Strategy: queues.LeastBusy}, []auth.UserID{3}},
		{"round robin starts at the lowest id", queues.Queue{Strategy: queues.RoundRobin}, []auth.UserID{1}},
		{"round robin goes on after the last offered", queues.Queue{Strategy: queues.RoundRobin, RRLast: last(1)}, []auth.UserID{2}},
		{"round robin wraps round", queues.Queue{Strategy: queues.RoundRobin, RRLast: last(3)}, []auth.UserID{1}},
		{"ring all offers everyone", queues.Queue{Strategy: queues.RingAll}, []auth.UserID{2, 1, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := pick(tc.q, free()); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("picked %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLeastBusyBreaksTiesByIdleTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	free := []candidate{{ID: 5, Load: 1, LastBusy: t0.Add(time.Minute)}, {ID: 6, Load: 1, LastBusy: t0}}
	if got := pick(queues.Queue{Strategy: queues.LeastBusy}, free); got[0] != 6 {
		t.Fatalf("picked %v, want 6", got)
	}
}

func TestOnePassOffersChatsInOrderWithinEachAgentsCapacity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	q := f.q
	q.Strategy, q.Capacity = queues.RoundRobin, 2
	if _, err := f.svc.pool.Exec(ctx, `UPDATE queues SET strategy = $2, capacity = $3 WHERE id = $1`,
		q.ID, q.Strategy, q.Capacity); err != nil {
		t.Fatal(err)
	}
	f.svc.forgetQueue(q.ID)
	f.connect(f.alice)
	f.connect(f.bob)
	var chats []conversation.ID
	for _, name := range []string{"Ann", "Ben", "Cat", "Dan", "Eve"} {
		_, id := f.customer(t, name)
		chats = append(chats, id)
	}
	if _, err := f.svc.routeAll(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := f.svc.pool.Query(ctx, `SELECT c.id, coalesce(o.user_id, 0) FROM conversations c
		LEFT JOIN offers o ON o.conversation_id = c.id AND o.state = 'pending' WHERE c.id = ANY ($1) ORDER BY c.id`, chats)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[offerKey])
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.alice.UserID, f.bob.UserID
	want := []offerKey{{chats[0], a}, {chats[1], b}, {chats[2], a}, {chats[3], b}, {chats[4], 0}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("offers %v, want %v (round robin, two chats each, the fifth waits)", got, want)
	}
}

// turnOf routes the queues it maps to true, as a node of several would.
type turnOf map[queues.QueueID]bool

func (t turnOf) Routes(_ context.Context, q queues.QueueID) (bool, error) { return t[q], nil }

func TestANodeOffersAndExpiresOnlyTheQueuesItsTurnGivesIt(t *testing.T) {
	turn := turnOf{}
	f := newFixture(t, Options{Turn: turn})
	ctx := context.Background()
	other, err := f.qs.Create(ctx, queues.Queue{Key: f.q.Key + "-other", Name: "Other"}, f.alice.UserID, f.bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	f.connect(f.alice)
	f.connect(f.bob)
	_, mine := f.customer(t, "Ann")
	theirs, _, err := f.conv.Start(ctx, auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "v-other",
		Scope: other.Key}, conversation.StartInput{Name: "Ben"})
	if err != nil {
		t.Fatal(err)
	}
	turn[f.q.ID] = true
	f.route(t)
	if len(f.pending(t, mine)) != 1 || len(f.pending(t, theirs.ID)) != 0 {
		t.Fatalf("offers: %v of this node's queue, %v of another's; want one and none",
			f.pending(t, mine), f.pending(t, theirs.ID))
	}
	f.set(t, `UPDATE offers SET deadline = now() - interval '1 second' WHERE conversation_id = $1`, mine)
	turn[f.q.ID] = false
	if err := f.svc.expireOffers(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.pending(t, mine)) != 1 {
		t.Fatal("a node expired an offer of a queue it does not route")
	}
	turn[f.q.ID] = true
	if err := f.svc.expireOffers(ctx); err != nil {
		t.Fatal(err)
	}
	if p := f.pending(t, mine); len(p) != 0 {
		t.Fatalf("the offer past its deadline is still pending to %v", p)
	}
}

// An agent's open chats take places of the capacity as its pending
// offers do: with one chat open of two places, alice is offered one more.
func TestAPassCountsEachAgentsOpenChatsAgainstTheCapacity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.pool.Exec(ctx, `UPDATE queues SET capacity = 2 WHERE id = $1`, f.q.ID); err != nil {
		t.Fatal(err)
	}
	f.svc.forgetQueue(f.q.ID)
	f.connect(f.alice)
	_, open := f.customer(t, "Ann")
	if _, _, err := f.svc.Accept(ctx, f.alice, open); err != nil {
		t.Fatal(err)
	}
	var chats []conversation.ID
	for _, name := range []string{"Ben", "Cat"} {
		_, id := f.customer(t, name)
		chats = append(chats, id)
	}
	if _, err := f.svc.routeAll(ctx); err != nil {
		t.Fatal(err)
	}
	var offered []conversation.ID
	rows, err := f.svc.pool.Query(ctx, `SELECT conversation_id FROM offers WHERE user_id = $1 AND state = 'pending' ORDER BY conversation_id`, f.alice.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if offered, err = pgx.CollectRows(rows, pgx.RowTo[conversation.ID]); err != nil {
		t.Fatal(err)
	}
	if want := chats[:1]; !reflect.DeepEqual(offered, want) {
		t.Fatalf("alice was offered %v, want %v (one chat open, capacity two)", offered, want)
	}
}
