package routing

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/conversation"
	"parley/chat/queues"
)

func TestTheEstimateIsOneMedianWaitPerPlaceSharedAmongTheAgentsOnDuty(t *testing.T) {
	med := func(v float64) *float64 { return &v }
	cases := []struct {
		name   string
		median *float64
		onDuty int
		pos    int
		want   int // 0: no estimate
	}{
		{"next in line, one agent: one median wait", med(40), 1, 1, 40},
		{"third in line, one agent: three", med(40), 1, 3, 120},
		{"third in line, two agents: shared", med(40), 2, 3, 60},
		{"rounded up to whole seconds", med(10.2), 1, 1, 11},
		{"never zero", med(0), 1, 1, 1},
		{"no chat answered lately: no figure", nil, 2, 1, 0},
		{"nobody on duty: no figure", med(40), 0, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := estimate(tc.median, tc.onDuty, tc.pos)
			switch {
			case tc.want == 0 && got != nil:
				t.Fatalf("estimate %d s, want none", *got)
			case tc.want != 0 && (got == nil || *got != tc.want):
				t.Fatalf("estimate %v, want %d s", got, tc.want)
			}
		})
	}
}

// told collects the chat.queue_position events of chats on their public
// subjects, as their customers' connections get them.
type told struct {
	t  *testing.T
	ch chan QueuePosition
}

