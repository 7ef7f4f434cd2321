package signaling_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/signaling"
	"parley/signaling/client"
	"parley/staff"
	"parley/store/storetest"
)

// staffEnv is a hub with the chat and staff requests, on a database of
// its own, with an agent, a supervisor and an admin, and a queue for a
// customer.
type staffEnv struct {
	*env
	admin auth.Session
	queue chat.Queue
	chat  *chat.Service
}

func newStaffEnv(t *testing.T) *staffEnv {
	t.Helper()
	pool := storetest.Pool(t, auth.Migrations, chat.Migrations, staff.Migrations)
	a, err := auth.NewService(context.Background(), pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{bus: bus.NewMemory(), router: signaling.NewRouter(), auth: a}
	e.hub = signaling.NewHub(signaling.DefaultConfig(), e.bus, e.router, quiet, nil)
	svc := chat.New(pool, e.bus, quiet, chat.Options{})
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); svc.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-ran })
	signaling.RegisterChat(e.router, e.hub, svc)
	signaling.RegisterStaff(e.router, svc, staff.New(pool, e.bus, quiet))
	e.srv = httptest.NewServer(signaling.NewEndpoint(e.hub, a, nil, nil))
	t.Cleanup(e.srv.Close)
	e.url = "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws"
	e.agent = e.login(t, "agent-"+t.Name(), auth.RoleAgent)
	e.super = e.login(t, "super-"+t.Name(), auth.RoleSupervisor)
	admin := e.login(t, "admin-"+t.Name(), auth.RoleAdmin)
	key := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	q, err := svc.CreateQueue(context.Background(), chat.Queue{Key: key, Name: "Support"}, e.agent.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &staffEnv{env: e, admin: admin, queue: q, chat: svc}
}

