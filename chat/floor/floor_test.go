package floor_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/chat/chattest"
	"parley/chat/floor"
	"parley/chat/queues"
)

// day is a scripted day's fixture: two queues, A (service level 20 s)
// and B (60 s), Alice in A, Bob in B, and a supervisor Sue.
type day struct {
	pool     *pgxpool.Pool
	auth     *auth.Service
	staff    chattest.Staff
	admin    auth.Principal
	a, b     queues.Queue
	start    time.Time // today's midnight, UTC
	presence *chat.LocalPresence
	bus      *bus.MemoryBus
	floor    *floor.Floor
	// tell tells the floors on bus of the changes the fixture writes, as
	// the chat service does after its commits.
	tell *chat.FloorNotifier
}

func newDay(t *testing.T) *day {
	t.Helper()
	pool, a := chattest.DB(t)
	d := &day{pool: pool, auth: a, staff: chattest.NewStaff(t, a), admin: chattest.User(t, a, "Ada", auth.RoleAdmin),
		presence: chat.NewLocalPresence()}
	qs := queues.New(pool, queues.NewLocalCache())
	ctx := context.Background()
	var err error
	if d.a, err = qs.Create(ctx, queues.Queue{Key: chattest.Unique("qa"), Name: "A", ServiceLevelSeconds: 20},
		d.staff.Alice.UserID); err != nil {
		t.Fatal(err)
	}
	if d.b, err = qs.Create(ctx, queues.Queue{Key: chattest.Unique("qb"), Name: "B", ServiceLevelSeconds: 60,
		ChatTimeLimits: []int{60, 120}}, d.staff.Bob.UserID); err != nil {
		t.Fatal(err)
	}
	y, m, dd := time.Now().UTC().Date()
	d.start = time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	d.bus = bus.NewMemory()
	d.tell = chat.NewFloorNotifier(d.bus, chattest.Quiet, 0)
	d.floor = floor.New(pool, d.bus, d.presence, chattest.Quiet, floor.Options{})
	// The database is the package's: Sue oversees this day's queues
	// alone, so other tests' chats are not on her floor.
	d.give(t, d.staff.Sue, d.a, d.b)
	return d
}