func (f *fixture) follow(t *testing.T, ids ...conversation.ID) *told {
	t.Helper()
	w := &told{t: t, ch: make(chan QueuePosition, 64)}
	for _, id := range ids {
		unsub, err := f.bus.Subscribe(conversation.PublicSubject(id), func(frame []byte) {
			var env struct {
				Type string        `json:"type"`
				Data QueuePosition `json:"data"`
			}
			if json.Unmarshal(frame, &env) == nil && env.Type == "chat.queue_position" {
				w.ch <- env.Data
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unsub)
	}
	return w
}

// next returns the places told since the last call, by chat; none told
// is a failure.
func (w *told) next() map[conversation.ID]int {
	w.t.Helper()
	got := map[conversation.ID]int{}
	for {
		select {
		case p := <-w.ch:
			got[p.ConversationID] = 0
			if p.Position != nil {
				got[p.ConversationID] = *p.Position
			}
		default:
			if len(got) == 0 {
				w.t.Fatal("no chat.queue_position was told")
			}
			return got
		}
	}
}

func (f *fixture) tell(t *testing.T) {
	t.Helper()
	if err := f.svc.tellPositions(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) place(t *testing.T, p auth.Principal, id conversation.ID) QueuePosition {
	t.Helper()
	qp, err := f.svc.QueuePosition(context.Background(), p, id)
	if err != nil {
		t.Fatal(err)
	}
	return qp
}

func at(qp QueuePosition) int {
	if qp.Position == nil {
		return 0
	}
	return *qp.Position
}

func TestWaitingCustomersAreToldTheirPlaceAsChatsAreQueuedTakenAndClosed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.conv.SetHooks(f.svc)
	ann, a := f.customer(t, "Ann")
	ben, b := f.customer(t, "Ben")
	cat, c := f.customer(t, "Cat")
	w := f.follow(t, a, b, c)
	f.tell(t) // the three starts, told in one read
	if got := w.next(); got[a] != 1 || got[b] != 2 || got[c] != 3 {
		t.Fatalf("after three starts told %v, want Ann 1, Ben 2, Cat 3", got)
	}
	for _, tc := range []struct {
		p    auth.Principal
		id   conversation.ID
		want int
	}{{ann, a, 1}, {ben, b, 2}, {cat, c, 3}} {
		if got := at(f.place(t, tc.p, tc.id)); got != tc.want {
			t.Fatalf("%s asks: place %d, want %d", tc.p.Subject, got, tc.want)
		}
	}

	// An offered chat still waits: it keeps its place.
	f.connect(f.alice)
	f.route(t)
	if got := at(f.place(t, ann, a)); got != 1 {
		t.Fatalf("Ann's chat offered: place %d, want 1", got)
	}

	if _, _, err := f.svc.Accept(ctx, f.alice, a); err != nil {
		t.Fatal(err)
	}
	f.tell(t)
	if got := w.next(); got[b] != 1 || got[c] != 2 || len(got) != 2 {
		t.Fatalf("after Ann's chat was taken told %v, want Ben 1, Cat 2", got)
	}
	if qp := f.place(t, ann, a); qp.Position != nil || qp.EstimateSeconds != nil {
		t.Fatalf("Ann's taken chat has place %v, estimate %v; want none", qp.Position, qp.EstimateSeconds)
	}

	if err := f.conv.Close(ctx, ben, b, ""); err != nil {
		t.Fatal(err)
	}
	f.tell(t)
	if got := w.next(); got[c] != 1 || len(got) != 1 {
		t.Fatalf("after Ben left told %v, want Cat 1", got)
	}
}

func TestTheRouterOrderBreaksATieOfQueuedTimesById(t *testing.T) {
	f := newFixture(t)
	ann, a := f.customer(t, "Ann")
	ben, b := f.customer(t, "Ben")
	cat, c := f.customer(t, "Cat")
	// Cat waited longest; Ann and Ben came at the same moment.
	f.set(t, `UPDATE conversations SET queued_at = CASE WHEN id = $3 THEN now() - interval '2 seconds'
		ELSE now() - interval '1 second' END WHERE id IN ($1, $2, $3)`, a, b, c)
	// Nothing left waiting for the package's other tests, whose
	// supervisors see every queue.
	t.Cleanup(func() { f.set(t, `UPDATE conversations SET state = 'closed' WHERE id IN ($1, $2, $3)`, a, b, c) })
	for _, tc := range []struct {
		p    auth.Principal
		id   conversation.ID
		want int
	}{{cat, c, 1}, {ann, a, 2}, {ben, b, 3}} {
		if got := at(f.place(t, tc.p, tc.id)); got != tc.want {
			t.Fatalf("%s: place %d, want %d", tc.p.Subject, got, tc.want)
		}
	}
}

func TestTheEstimateComesFromTheQueuesAnswersOfTheLastHour(t *testing.T) {
	f := newFixture(t)
	ann, a := f.customer(t, "Ann")
	ben, b := f.customer(t, "Ben")
	if qp := f.place(t, ben, b); at(qp) != 2 || qp.EstimateSeconds != nil {
		t.Fatalf("no chat answered yet: place %d, estimate %v; want 2 and none", at(qp), qp.EstimateSeconds)
	}
	// Three chats answered in the last hour after 30, 60 and 90 s (median
	// 60), and one two hours ago after an hour, which no longer counts.
	for _, waited := range []struct{ secs, ago int }{{30, 10}, {60, 20}, {90, 30}, {3600, 7200}} {
		_, id := f.customer(t, "Old")
		f.set(t, `UPDATE conversations SET state = 'closed', closed_at = now(),
			accepted_at = now() - make_interval(secs => $2), queued_at = now() - make_interval(secs => $2 + $3)
			WHERE id = $1`, id, waited.ago, waited.secs)
	}
	if qp := f.place(t, ben, b); qp.EstimateSeconds != nil {
		t.Fatalf("nobody on duty: estimate %d s, want none", *qp.EstimateSeconds)
	}
	// Alice and Bob on duty, Bob paused: one agent serves.
	f.connect(f.alice)
	f.connect(f.bob)
	f.set(t, `INSERT INTO agent_status (user_id, status, reason) VALUES ($1, 'paused', 'lunch')`, f.bob.UserID)
	if qp := f.place(t, ben, b); at(qp) != 2 || qp.EstimateSeconds == nil || *qp.EstimateSeconds != 120 {
		t.Fatalf("Ben, second, one agent on duty: estimate %v, want 120 s (two median waits of 60)", qp.EstimateSeconds)
	}
	f.set(t, `UPDATE agent_status SET status = 'available' WHERE user_id = $1`, f.bob.UserID)
	if qp := f.place(t, ann, a); qp.EstimateSeconds == nil || *qp.EstimateSeconds != 30 {
		t.Fatalf("Ann, next, two agents on duty: estimate %v, want 30 s", qp.EstimateSeconds)
	}
}

func TestOnlyTheChatsCustomerIsToldItsPlace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, id := f.customer(t, "Ann")
	stranger := auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "v-stranger", Scope: f.q.Key}
	cases := []struct {
		who  string
		p    auth.Principal
		want error
	}{
		{"another customer", stranger, queues.ErrNotFound},
		{"guest", auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g1", Scope: "r1"}, queues.ErrForbidden},
		{"agent", f.alice, queues.ErrForbidden},
		{"supervisor", f.sup, queues.ErrForbidden},
		{"admin", auth.Principal{Kind: auth.KindUser, Role: auth.RoleAdmin, UserID: f.bob.UserID}, queues.ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.who, func(t *testing.T) {
			if _, err := f.svc.QueuePosition(ctx, tc.p, id); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := f.svc.QueuePosition(ctx, chatCustomer(f, t), 0); !errors.Is(err, queues.ErrBadInput) {
		t.Fatalf("no conversation_id: err %v, want bad input", err)
	}
}

func chatCustomer(f *fixture, t *testing.T) auth.Principal {
	p, _ := f.customer(t, "Dan")
	return p
}

func TestAChatTransferredToAQueueTakesItsPlaceByTheTimeItWasFirstQueued(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.conv.SetHooks(f.svc)
	other, err := f.qs.Create(ctx, queues.Queue{Key: f.q.Key + "-other", Name: "Other"}, f.alice.UserID, f.bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	_, moved := f.teamChat(t) // queued first, then taken by Alice
	ben := chattest.Visitor("Ben", other.Key)
	c, _, err := f.conv.Start(ctx, ben, conversation.StartInput{Name: "Ben"})
	if err != nil {
		t.Fatal(err)
	}
	w := f.follow(t, c.ID, moved)
	f.tell(t)
	if got := w.next(); got[c.ID] != 1 {
		t.Fatalf("Ben alone in the other queue told %v, want 1", got)
	}
	if _, err := f.svc.Transfer(ctx, f.alice, moved, Target{QueueID: other.ID}); err != nil {
		t.Fatal(err)
	}
	f.tell(t)
	if got := w.next(); got[moved] != 1 || got[c.ID] != 2 {
		t.Fatalf("after the transfer told %v, want the transferred chat 1 (it waited longer), Ben 2", got)
	}
}
