package routing

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// pending lists the agents chat id is offered to now.
func (f *fixture) pending(t *testing.T, id conversation.ID) []auth.UserID {
	t.Helper()
	rows, err := f.svc.pool.Query(context.Background(), `SELECT user_id FROM offers
		WHERE conversation_id = $1 AND state = 'pending' ORDER BY user_id`, id)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[auth.UserID])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (f *fixture) route(t *testing.T) {
	t.Helper()
	if _, err := f.svc.routeAll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) set(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.svc.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
	f.svc.forgetQueue(f.q.ID)
}

// turnedDownAgo moves the ends of chat id's rejected and missed offers
// back by d, as if d had passed.
func (f *fixture) turnedDownAgo(t *testing.T, id conversation.ID, d time.Duration) {
	t.Helper()
	f.set(t, `UPDATE offers SET ended_at = now() - $2::interval
		WHERE conversation_id = $1 AND state IN ('rejected', 'expired')`, id, d.String())
}

func (f *fixture) status(t *testing.T, p auth.Principal) AgentState {
	t.Helper()
	st, err := f.svc.State(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestAChatEveryAgentTurnedDownIsOfferedToThemAgainAfterTheCooldown(t *testing.T) {
	for _, strategy := range []string{queues.LongestIdle, queues.LeastBusy, queues.RoundRobin, queues.RingAll} {
		t.Run(strategy, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.set(t, `UPDATE queues SET strategy = $2 WHERE id = $1`, f.q.ID, strategy)
			f.connect(f.alice)
			f.connect(f.bob)
			_, id := f.customer(t, "Ann")
			both := []auth.UserID{f.alice.UserID, f.bob.UserID}
			// Each agent turns it down in turn (ring all: both at once).
			for range 2 {
				f.route(t)
				offered := f.pending(t, id)
				if len(offered) == 0 {
					break
				}
				for _, a := range offered {
					if err := f.svc.Reject(ctx, auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent, UserID: a}, id); err != nil {
						t.Fatal(err)
					}
				}
			}
			f.route(t)
			if got := f.pending(t, id); len(got) != 0 {
				t.Fatalf("offered to %v within the cool-down of everyone's rejection, want to nobody", got)
			}
			f.turnedDownAgo(t, id, DefaultRejectCooldown+time.Second)
			f.route(t)
			got := f.pending(t, id)
			if len(got) == 0 || (strategy == queues.RingAll && !slices.Equal(got, both)) {
				t.Fatalf("after the cool-down offered to %v, want it offered again (ring all: to %v)", got, both)
			}
		})
	}
}

func TestTheCooldownIsShort(t *testing.T) {
	if DefaultRejectCooldown > 30*time.Second {
		t.Fatalf("DefaultRejectCooldown = %v: the only agent on duty would keep a customer waiting that long", DefaultRejectCooldown)
	}
	f := newFixture(t)
	f.connect(f.alice) // the only agent on duty
	_, id := f.customer(t, "Ann")
	f.route(t)
	if err := f.svc.Reject(context.Background(), f.alice, id); err != nil {
		t.Fatal(err)
	}
	f.turnedDownAgo(t, id, 20*time.Second)
	f.route(t)
	if got := f.pending(t, id); !slices.Equal(got, []auth.UserID{f.alice.UserID}) {
		t.Fatalf("20 s after Alice rejected it, the chat is offered to %v, want to Alice again", got)
	}
}

func TestChatsBehindOneEveryoneTurnedDownAreStillOffered(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.set(t, `UPDATE queues SET capacity = 1 WHERE id = $1`, f.q.ID)
	f.connect(f.alice)
	_, first := f.customer(t, "Ann")
	_, second := f.customer(t, "Ben")
	f.route(t)
	if err := f.svc.Reject(ctx, f.alice, first); err != nil {
		t.Fatal(err)
	}
	f.route(t)
	if got := f.pending(t, second); !slices.Equal(got, []auth.UserID{f.alice.UserID}) {
		t.Fatalf("the later chat is offered to %v, want to Alice, who has room and turned down only the first", got)
	}
	if got := f.pending(t, first); len(got) != 0 {
		t.Fatalf("the first chat is offered to %v within the cool-down", got)
	}
}