// give makes sup the supervisor of qs alone.
func (d *day) give(t *testing.T, sup auth.Principal, qs ...queues.Queue) {
	t.Helper()
	for _, q := range qs {
		if _, err := d.pool.Exec(context.Background(), `INSERT INTO supervisor_queues (user_id, queue_id) VALUES ($1, $2)`,
			sup.UserID, q.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// supervisor is a new supervisor of qs alone.
func (d *day) supervisor(t *testing.T, name string, qs ...queues.Queue) auth.Principal {
	t.Helper()
	p := chattest.User(t, d.auth, name, auth.RoleSupervisor)
	d.give(t, p, qs...)
	return p
}

// chat inserts a chat of queue q with exact times; offsets are from
// today's midnight (negative: yesterday); nil is unset.
type script struct {
	q                queues.Queue
	state            string
	agent            *auth.Principal
	queued           time.Duration
	accepted, closed *time.Duration
	closedBy         string
	wrapUp           bool
}

func at(d time.Duration) *time.Duration { return &d }

func (d *day) chat(t *testing.T, s script) chat.ConversationID {
	t.Helper()
	ts := func(off *time.Duration) *time.Time {
		if off == nil {
			return nil
		}
		v := d.start.Add(*off)
		return &v
	}
	var agent *auth.UserID
	if s.agent != nil {
		agent = &s.agent.UserID
	}
	var closedBy *string
	if s.closedBy != "" {
		closedBy = &s.closedBy
	}
	var id chat.ConversationID
	err := d.pool.QueryRow(context.Background(), `INSERT INTO conversations
		(queue_id, visitor, customer_name, customer_email, state, agent_id, queued_at, accepted_at, closed_at, closed_by, wrap_up_due)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		s.q.ID, chattest.Unique("v"), "Carol", "carol@example.com", s.state, agent, d.start.Add(s.queued),
		ts(s.accepted), ts(s.closed), closedBy, s.wrapUp).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	if agent != nil && (s.state == "active" || s.wrapUp) {
		if _, err := d.pool.Exec(context.Background(), `INSERT INTO conversation_agents (conversation_id, user_id, joined_at)
			VALUES ($1, $2, $3)`, id, *agent, ts(s.accepted)); err != nil {
			t.Fatal(err)
		}
	}
	d.tell.Queue(s.q.ID)
	return id
}

// script plays the day: see TestFigures for what each chat counts as.
func (d *day) script(t *testing.T) {
	alice, bob := d.staff.Alice, d.staff.Bob
	h := time.Hour
	// A1: answered in 10 s (in time), handled 300 s.
	d.chat(t, script{q: d.a, state: "closed", agent: &alice, queued: 9 * h, accepted: at(9*h + 10*time.Second),
		closed: at(9*h + 310*time.Second), closedBy: "agent"})
	// A2: answered in 30 s (late), still open.
	d.chat(t, script{q: d.a, state: "active", agent: &alice, queued: 10 * h, accepted: at(10*h + 30*time.Second)})
	// A3: abandoned: the customer left after 60 s, nobody had accepted.
	d.chat(t, script{q: d.a, state: "closed", queued: 11 * h, closed: at(11*h + time.Minute), closedBy: "customer"})
	// A4: queued yesterday, answered today after 90 s (late), handled 600 s.
	d.chat(t, script{q: d.a, state: "closed", agent: &alice, queued: -time.Minute, accepted: at(30 * time.Second),
		closed: at(630 * time.Second), closedBy: "customer"})
	// A5: answered yesterday, closed today: handled 5400 s, not answered today.
	d.chat(t, script{q: d.a, state: "closed", agent: &alice, queued: -h - time.Minute, accepted: at(-h),
		closed: at(30 * time.Minute), closedBy: "agent"})
	// A6: closed by an agent before anyone accepted it: not abandoned.
	d.chat(t, script{q: d.a, state: "closed", queued: 11 * h, closed: at(11*h + time.Minute), closedBy: "agent"})
	// A7, A8: waiting now, since 12:00 and 12:30.
	d.chat(t, script{q: d.a, state: "queued", queued: 12 * h})
	d.chat(t, script{q: d.a, state: "offered", queued: 12*h + 30*time.Minute})
	// B1: answered in 50 s (in time for B's 60 s), handled 600 s.
	d.chat(t, script{q: d.b, state: "closed", agent: &bob, queued: 9 * h, accepted: at(9*h + 50*time.Second),
		closed: at(9*h + 650*time.Second), closedBy: "agent"})
	// B2: all of it yesterday: counts nowhere.
	d.chat(t, script{q: d.b, state: "closed", agent: &bob, queued: -3 * h, accepted: at(-3*h + time.Second),
		closed: at(-2 * h), closedBy: "customer"})
	// B4: ended by the system today (it waited past the maximum, or the
	// queue closed) before anyone accepted it: abandoned.
	d.chat(t, script{q: d.b, state: "closed", queued: 10 * h, closed: at(10*h + 2*time.Minute), closedBy: "system"})
	// B3: abandoned yesterday: counts nowhere.
	d.chat(t, script{q: d.b, state: "closed", queued: -3 * h, closed: at(-2 * h), closedBy: "customer"})
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 0.001 {
		if got == nil {
			t.Errorf("%s = null, want %.3f", what, want)
			return
		}
		t.Errorf("%s = %.3f, want %.3f", what, *got, want)
	}
}

func counts(t *testing.T, what string, f floor.Figures, waiting, answered, inTime, abandoned int) {
	t.Helper()
	if f.Waiting != waiting || f.Answered != answered || f.AnsweredInTime != inTime || f.Abandoned != abandoned {
		t.Errorf("%s: waiting %d answered %d in time %d abandoned %d, want %d %d %d %d", what,
			f.Waiting, f.Answered, f.AnsweredInTime, f.Abandoned, waiting, answered, inTime, abandoned)
	}
}

// The figures of a scripted day: service level, abandoned, answered,
// average wait and handling time, per queue and in total.
func TestFigures(t *testing.T) {
	d := newDay(t)
	d.script(t)
	snap, err := d.floor.Watch(context.Background(), d.staff.Sue, nopWatcher{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Day != d.start.Format(time.DateOnly) || snap.TimeZone != "UTC" {
		t.Errorf("day %s %s, want %s UTC", snap.Day, snap.TimeZone, d.start.Format(time.DateOnly))
	}
	fig := map[string]floor.QueueFigures{}
	for _, q := range snap.Queues {
		fig[q.Name] = q
	}
	a, b := fig["A"], fig["B"]
	counts(t, "A", a.Figures, 2, 3, 1, 1)
	near(t, "A service level", a.ServiceLevel, 1.0/4)
	near(t, "A average wait", a.AverageWaitSeconds, (10+30+90)/3.0)
	near(t, "A average handling", a.AverageHandlingSeconds, (300+600+5400)/3.0)
	if a.LongestWaitSince == nil || !a.LongestWaitSince.Equal(d.start.Add(12*time.Hour)) {
		t.Errorf("A longest wait since %v, want 12:00", a.LongestWaitSince)
	}
	counts(t, "B", b.Figures, 0, 1, 1, 1)
	near(t, "B service level", b.ServiceLevel, 1.0/2)
	near(t, "B average wait", b.AverageWaitSeconds, 50)
	near(t, "B average handling", b.AverageHandlingSeconds, 600)
	if b.LongestWaitSince != nil || len(b.ChatTimeLimits) != 2 || b.ChatTimeLimits[1] != 120 {
		t.Errorf("B: longest wait %v, limits %v", b.LongestWaitSince, b.ChatTimeLimits)
	}
	counts(t, "total", snap.Total, 2, 4, 2, 2)
	near(t, "total service level", snap.Total.ServiceLevel, 2.0/6)
	near(t, "total average wait", snap.Total.AverageWaitSeconds, (10+30+90+50)/4.0)
	near(t, "total average handling", snap.Total.AverageHandlingSeconds, (300+600+5400+600)/4.0)
	if len(snap.Waiting) != 2 || snap.Waiting[0].State != "queued" || snap.Waiting[1].State != "offered" ||
		snap.Waiting[0].Email != "carol@example.com" {
		t.Errorf("waiting %+v, want the queued one then the offered one", snap.Waiting)
	}
	// Alice has A2 open: load 1 of 3; Bob none, and idle since his status.
	var alice, bob *floor.Agent
	for i, ag := range snap.Agents {
		switch ag.ID {
		case d.staff.Alice.UserID:
			alice = &snap.Agents[i]
		case d.staff.Bob.UserID:
			bob = &snap.Agents[i]
		}
	}
	if alice == nil || bob == nil {
		t.Fatalf("agents %+v, want Alice and Bob", snap.Agents)
	}
	if alice.OpenChats != 1 || alice.Capacity != 3 || len(alice.Chats) != 1 || !alice.Chats[0].Lead ||
		!alice.Chats[0].Since.Equal(d.start.Add(10*time.Hour+30*time.Second)) || alice.IdleSince != nil {
		t.Errorf("Alice %+v", *alice)
	}
	if bob.OpenChats != 0 || len(bob.Chats) != 0 || bob.IdleLimitSeconds != 120 || alice.IdleLimitSeconds != 900 {
		t.Errorf("Bob %+v", *bob)
	}
}

// A supervisor given queue B sees B alone: its figures, its agents, its
// closed chats; Alice (in A) is not on its floor.
func TestScope(t *testing.T) {
	d := newDay(t)
	d.script(t)
	ctx := context.Background()
	sam := d.supervisor(t, "Sam", d.b)
	snap, err := d.floor.Watch(ctx, sam, nopWatcher{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Queues) != 1 || snap.Queues[0].ID != d.b.ID {
		t.Fatalf("Sam sees queues %+v, want B alone", snap.Queues)
	}
	counts(t, "Sam's total", snap.Total, 0, 1, 1, 1)
	if len(snap.Waiting) != 0 || len(snap.Agents) != 1 || snap.Agents[0].ID != d.staff.Bob.UserID {
		t.Errorf("Sam sees waiting %+v, agents %+v", snap.Waiting, snap.Agents)
	}
	if _, err := d.floor.Agent(ctx, sam, d.staff.Alice.UserID); !errors.Is(err, queues.ErrNotFound) {
		t.Errorf("Sam asks for Alice: %v, want not_found", err)
	}
	info, err := d.floor.Agent(ctx, sam, d.staff.Bob.UserID)
	if err != nil || len(info.Queues) != 1 || info.Queues[0].ID != d.b.ID {
		t.Errorf("Sam asks for Bob: %+v %v", info, err)
	}
	closed, err := d.floor.Closed(ctx, sam, "", 0)
	if err != nil || len(closed.Chats) != 2 || closed.Chats[0].QueueID != d.b.ID || closed.Chats[1].QueueID != d.b.ID {
		t.Errorf("Sam's closed today: %+v %v, want B1 and B4", closed, err)
	}
	all, err := d.floor.Closed(ctx, d.staff.Sue, "", 0)
	if err != nil || len(all.Chats) != 7 {
		t.Errorf("Sue's closed today: %d %v, want 7 (A1 A3 A4 A5 A6 B1 B4)", len(all.Chats), err)
	}
	byAgent := map[string]int{}
	for _, a := range all.Agents {
		byAgent[a.AgentName] += a.Count
	}
	if byAgent["Alice"] != 3 || byAgent["Bob"] != 1 || byAgent[""] != 3 {
		t.Errorf("Sue's closed today by agent: %+v, want Alice 3, Bob 1, nobody 3", all.Agents)
	}
	yesterday, err := d.floor.Closed(ctx, d.staff.Sue, d.start.AddDate(0, 0, -1).Format(time.DateOnly), 0)
	if err != nil || len(yesterday.Chats) != 2 {
		t.Errorf("Sue's closed yesterday: %+v %v, want B2 and B3", yesterday, err)
	}
}

// Alice's figures of today, as supervisor.agent answers them.
func TestAgentToday(t *testing.T) {
	d := newDay(t)
	d.script(t)
	ctx := context.Background()
	// Alice accepted A1, A2 and A4 today (A5 yesterday).
	for _, off := range []time.Duration{9*time.Hour + 10*time.Second, 10*time.Hour + 30*time.Second, 30 * time.Second} {
		if _, err := d.pool.Exec(ctx, `INSERT INTO offers (conversation_id, user_id, state, offered_at, deadline, ended_at)
			SELECT id, $1, 'accepted', $2, $2, $2 FROM conversations WHERE accepted_at = $2 AND queue_id = $3`,
			d.staff.Alice.UserID, d.start.Add(off), d.a.ID); err != nil {
			t.Fatal(err)
		}
	}
	info, err := d.floor.Agent(ctx, d.staff.Sue, d.staff.Alice.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Today.Answered != 3 || len(info.Chats) != 1 || info.OpenChats != 1 {
		t.Errorf("Alice today: %+v", info)
	}
	near(t, "Alice's average handling", info.Today.AverageHandlingSeconds, (300+600+5400)/3.0)
}

// Only supervisors and admins see the floor; a missing user is not found.
func TestRoles(t *testing.T) {
	d := newDay(t)
	ctx := context.Background()
	customer := chattest.Visitor("Carol", d.a.Key)
	guest := auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g1"}
	requests := map[string]func(p auth.Principal) error{
		"supervisor.floor": func(p auth.Principal) error {
			_, err := d.floor.Watch(ctx, p, nopWatcher{})
			return err
		},
		"supervisor.closed": func(p auth.Principal) error {
			_, err := d.floor.Closed(ctx, p, "", 0)
			return err
		},
		"supervisor.agent": func(p auth.Principal) error {
			_, err := d.floor.Agent(ctx, p, d.staff.Bob.UserID)
			return err
		},
	}
	for _, who := range []struct {
		name string
		p    auth.Principal
		want error
	}{
		{"customer", customer, queues.ErrForbidden},
		{"guest", guest, queues.ErrForbidden},
		{"agent", d.staff.Alice, queues.ErrForbidden},
		{"supervisor", d.staff.Sue, nil},
		{"admin", d.admin, nil},
	} {
		for typ, do := range requests {
			if err := do(who.p); (who.want == nil && err != nil) || (who.want != nil && !errors.Is(err, who.want)) {
				t.Errorf("%s %s: %v, want %v", who.name, typ, err, who.want)
			}
		}
	}
	if _, err := d.floor.Agent(ctx, d.admin, 1<<40); !errors.Is(err, queues.ErrNotFound) {
		t.Errorf("agent 2^40: %v, want not_found", err)
	}
	if _, err := d.floor.Closed(ctx, d.admin, "yesterday", 0); !errors.Is(err, queues.ErrBadInput) {
		t.Errorf("closed day yesterday: %v, want bad_request", err)
	}
}

type nopWatcher struct{}

func (nopWatcher) Send([]byte) bool      { return true }
func (nopWatcher) Done() <-chan struct{} { return nil }

// chanWatcher hands each pushed snapshot to a channel.
type chanWatcher struct {
	frames chan floor.Snapshot
	done   chan struct{}
}

func newChanWatcher() *chanWatcher {
	return &chanWatcher{frames: make(chan floor.Snapshot, 16), done: make(chan struct{})}
}

func (w *chanWatcher) Send(frame []byte) bool {
	var env struct {
		Type string         `json:"type"`
		Data floor.Snapshot `json:"data"`
	}
	if json.Unmarshal(frame, &env) != nil || env.Type != "supervisor.floor" {
		panic("not a supervisor.floor: " + string(frame))
	}
	w.frames <- env.Data
	return true
}

func (w *chanWatcher) Done() <-chan struct{} { return w.done }

// await waits at most a second and a half for a push that ok accepts.
func (w *chanWatcher) await(t *testing.T, what string, ok func(floor.Snapshot) bool) {
	t.Helper()
	deadline := time.After(1500 * time.Millisecond)
	for {
		select {
		case s := <-w.frames:
			if ok(s) {
				return
			}
		case <-deadline:
			t.Fatalf("no push within 1.5 s: %s", what)
		}
	}
}

// A change on the floor reaches a watcher within a second, on this node
// and on another (a second Floor over the same database and bus, as a
// second node has): the bus tells every node's floor.
func TestPush(t *testing.T) {
	d := newDay(t)
	ctx, cancel := context.WithCancel(context.Background())
	other := floor.New(d.pool, d.bus, d.presence, chattest.Quiet, floor.Options{})
	done := make(chan struct{}, 2)
	go func() { d.floor.Run(ctx); done <- struct{}{} }()
	go func() { other.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })

	here, there := newChanWatcher(), newChanWatcher()
	if _, err := d.floor.Watch(ctx, d.staff.Sue, here); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Watch(ctx, d.supervisor(t, "Sam", d.a), there); err != nil {
		t.Fatal(err)
	}
	waiting := func(n int) func(floor.Snapshot) bool {
		return func(s floor.Snapshot) bool { return s.Total.Waiting == n }
	}
	start := time.Now()
	id := d.chat(t, script{q: d.a, state: "queued", queued: time.Since(d.start)})
	here.await(t, "a customer waiting, here", waiting(1))
	there.await(t, "a customer waiting, on the other node", waiting(1))
	t.Logf("a new chat reached both watchers in %v", time.Since(start))

	if _, err := d.pool.Exec(ctx, `UPDATE conversations SET state = 'active', agent_id = $2, accepted_at = now()
		WHERE id = $1`, id, d.staff.Alice.UserID); err != nil {
		t.Fatal(err)
	}
	d.tell.All()
	answered := func(s floor.Snapshot) bool { return s.Total.Waiting == 0 && s.Total.Answered == 1 }
	here.await(t, "the chat answered, here", answered)
	there.await(t, "the chat answered, on the other node", answered)

	// A connection that ends leaves its group.
	close(here.done)
	close(there.done)
	deadline := time.Now().Add(2 * time.Second)
	for d.floor.Watching()+other.Watching() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("ended watchers still watch")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// While changes keep coming, a scope is read and pushed once an interval
// at most; a change the floor does not show (a message moves only
// last_seq) reads and pushes nothing.
func TestPushesAreRateLimited(t *testing.T) {
	d := newDay(t)
	const interval = 200 * time.Millisecond
	f := floor.New(d.pool, d.bus, d.presence, chattest.Quiet, floor.Options{Interval: interval})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	w := &timedWatcher{chanWatcher: newChanWatcher()}
	w.frames = make(chan floor.Snapshot, 1000)
	if _, err := f.Watch(ctx, d.staff.Sue, w); err != nil {
		t.Fatal(err)
	}
	// A chat every few milliseconds for a second: a hundred changes or more.
	var last chat.ConversationID
	n := 0
	began, reads0 := time.Now(), f.Reads()
	for ; time.Since(began) < time.Second; n++ {
		last = d.chat(t, script{q: d.a, state: "queued", queued: time.Since(d.start)})
	}
	w.await(t, "every chat waiting", func(s floor.Snapshot) bool { return s.Total.Waiting == n })
	elapsed, reads := time.Since(began), f.Reads()-reads0
	w.mu.Lock()
	pushes := len(w.sent)
	w.mu.Unlock()
	if max := int64(elapsed/interval) + 2; reads > max {
		t.Errorf("%d changes in %v read the floor %d times, want one an interval (%v) at most: %d", n, elapsed, reads,
			interval, max)
	}
	if int64(pushes) > reads+1 { // +1: a read under way when the burst began
		t.Errorf("%d pushes of %d reads", pushes, reads)
	}
	t.Logf("%d changes in %v: %d reads, %d pushes", n, elapsed, reads, pushes)

	// The floor goes quiet: the burst's last notifications may cost a read
	// after the last push (which finds nothing new and pushes nothing).
	quiet := time.Now().Add(5 * time.Second)
	for reads = f.Reads(); ; reads = f.Reads() {
		<-time.After(2 * interval)
		if f.Reads() == reads {
			break
		}
		if time.Now().After(quiet) {
			t.Fatal("the floor keeps reading after the changes stopped")
		}
	}
	for len(w.frames) > 0 {
		<-w.frames
	}
	// A message: nothing to read, nothing to push, for five intervals.
	if _, err := d.pool.Exec(ctx, `UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1`, last); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.frames:
		t.Error("a message pushed the floor")
	case <-time.After(5 * interval):
	}
	if got := f.Reads(); got != reads {
		t.Errorf("a message read the floor %d times", got-reads)
	}
}

// timedWatcher notes when each push was sent.
type timedWatcher struct {
	*chanWatcher
	mu   sync.Mutex
	sent []time.Time
}

func (w *timedWatcher) Send(frame []byte) bool {
	w.mu.Lock()
	w.sent = append(w.sent, time.Now())
	w.mu.Unlock()
	return w.chanWatcher.Send(frame)
}
