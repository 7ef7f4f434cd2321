package conversation

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
	"parley/chat/queues"
	"parley/fault"
)

// setQueue changes the fixture queue's columns (an SQL SET list, $1 its
// id) and drops it from the cache, as a save does.
func (f *writerFixture) setQueue(t *testing.T, set string, args ...any) {
	t.Helper()
	if _, err := f.svc.pool.Exec(context.Background(), `UPDATE queues SET `+set+` WHERE id = $1`,
		append([]any{f.q.ID}, args...)...); err != nil {
		t.Fatal(err)
	}
	f.qs.Forget(f.q.ID)
}

// exec runs SQL on the fixture's database.
func (f *writerFixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.svc.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// lastEvent is chat id's last event, as staff read it.
func (f *writerFixture) lastEvent(t *testing.T, id ID) Event {
	t.Helper()
	evs, err := f.svc.events(context.Background(), id, 0, true)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events of %d: %v %v", id, evs, err)
	}
	return evs[len(evs)-1]
}

type closedRow struct {
	State, ClosedBy, Status string
	WrapUpDue, LeftSet      bool
}

func (f *writerFixture) closedRow(t *testing.T, id ID) closedRow {
	t.Helper()
	var r closedRow
	if err := f.svc.pool.QueryRow(context.Background(), `SELECT state, coalesce(closed_by, ''), coalesce(close_status, ''),
		wrap_up_due, customer_left_at IS NOT NULL FROM conversations WHERE id = $1`, id).
		Scan(&r.State, &r.ClosedBy, &r.Status, &r.WrapUpDue, &r.LeftSet); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTheSystemEndsAChatOnlyWhenItsRuleHolds(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	f.setQueue(t, `unavailable_message = 'All busy, sorry', offline_message = 'We are closed'`)

	// Max wait: not before the deadline, then at once.
	f.setQueue(t, `max_wait_seconds = 60`)
	_, waits := f.customer(t, "Wendy")
	if ended, err := f.svc.SystemClose(ctx, waits, ReasonMaxWait); err != nil || ended {
		t.Fatalf("a chat that waited less than its max wait ended: %v %v", ended, err)
	}
	if ended, err := f.svc.SystemClose(ctx, waits, ReasonQueueClosed); err != nil || ended {
		t.Fatalf("an open queue's chat ended as queue_closed: %v %v", ended, err)
	}
	f.exec(t, `UPDATE conversations SET queued_at = now() - interval '61 seconds' WHERE id = $1`, waits)
	if ended, err := f.svc.SystemClose(ctx, waits, ReasonMaxWait); err != nil || !ended {
		t.Fatalf("a chat past its max wait did not end: %v %v", ended, err)
	}
	if r := f.closedRow(t, waits); r != (closedRow{State: StateClosed, ClosedBy: "system"}) {
		t.Errorf("the row is %+v", r)
	}
	ev := f.lastEvent(t, waits)
	if ev.Kind != KindClosed || ev.Author.Kind != "system" || ev.Reason != ReasonMaxWait || ev.Text != "All busy, sorry" ||
		ev.LimitSeconds != 60 || ev.Private {
		t.Errorf("the closed event is %+v", ev)
	}
	if ended, err := f.svc.SystemClose(ctx, waits, ReasonMaxWait); err != nil || ended {
		t.Errorf("a closed chat ended again: %v %v", ended, err)
	}

	// Hours' end: a waiting chat of a closed queue without a max wait ends;
	// with one it keeps waiting.
	_, offered := f.customer(t, "Olga")
	f.offer(t, offered, f.alice.UserID)
	f.setQueue(t, `hours = '{}'`) // never open
	if ended, err := f.svc.SystemClose(ctx, offered, ReasonQueueClosed); err != nil || ended {
		t.Fatalf("a chat of a queue with a max wait ended at the hours' end: %v %v", ended, err)
	}
	f.setQueue(t, `max_wait_seconds = 0`)
	offerEnded := make(chan []byte, 4)
	unsub, err := f.svc.bus.Subscribe(bus.PrincipalSubject(f.alice.Key()), func(b []byte) { offerEnded <- b })
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	if ended, err := f.svc.SystemClose(ctx, offered, ReasonQueueClosed); err != nil || !ended {
		t.Fatalf("a waiting chat of a closed queue did not end: %v %v", ended, err)
	}
	var pending int
	if err := f.svc.pool.QueryRow(ctx, `SELECT count(*) FROM offers WHERE conversation_id = $1 AND state = 'pending'`, offered).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d offers still pending (%v)", pending, err)
	}
	select {
	case <-offerEnded:
	case <-time.After(5 * time.Second):
		t.Error("the agent offered the chat was not told its offer ended")
	}
	if ev := f.lastEvent(t, offered); ev.Reason != ReasonQueueClosed || ev.Text != "We are closed" || ev.Author.Kind != "system" {
		t.Errorf("the closed event is %+v", ev)
	}

	// The customer sees the reason and the text, never a status.
	f.setQueue(t, `hours = NULL`)
	cust, active := f.customer(t, "Ada")
	f.offer(t, active, f.alice.UserID)
	f.accept(t, active, f.alice)
	f.setQueue(t, `auto_finish_seconds = 30`)
	f.svc.CustomerPresence(cust.Subject, false)
	if r := f.closedRow(t, active); !r.LeftSet {
		t.Fatal("the customer's leaving was not recorded")
	}
	if ended, err := f.svc.SystemClose(ctx, active, ReasonAutoFinish); err != nil || ended {
		t.Fatalf("a chat ended before its customer was gone for auto_finish_seconds: %v %v", ended, err)
	}
	f.exec(t, `UPDATE conversations SET customer_left_at = now() - interval '31 seconds' WHERE id = $1`, active)
	f.svc.presence.Add(cust.Key(), 1) // back, without the presence change clearing the mark
	if ended, err := f.svc.SystemClose(ctx, active, ReasonAutoFinish); err != nil || ended {
		t.Fatalf("a chat whose customer is connected ended: %v %v", ended, err)
	}
	if r := f.closedRow(t, active); r.LeftSet {
		t.Error("the stale mark of a connected customer was not cleared")
	}
	f.svc.presence.Add(cust.Key(), -1)
	f.svc.CustomerPresence(cust.Subject, false)
	f.exec(t, `UPDATE conversations SET customer_left_at = now() - interval '31 seconds' WHERE id = $1`, active)
	if ended, err := f.svc.SystemClose(ctx, active, ReasonAutoFinish); err != nil || !ended {
		t.Fatalf("a chat whose customer left did not end: %v %v", ended, err)
	}
	want := closedRow{State: StateClosed, ClosedBy: "system", Status: StatusCustomerLeft, WrapUpDue: true}
	if r := f.closedRow(t, active); r != want {
		t.Errorf("the row is %+v, want %+v (an agent's chat goes to its wrap-up)", r, want)
	}
	_, evs, err := f.svc.Resume(ctx, cust, active, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Kind != KindClosed || last.Reason != ReasonAutoFinish || last.Status != "" || last.Author.Kind != "system" || last.LimitSeconds != 30 {
		t.Errorf("the customer sees %+v", last)
	}
	// The agent wraps it up as after the customer's own end.
	if err := f.svc.Close(ctx, f.alice, active, "Solved"); err != nil {
		t.Fatalf("the wrap-up: %v", err)
	}
	if r := f.closedRow(t, active); r.WrapUpDue || r.Status != "Solved" {
		t.Errorf("after the wrap-up the row is %+v", r)
	}
}

func TestOnlyOneOfTwoSystemClosesAtOnceEndsAChat(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	f.setQueue(t, `disabled = true`)
	for range 5 {
		f.setQueue(t, `disabled = false`)
		_, id := f.customer(t, "Twin")
		f.setQueue(t, `disabled = true`)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ended := 0
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := f.svc.SystemClose(ctx, id, ReasonQueueClosed)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					ended++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		var closes int
		if err := f.svc.pool.QueryRow(ctx, `SELECT count(*) FROM conversation_events WHERE conversation_id = $1 AND kind = 'closed'`, id).Scan(&closes); err != nil {
			t.Fatal(err)
		}
		if ended != 1 || closes != 1 {
			t.Fatalf("%d ends and %d closed events, want one of each", ended, closes)
		}
	}
}

func TestTheCustomersLeavingIsRecordedAndClearedOnReturn(t *testing.T) {
	f := newWriterFixture(t)
	cust, id := f.customer(t, "Lea")
	f.svc.CustomerPresence(cust.Subject, false)
	if !f.closedRow(t, id).LeftSet {
		t.Fatal("going offline did not record customer_left_at")
	}
	f.svc.CustomerPresence(cust.Subject, true)
	if f.closedRow(t, id).LeftSet {
		t.Fatal("coming back did not clear customer_left_at")
	}
}

func TestChatStartIsRefusedByTheQueuesRules(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	f.setQueue(t, `offline_message = 'Closed for today', unavailable_message = 'Too many waiting'`)
	nowDay := queues.Weekdays[(int(time.Now().UTC().Weekday())+6)%7]
	for _, tc := range []struct {
		name    string
		set     string // the queue's settings
		who     func() auth.Principal
		waiting int // chats already waiting in the queue
		code    string
		message string
	}{
		{"a customer, open queue", `max_waiting = 0`, nil, 0, "", ""},
		{"a customer, disabled queue", `disabled = true`, nil, 0, fault.QueueClosed, "Closed for today"},
		{"a customer, outside hours", `hours = '{"` + nowDay + `": []}'`, nil, 0, fault.QueueClosed, "Closed for today"},
		{"a customer, a holiday today", `holidays = jsonb_build_array(jsonb_build_object('date', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'name', 'Today'))`,
			nil, 0, fault.QueueClosed, "Closed for today"},
		{"a customer, within hours", `hours = '{"` + nowDay + `": [{"from": "00:00", "to": "24:00"}]}'`, nil, 0, "", ""},
		{"a customer, full", `max_waiting = 2`, nil, 2, fault.QueueFull, "Too many waiting"},
		{"a customer, one place left", `max_waiting = 2`, nil, 1, "", ""},
		{"a customer, full and closed: closed first", `max_waiting = 1, disabled = true`, nil, 1, fault.QueueClosed, "Closed for today"},
		{"an agent", `max_waiting = 0`, func() auth.Principal { return f.alice }, 0, fault.Forbidden, "only customers start chats"},
		{"a supervisor", `max_waiting = 0`, func() auth.Principal { return f.sup }, 0, fault.Forbidden, "only customers start chats"},
		{"a guest", `max_waiting = 0`, func() auth.Principal { return auth.Principal{Kind: auth.KindGuest, Subject: "g"} }, 0, fault.Forbidden, "only customers start chats"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.setQueue(t, `disabled = false, hours = NULL, holidays = '[]', max_waiting = 0`)
			f.exec(t, `UPDATE conversations SET state = 'closed', closed_at = now() WHERE queue_id = $1 AND state <> 'closed'`, f.q.ID)
			for range tc.waiting {
				f.customer(t, "Ahead")
			}
			f.setQueue(t, tc.set)
			p := chattest.Visitor("New", f.q.Key)
			if tc.who != nil {
				p = tc.who()
			}
			_, _, err := f.svc.Start(ctx, p, StartInput{Name: "New"})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var c interface{ Code() string }
			if !errors.As(err, &c) || c.Code() != tc.code || err.Error() != tc.message {
				t.Fatalf("got %v, want %s %q", err, tc.code, tc.message)
			}
		})
	}
}

func TestACustomerWithAnOpenChatGetsItBackFromAClosedQueue(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	cust, id := f.customer(t, "Back")
	f.setQueue(t, `disabled = true, max_waiting = 1`)
	c, _, err := f.svc.Start(ctx, cust, StartInput{Name: "Back"})
	if err != nil || c.ID != id {
		t.Fatalf("got %d %v, want the open chat %d", c.ID, err, id)
	}
}

func TestStartsAtOnceDoNotPassTheWaitingLimitTogether(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	f.setQueue(t, `max_waiting = 3`)
	const starts = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	started, full := 0, 0
	for range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := f.svc.Start(ctx, chattest.Visitor("Rush", f.q.Key), StartInput{Name: "Rush"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				started++
			case errors.Is(err, queues.ErrQueueFull):
				full++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var waiting int
	if err := f.svc.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE queue_id = $1 AND state IN ('queued', 'offered')`, f.q.ID).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if started != 3 || full != starts-3 || waiting != 3 {
		t.Fatalf("%d started, %d refused, %d waiting; want 3, %d, 3", started, full, waiting, starts-3)
	}
}