// Who may send which staff.* request, as a table over the wire: customers
// and guests are refused every one; agents, supervisors and admins use
// them all.
func TestStaffRequestsByRole(t *testing.T) {
	e := newStaffEnv(t)
	visitor, _, err := e.auth.IssueVisitor(e.queue.Key, "", "Vera", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	guest, _, err := e.auth.IssueGuest("room-1", "Gus", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dial := func(token string) *client.Client {
		c, _, err := client.Connect(ctxT(t), e.url, client.Options{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	callers := []struct {
		role   string
		conn   *client.Client
		self   auth.UserID
		allows bool
	}{
		{"customer", dial(visitor), 0, false},
		{"guest", dial(guest), 0, false},
		{"agent", e.connect(t, e.agent), e.agent.User.ID, true},
		{"supervisor", e.connect(t, e.super), e.super.User.ID, true},
		{"admin", e.connect(t, e.admin), e.admin.User.ID, true},
	}
	for _, c := range callers {
		// Each writes to someone other than itself.
		to := e.super.User.ID
		if c.self == to {
			to = e.agent.User.ID
		}
		for _, r := range []struct {
			typ  string
			data any
		}{
			{"staff.directory", nil},
			{"staff.threads", nil},
			{"staff.send", map[string]any{"user_id": to, "client_id": "c-" + c.role, "text": "Hello"}},
			{"staff.resume", map[string]any{"user_id": to, "after_seq": 0}},
			{"staff.read", map[string]any{"user_id": to, "seq": 1}},
		} {
			t.Run(c.role+"/"+r.typ, func(t *testing.T) {
				_, err := c.conn.Request(ctxT(t), r.typ, r.data)
				switch {
				case c.allows && err != nil:
					t.Fatalf("refused: %v", err)
				case !c.allows && wireCode(err) != "forbidden":
					t.Fatalf("got %v, want forbidden", err)
				}
			})
		}
	}
}

// A message reaches every tab of both users; a read mark set in one tab
// reaches the others; a tab that was away resumes after the last seq it
// showed and gets what it missed.
func TestStaffMessagesReachEveryTabOfBothUsers(t *testing.T) {
	e := newStaffEnv(t)
	sue1, sue2 := e.connect(t, e.super), e.connect(t, e.super)
	al1, al2 := e.connect(t, e.agent), e.connect(t, e.agent)
	raw, err := sue1.Request(ctxT(t), "staff.send", map[string]any{"user_id": e.agent.User.ID, "client_id": "s1", "text": "Can you take a look at chat 42?"})
	if err != nil {
		t.Fatal(err)
	}
	var sent staff.SendResult
	decode(t, raw, &sent)
	for name, c := range map[string]*client.Client{"Sue's tab 1": sue1, "Sue's tab 2": sue2, "Alice's tab 1": al1, "Alice's tab 2": al2} {
		var m staff.MessageEvent
		decode(t, nextEvent(t, c, "staff.message").Data, &m)
		if m.Seq != sent.Seq || m.ThreadID != sent.ThreadID || m.Text != "Can you take a look at chat 42?" || m.Author.ID != e.super.User.ID {
			t.Fatalf("%s got %+v", name, m)
		}
		wantWith := e.agent.User.ID
		if strings.HasPrefix(name, "Alice") {
			wantWith = e.super.User.ID
		}
		if m.With.ID != wantWith {
			t.Fatalf("%s: the thread is with %d, want %d", name, m.With.ID, wantWith)
		}
	}
	if _, err := al1.Request(ctxT(t), "staff.read", map[string]any{"thread_id": sent.ThreadID, "seq": sent.Seq}); err != nil {
		t.Fatal(err)
	}
	var read staff.ReadEvent
	decode(t, nextEvent(t, al2, "staff.read").Data, &read)
	if read.Unread != 0 || read.ReadSeq != sent.Seq || read.With != e.super.User.ID {
		t.Fatalf("Alice's other tab got %+v", read)
	}

	// Alice's second tab goes away; Sue writes twice; a new tab resumes
	// after the seq it had shown.
	al2.Close()
	for _, id := range []string{"s2", "s3"} {
		if _, err := sue2.Request(ctxT(t), "staff.send", map[string]any{"user_id": e.agent.User.ID, "client_id": id, "text": "and " + id}); err != nil {
			t.Fatal(err)
		}
	}
	al3 := e.connect(t, e.agent)
	raw, err = al3.Request(ctxT(t), "staff.resume", map[string]any{"user_id": e.super.User.ID, "after_seq": sent.Seq})
	if err != nil {
		t.Fatal(err)
	}
	var resumed struct {
		Thread   staff.Thread    `json:"thread"`
		Messages []staff.Message `json:"messages"`
	}
	decode(t, raw, &resumed)
	if len(resumed.Messages) != 2 || resumed.Messages[0].Seq != 2 || resumed.Messages[1].ClientID != "s3" || resumed.Thread.Unread != 2 {
		t.Fatalf("resumed %+v", resumed)
	}
	raw, err = al3.Request(ctxT(t), "staff.threads", nil)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Threads []staff.Thread `json:"threads"`
	}
	decode(t, raw, &list)
	if len(list.Threads) != 1 || list.Threads[0].Unread != 2 || list.Threads[0].With.ID != e.super.User.ID || list.Threads[0].Last.ClientID != "s3" {
		t.Fatalf("threads %+v", list.Threads)
	}
	// A resend after a lost answer: the first's seq, and duplicate.
	raw, err = sue1.Request(ctxT(t), "staff.send", map[string]any{"user_id": e.agent.User.ID, "client_id": "s3", "text": "and s3"})
	if err != nil {
		t.Fatal(err)
	}
	var again staff.SendResult
	decode(t, raw, &again)
	if !again.Duplicate || again.Seq != 3 {
		t.Fatalf("resend answered %+v", again)
	}
	// Too long is refused over the wire with its code.
	_, err = sue1.Request(ctxT(t), "staff.send", map[string]any{"user_id": e.agent.User.ID, "client_id": "s4", "text": strings.Repeat("x", 4001)})
	if wireCode(err) != "too_long" {
		t.Fatalf("4001 characters: %v", err)
	}
}

// The directory lists everyone but the asker with status and whether
// they are connected, and its staff.presence events follow both.
func TestTheDirectoryFollowsStatusAndConnections(t *testing.T) {
	e := newStaffEnv(t)
	sue := e.connect(t, e.super)
	raw, err := sue.Request(ctxT(t), "staff.directory", nil)
	if err != nil {
		t.Fatal(err)
	}
	var dir struct {
		Users []chat.Colleague `json:"users"`
	}
	decode(t, raw, &dir)
	var alice *chat.Colleague
	for i, u := range dir.Users {
		if u.ID == e.super.User.ID {
			t.Fatalf("the directory lists the asker: %+v", dir.Users)
		}
		if u.ID == e.agent.User.ID {
			alice = &dir.Users[i]
		}
	}
	if alice == nil || alice.Online || alice.Status != "available" || alice.Role != auth.RoleAgent {
		t.Fatalf("Alice in the directory: %+v", alice)
	}

	presence := func(want func(chat.StaffPresence) bool, what string) {
		t.Helper()
		waitPresence(t, sue, e.agent.User.ID, want, "Alice "+what)
	}
	al := e.connect(t, e.agent)
	presence(func(p chat.StaffPresence) bool { return p.Online && p.Status == "available" }, "is online")
	if _, err := al.Request(ctxT(t), "agent.status", map[string]any{"status": "paused", "reason": "Lunch"}); err != nil {
		t.Fatal(err)
	}
	presence(func(p chat.StaffPresence) bool { return p.Online && p.Status == "paused" && p.Reason == "Lunch" }, "paused for lunch")
	raw, err = sue.Request(ctxT(t), "staff.directory", nil)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, raw, &dir)
	for _, u := range dir.Users {
		if u.ID == e.agent.User.ID && (!u.Online || u.Status != "paused" || u.Reason != "Lunch") {
			t.Fatalf("Alice in the directory now: %+v", u)
		}
	}
	al.Close()
	presence(func(p chat.StaffPresence) bool { return !p.Online && p.Status == "paused" }, "went offline")
}

// waitPresence waits on c for a staff.presence of user that want accepts.
func waitPresence(t *testing.T, c *client.Client, user auth.UserID, want func(chat.StaffPresence) bool, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatal("the connection ended")
			}
			if ev.Type != "staff.presence" {
				continue
			}
			var p chat.StaffPresence
			if err := json.Unmarshal(ev.Data, &p); err != nil {
				t.Fatal(err)
			}
			if p.UserID == user && want(p) {
				return
			}
		case <-deadline:
			t.Fatalf("no staff.presence saying %s within 10s", what)
		}
	}
}

// An agent the router pauses for letting offers run out shows as paused
// in the directory at once.
func TestTheDirectoryShowsAnAgentPausedForMissedOffers(t *testing.T) {
	e := newStaffEnv(t)
	q, err := e.chat.CreateQueue(ctxT(t), chat.Queue{Key: e.queue.Key + "-fast", Name: "Fast", AnswerSeconds: 1}, e.agent.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	sue := e.connect(t, e.super)
	if _, err := sue.Request(ctxT(t), "staff.directory", nil); err != nil {
		t.Fatal(err)
	}
	e.connect(t, e.agent)
	for _, name := range []string{"Vera", "Walt"} {
		tok, _, err := e.auth.IssueVisitor(q.Key, "", name, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := client.Connect(ctxT(t), e.url, client.Options{Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Request(ctxT(t), "chat.start", map[string]any{"name": name}); err != nil {
			t.Fatal(err)
		}
	}
	waitPresence(t, sue, e.agent.User.ID, func(p chat.StaffPresence) bool { return p.Status == "paused" && p.Reason == "missed offer" },
		"Alice paused for missed offers")
}