func TestOneMissedOfferLeavesTheAgentAvailableAndTwoInARowPauseIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.connect(f.alice)
	_, id := f.customer(t, "Ann")
	miss := func() {
		t.Helper()
		f.route(t)
		if got := f.pending(t, id); !slices.Equal(got, []auth.UserID{f.alice.UserID}) {
			t.Fatalf("offered to %v, want to Alice", got)
		}
		f.set(t, `UPDATE offers SET deadline = now() WHERE conversation_id = $1 AND state = 'pending'`, id)
		if err := f.svc.expireOffers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	miss()
	if st := f.status(t, f.alice); st.Status != StatusAvailable {
		t.Fatalf("after one missed offer Alice is %s (%s), want available", st.Status, st.Reason)
	}
	f.turnedDownAgo(t, id, DefaultRejectCooldown+time.Second)
	miss() // the same chat again, after the cool-down
	if st := f.status(t, f.alice); st.Status != StatusPaused || st.Reason != "missed offer" {
		t.Fatalf("after two missed offers in a row Alice is %s (%s), want paused (missed offer)", st.Status, st.Reason)
	}
}

func TestSupervisorsAreToldOnceOfAChatWaitingPastTheQueuesThreshold(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if f.q.WaitAlertSeconds != queues.DefaultWaitAlertSeconds {
		t.Fatalf("a new queue's wait_alert_seconds = %d, want the default %d", f.q.WaitAlertSeconds, queues.DefaultWaitAlertSeconds)
	}
	entries := make(chan conversation.Conversation, 16)
	unsub, err := f.bus.Subscribe(conversation.WaitingSubject(f.q.ID), func(frame []byte) {
		var env struct {
			Type string `json:"type"`
			Data struct {
				Conversation conversation.Conversation `json:"conversation"`
			} `json:"data"`
		}
		if json.Unmarshal(frame, &env) == nil && env.Type == "queue.entry" {
			entries <- env.Data.Conversation
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	_, late := f.customer(t, "Ann")
	_, fresh := f.customer(t, "Ben")
	<-entries
	<-entries // both queued
	f.set(t, `UPDATE conversations SET queued_at = now() - interval '61 seconds' WHERE id = $1`, late)
	for range 2 { // told once
		if err := f.svc.alertWaiting(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case c := <-entries:
		if c.ID != late || c.WaitAlertAt == nil {
			t.Fatalf("queue.entry for %d with wait_alert_at %v, want %d with the alert", c.ID, c.WaitAlertAt, late)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no queue.entry with the alert")
	}
	select {
	case c := <-entries:
		t.Fatalf("a second queue.entry, for %d (the alert is told once; %d has not waited long)", c.ID, fresh)
	default:
	}
	list, _, err := f.svc.Waiting(ctx, f.sup)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.Queue.ID != f.q.ID {
			continue // another test's queue: the supervisor sees every queue of the package's database
		}
		if (c.WaitAlertAt != nil) != (c.ID == late) {
			t.Fatalf("the waiting list shows %d with wait_alert_at %v", c.ID, c.WaitAlertAt)
		}
	}
}

func TestTheWaitAlertThresholdIsAQueueSetting(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAdmin, UserID: f.sup.UserID}
	cases := []struct {
		name    string
		seconds int
		want    int
		code    string
	}{
		{"unset takes the default", 0, queues.DefaultWaitAlertSeconds, ""},
		{"a setting is kept", 5, 5, ""},
		{"the longest allowed", 3600, 3600, ""},
		{"negative is refused", -1, 0, "bad_request"},
		{"over an hour is refused", 3601, 0, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := queues.QueueConfig{Queue: queues.Queue{Key: "alerts", Name: "Alerts", WaitAlertSeconds: tc.seconds}}
			got, err := f.qs.Save(ctx, admin, cfg)
			var coded interface{ Code() string }
			if tc.code != "" {
				if !errors.As(err, &coded) || coded.Code() != tc.code {
					t.Fatalf("saved with wait_alert_seconds %d: %v, want %s", tc.seconds, err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			q, err := f.svc.queue(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.WaitAlertSeconds != tc.want || q.WaitAlertSeconds != tc.want {
				t.Fatalf("wait_alert_seconds saved %d, read %d, want %d", got.WaitAlertSeconds, q.WaitAlertSeconds, tc.want)
			}
		})
	}
}
