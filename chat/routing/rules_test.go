package routing

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"parley/chat/conversation"
)

// state is chat id's state and who closed it.
func (f *fixture) state(t *testing.T, id conversation.ID) (state, closedBy string) {
	t.Helper()
	if err := f.svc.pool.QueryRow(context.Background(), `SELECT state, coalesce(closed_by, '') FROM conversations WHERE id = $1`, id).
		Scan(&state, &closedBy); err != nil {
		t.Fatal(err)
	}
	return state, closedBy
}

// closeReason is the reason on chat id's closed event ("" when none).
func (f *fixture) closeReason(t *testing.T, id conversation.ID) string {
	t.Helper()
	var reason string
	if err := f.svc.pool.QueryRow(context.Background(), `SELECT coalesce(max(reason), '') FROM conversation_events
		WHERE conversation_id = $1 AND kind = 'closed'`, id).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	return reason
}

func (f *fixture) enforce(t *testing.T) {
	t.Helper()
	if err := f.svc.enforceRules(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestTheRouterEndsChatsByTheirQueuesRules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings string // the queue's columns
		state    string // the chat's: queued, offered, active
		rows     string // what time did to the chat's row (SET list), as if it had passed
		online   bool   // the customer is connected
		reason   string // why it ends; "" it does not
	}{
		{"waiting, within its max wait", `max_wait_seconds = 60`, "queued", `queued_at = now() - interval '59 seconds'`, true, ""},
		{"waiting, past its max wait", `max_wait_seconds = 60`, "queued", `queued_at = now() - interval '61 seconds'`, true, conversation.ReasonMaxWait},
		{"offered, past its max wait", `max_wait_seconds = 60`, "offered", `queued_at = now() - interval '61 seconds'`, true, conversation.ReasonMaxWait},
		{"active, past the max wait", `max_wait_seconds = 60`, "active", `queued_at = now() - interval '1 hour'`, true, ""},
		{"waiting, the hours ended", `hours = '{}'`, "queued", ``, true, conversation.ReasonQueueClosed},
		{"offered, the hours ended", `hours = '{}'`, "offered", ``, true, conversation.ReasonQueueClosed},
		{"waiting, a holiday began", `holidays = jsonb_build_array(jsonb_build_object('date', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'name', 'Today'))`,
			"queued", ``, true, conversation.ReasonQueueClosed},
		{"active, the hours ended", `hours = '{}'`, "active", ``, true, ""},
		{"waiting, the hours ended, with a max wait", `hours = '{}', max_wait_seconds = 60`, "queued", `queued_at = now() - interval '30 seconds'`, true, ""},
		{"waiting, the hours ended, past the max wait", `hours = '{}', max_wait_seconds = 60`, "queued", `queued_at = now() - interval '61 seconds'`, true, conversation.ReasonMaxWait},
		{"waiting, disabled", `disabled = true`, "queued", ``, true, conversation.ReasonQueueClosed},
		{"waiting, disabled, with a max wait", `disabled = true, max_wait_seconds = 60`, "queued", ``, true, ""},
		{"active, the customer gone past auto finish", `auto_finish_seconds = 30`, "active", `customer_left_at = now() - interval '31 seconds'`, false, conversation.ReasonAutoFinish},
		{"waiting, the customer gone past auto finish", `auto_finish_seconds = 30`, "queued", `customer_left_at = now() - interval '31 seconds'`, false, conversation.ReasonAutoFinish},
		{"active, the customer gone not long enough", `auto_finish_seconds = 30`, "active", `customer_left_at = now() - interval '29 seconds'`, false, ""},
		{"active, the customer gone, auto finish off", `auto_finish_seconds = 0`, "active", `customer_left_at = now() - interval '1 hour'`, false, ""},
		{"active, the customer back with a stale mark", `auto_finish_seconds = 30`, "active", `customer_left_at = now() - interval '31 seconds'`, true, ""},
		{"an offline message, the customer gone past auto finish", `auto_finish_seconds = 30`, "queued", `state = 'offline', customer_left_at = now() - interval '31 seconds'`, false, ""},
		{"an offline message, the customer never marked gone", `auto_finish_seconds = 30`, "queued", `state = 'offline'`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cust, id := f.customer(t, "Carla")
			if tc.online {
				f.connect(cust)
			}
			switch tc.state {
			case "offered", "active":
				f.connect(f.alice)
				f.route(t)
				if tc.state == "active" {
					if _, _, err := f.svc.Accept(context.Background(), f.alice, id); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tc.rows != "" {
				f.set(t, `UPDATE conversations SET `+tc.rows+` WHERE id = $1`, id)
			}
			f.set(t, `UPDATE queues SET `+tc.settings+` WHERE id = $1`, f.q.ID)
			f.enforce(t)
			state, by := f.state(t, id)
			if tc.reason == "" {
				if state == "closed" {
					t.Fatalf("it ended (%s)", f.closeReason(t, id))
				}
				return
			}
			if state != "closed" || by != "system" || f.closeReason(t, id) != tc.reason {
				t.Fatalf("state %s, closed by %q for %q; want closed by the system for %s", state, by, f.closeReason(t, id), tc.reason)
			}
			if p := f.pending(t, id); len(p) != 0 {
				t.Errorf("offers still pending to %v", p)
			}
		})
	}
}

func TestADisabledQueueRoutesNothing(t *testing.T) {
	f := newFixture(t)
	f.connect(f.alice)
	f.set(t, `UPDATE queues SET disabled = true, max_wait_seconds = 60 WHERE id = $1`, f.q.ID)
	_, id := f.conversationIn(t, "Dora")
	f.route(t)
	if p := f.pending(t, id); len(p) != 0 {
		t.Fatalf("a disabled queue's chat was offered to %v", p)
	}
	f.set(t, `UPDATE queues SET disabled = false WHERE id = $1`, f.q.ID)
	f.route(t)
	if p := f.pending(t, id); len(p) != 1 {
		t.Fatalf("enabled again, its chat was offered to %v", p)
	}
}

// conversationIn starts a chat while the queue is open, whatever the
// queue's settings are now: a chat that was waiting before they changed.
func (f *fixture) conversationIn(t *testing.T, name string) (string, conversation.ID) {
	t.Helper()
	var disabled bool
	if err := f.svc.pool.QueryRow(context.Background(), `SELECT disabled FROM queues WHERE id = $1`, f.q.ID).Scan(&disabled); err != nil {
		t.Fatal(err)
	}
	f.set(t, `UPDATE queues SET disabled = false WHERE id = $1`, f.q.ID)
	p, id := f.customer(t, name)
	f.set(t, `UPDATE queues SET disabled = $2 WHERE id = $1`, f.q.ID, disabled)
	return p.Subject, id
}

func TestACustomerGoneWithoutAPresenceChangeIsMarkedByTheTick(t *testing.T) {
	f := newFixture(t)
	f.set(t, `UPDATE queues SET auto_finish_seconds = 30 WHERE id = $1`, f.q.ID)
	cust, id := f.customer(t, "Mona")
	f.connect(cust)
	f.enforce(t)
	var marked bool
	mark := func() bool {
		if err := f.svc.pool.QueryRow(context.Background(), `SELECT customer_left_at IS NOT NULL FROM conversations WHERE id = $1`, id).Scan(&marked); err != nil {
			t.Fatal(err)
		}
		return marked
	}
	if mark() {
		t.Fatal("a connected customer was marked gone")
	}
	// A restart: the customer's connection is gone, and nobody told.
	f.svc.presence.Add(cust.Key(), -1)
	f.enforce(t)
	if !mark() {
		t.Fatal("a customer without a connection was not marked gone")
	}
}

// TestARestartedRouterEndsWhatPassedItsDeadlineMeanwhile: the timers are
// rows, so a router that was not running when a deadline passed (a
// restart) ends the chat at its first look.
func TestARestartedRouterEndsWhatPassedItsDeadlineMeanwhile(t *testing.T) {
	f := newFixture(t)
	f.set(t, `UPDATE queues SET max_wait_seconds = 10, auto_finish_seconds = 10 WHERE id = $1`, f.q.ID)
	_, waited := f.customer(t, "Wait")
	gone, left := f.customer(t, "Gone")
	f.svc.conv.CustomerPresence(gone.Subject, false)
	// The deadlines pass while no router runs.
	f.set(t, `UPDATE conversations SET queued_at = now() - interval '11 seconds' WHERE id = $1`, waited)
	f.set(t, `UPDATE conversations SET customer_left_at = now() - interval '11 seconds', queued_at = now() WHERE id = $1`, left)

	closed := make(chan conversation.ID, 2)
	for _, id := range []conversation.ID{waited, left} {
		unsub, err := f.bus.Subscribe(conversation.StaffSubject(id), func(b []byte) {
			var frame struct {
				Data conversation.Event `json:"data"`
			}
			if json.Unmarshal(b, &frame) == nil && frame.Data.Kind == conversation.KindClosed {
				closed <- frame.Data.ConversationID
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer unsub()
	}
	// A new router over the same database, as after a restart.
	restarted := New(f.svc.pool, f.svc.log, f.qs, f.conv, Options{Presence: f.svc.presence})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { restarted.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	got := map[conversation.ID]bool{}
	deadline := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case id := <-closed:
			got[id] = true
		case <-deadline:
			t.Fatalf("ended %v; want both %d (max wait) and %d (auto finish)", got, waited, left)
		}
	}
	if r := f.closeReason(t, waited); r != conversation.ReasonMaxWait {
		t.Errorf("%d ended for %q", waited, r)
	}
	if r := f.closeReason(t, left); r != conversation.ReasonAutoFinish {
		t.Errorf("%d ended for %q", left, r)
	}
}
