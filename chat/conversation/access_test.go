package conversation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/auth"
	"parley/chat/queues"
)

// The rule of who reads a conversation (mayRead) and what a history shows
// (historyScope, mayReadPrivate), over every role and relation.
func TestWhoReadsAConversationAndItsHistory(t *testing.T) {
	f := newWriterFixture(t)
	ctx := context.Background()
	n := fixtureSeq.Add(1)
	other, err := f.qs.Create(ctx, queues.Queue{Key: fmt.Sprintf("other-%d-%d", n, time.Now().UnixNano()%1e9), Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	var carol, admin, quinn, otto auth.Principal
	for _, u := range []struct {
		p    *auth.Principal
		name string
		role auth.Role
	}{{&carol, "Carol", auth.RoleAgent}, {&admin, "Ada", auth.RoleAdmin},
		{&quinn, "Quinn", auth.RoleSupervisor}, {&otto, "Otto", auth.RoleSupervisor}} {
		nu, err := f.svc.pool.Exec(ctx, `INSERT INTO users (username, display_name, role, password_hash)
			VALUES ($1, $2, $3, 'x')`, fmt.Sprintf("%s-%d-%d", strings.ToLower(u.name), n, time.Now().UnixNano()%1e9), u.name, u.role)
		if err != nil || nu.RowsAffected() != 1 {
			t.Fatal(err)
		}
		*u.p = auth.Principal{Kind: auth.KindUser, Role: u.role, Name: u.name}
		if err := f.svc.pool.QueryRow(ctx, `SELECT max(id) FROM users WHERE display_name = $1`, u.name).Scan(&u.p.UserID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.pool.Exec(ctx, `INSERT INTO queue_members VALUES ($1, $2)`, other.ID, carol.UserID); err != nil {
		t.Fatal(err)
	}
	// Supervisors given a queue: quinn the chats' queue, otto the other.
	if _, err := f.svc.pool.Exec(ctx, `INSERT INTO supervisor_queues VALUES ($1, $2), ($3, $4)`,
		quinn.UserID, f.q.ID, otto.UserID, other.ID); err != nil {
		t.Fatal(err)
	}
	// The visitor's earlier chat, had by alice, with a private note; then
	// its current one, offered to bob.
	vera, earlier := f.customer(t, "Vera")
	f.accept(t, earlier, f.alice)
	f.batch(t, sendCase{p: f.alice, conv: earlier, clientID: "n1", text: "alice's note", private: true})
	if err := f.svc.Close(ctx, f.alice, earlier, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.pool.Exec(ctx, `UPDATE conversations SET customer_email = 'shared@example.com' WHERE id = $1`,
		earlier); err != nil {
		t.Fatal(err)
	}
	// Before it, another visitor of the other queue, with the same e-mail.
	wendy := auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "wendy-" + fmt.Sprint(n), Scope: other.Key}
	if _, _, err := f.svc.Start(ctx, wendy, StartInput{Name: "Wendy", Email: "shared@example.com"}); err != nil {
		t.Fatal(err)
	}
	current, _, err := f.svc.Start(ctx, vera, StartInput{Name: "Vera", Email: "shared@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	f.offer(t, current.ID, f.bob.UserID)
	stranger := vera
	stranger.Subject = "someone-else"
	otherScope := vera
	otherScope.Scope = other.Key
	guest := auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g", Scope: "room"}

	type want struct {
		read    bool
		history string // "" forbidden; else which earlier rows it shows
	}
	for _, tc := range []struct {
		name string
		p    auth.Principal
		want want
	}{
		{"the conversation's customer", vera, want{true, ""}},
		{"another visitor", stranger, want{false, ""}},
		{"the same subject in another queue", otherScope, want{false, ""}},
		{"an agent it is offered to", f.bob, want{true, "public"}},
		{"the agent who had the earlier chat, not offered this one", f.alice, want{false, ""}},
		{"an agent of another queue", carol, want{false, ""}},
		{"a supervisor", f.sup, want{true, "all"}},
		{"a supervisor given its queue", quinn, want{true, "all"}},
		{"a supervisor given another queue", otto, want{false, ""}},
		{"an admin", admin, want{true, "all"}},
		{"a guest", guest, want{false, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Get(ctx, f.svc.pool, current.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.svc.mayRead(ctx, tc.p, c) == nil; got != tc.want.read {
				t.Errorf("mayRead %v, want %v", got, tc.want.read)
			}
			h, _, err := f.svc.History(ctx, tc.p, current.ID, 0, 0)
			got := ""
			switch {
			case err != nil && (errors.Is(err, queues.ErrNotFound) || errors.Is(err, queues.ErrForbidden)):
			case err != nil:
				t.Fatal(err)
			case len(h) != 1 || h[0].Conversation.ID != earlier:
				t.Fatalf("history %+v, want only the earlier chat of the same visitor", h)
			default:
				got = "public"
				for _, ev := range h[0].Events {
					if ev.Private && ev.Text == "alice's note" {
						got = "all"
					}
				}
			}
			if got != tc.want.history {
				t.Errorf("history shows %q, want %q", got, tc.want.history)
			}
		})
	}
}

// The access rule over every role and relation, in every state of a chat:
// Decide on the relation, the loader and Decide on the stored chat, and
// the writer's statement (readSQL) on the same chat must all agree with
// the table.
func TestOneAccessRuleInGoAndInTheWritersSQL(t *testing.T) {
	f := newWriterFixture(t)
	ctx := context.Background()
	n := fixtureSeq.Add(1)
	newUser := func(name string, role auth.Role) auth.Principal {
		p := auth.Principal{Kind: auth.KindUser, Role: role, Name: name}
		if err := f.svc.pool.QueryRow(ctx, `INSERT INTO users (username, display_name, role, password_hash)
			VALUES ($1, $2, $3, 'x') RETURNING id`, fmt.Sprintf("%s-%d-%d", strings.ToLower(name), n, time.Now().UnixNano()%1e9),
			name, role).Scan(&p.UserID); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dave, carol, admin := newUser("Dave", auth.RoleAgent), newUser("Carol", auth.RoleAgent), newUser("Ada", auth.RoleAdmin)
	if _, err := f.svc.pool.Exec(ctx, `INSERT INTO queue_members VALUES ($1, $2)`, f.q.ID, dave.UserID); err != nil {
		t.Fatal(err)
	}
	// Supervisors an admin gave queues: quinn the chats' queue, otto
	// another one, carol's.
	other, err := f.qs.Create(ctx, queues.Queue{Key: fmt.Sprintf("other-%d-%d", n, time.Now().UnixNano()%1e9), Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	quinn, otto := newUser("Quinn", auth.RoleSupervisor), newUser("Otto", auth.RoleSupervisor)
	if _, err := f.svc.pool.Exec(ctx, `WITH m AS (INSERT INTO queue_members VALUES ($1, $2))
		INSERT INTO supervisor_queues VALUES ($3, $4), ($5, $1)`,
		other.ID, carol.UserID, quinn.UserID, f.q.ID, otto.UserID); err != nil {
		t.Fatal(err)
	}
	wendy, _ := f.customer(t, "Wendy") // a visitor with a conversation of her own
	guest := auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g", Scope: "room"}
	members := []auth.UserID{f.alice.UserID, f.bob.UserID, dave.UserID}

	// One chat in each state: alice is its agent once accepted; before,
	// bob has its offer.
	type chat struct {
		customer auth.Principal
		id       ID
		rel      Relation
	}
	chats := map[string]chat{}
	states := []string{"queued", "offered", "active", "shared", "transferred", "wrap-up", "closed", "requeued"}
	for _, state := range states {
		p, id := f.customer(t, "Vera")
		rel := Relation{Visitor: p.Subject, QueueKey: f.q.Key, Members: members, State: StateQueued,
			Supervisors: []auth.UserID{f.sup.UserID, quinn.UserID}}
		if state == "offered" {
			f.offer(t, id, f.bob.UserID)
			rel.Offered, rel.State = []auth.UserID{f.bob.UserID}, StateOffered
		}
		if state != "queued" && state != "offered" && state != "requeued" {
			f.accept(t, id, f.alice)
			rel.Agents, rel.State = []auth.UserID{f.alice.UserID}, StateActive
		}
		switch state {
		case "shared": // carol, of another queue, was invited and joined
			f.join(t, id, carol, false)
			rel.Agents = []auth.UserID{f.alice.UserID, carol.UserID}
		case "transferred": // alice handed it to carol
			f.join(t, id, carol, true)
			rel.Agents = []auth.UserID{carol.UserID}
		case "wrap-up":
			if err := f.svc.Close(ctx, p, id, ""); err != nil { // the customer ends it: alice owes a status
				t.Fatal(err)
			}
			rel.State = StateClosed
		case "closed":
			if err := f.svc.Close(ctx, f.alice, id, ""); err != nil {
				t.Fatal(err)
			}
			rel.State = StateClosed
		case "requeued": // moved to carol's queue, as a transfer to it does
			if _, err := f.svc.pool.Exec(ctx, `UPDATE conversations SET origin_queue_id = queue_id, queue_id = $2
				WHERE id = $1`, id, other.ID); err != nil {
				t.Fatal(err)
			}
			rel.Members, rel.Supervisors = []auth.UserID{carol.UserID}, []auth.UserID{f.sup.UserID, otto.UserID}
		}
		chats[state] = chat{p, id, rel}
	}

	// want: r read, w write, p private rows, t take, c close; then the
	// room role: - none, C customer, A agent, W watch.
	everyState := func(w string) map[string]string {
		m := map[string]string{}
		for _, s := range states {
			m[s] = w
		}
		return m
	}
	// with is m with the states in pairs changed.
	with := func(m map[string]string, pairs ...string) map[string]string {
		for i := 0; i < len(pairs); i += 2 {
			m[pairs[i]] = pairs[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		who  string
		p    func(chat) auth.Principal
		want map[string]string
	}{
		{"its customer", func(c chat) auth.Principal { return c.customer },
			with(everyState("rw--c C"), "wrap-up", "r---c C", "closed", "r---c C")},
		{"the visitor of another conversation", func(chat) auth.Principal { return wendy }, everyState("----- -")},
		{"its (first) agent", func(chat) auth.Principal { return f.alice },
			map[string]string{"queued": "---t- -", "offered": "---t- -", "active": "rwptc A", "shared": "rwptc A",
				"transferred": "---t- -", "wrap-up": "r-ptc A", "closed": "r-ptc A", "requeued": "----- -"}},
		{"the agent it is offered to", func(chat) auth.Principal { return f.bob },
			with(everyState("---t- -"), "offered", "rwpt- -", "requeued", "----- -")},
		{"an agent of its queue", func(chat) auth.Principal { return dave }, with(everyState("---t- -"), "requeued", "----- -")},
		{"an agent of another queue who joined it", func(chat) auth.Principal { return carol },
			with(everyState("----- -"), "shared", "rwp-c A", "transferred", "rwp-c A", "requeued", "---t- -")},
		{"a supervisor", func(chat) auth.Principal { return f.sup },
			with(everyState("rwp-c W"), "wrap-up", "r-p-c W", "closed", "r-p-c W")},
		{"a supervisor given its queue", func(chat) auth.Principal { return quinn },
			with(everyState("rwp-c W"), "wrap-up", "r-p-c W", "closed", "r-p-c W", "requeued", "----- -")},
		{"a supervisor given another queue", func(chat) auth.Principal { return otto },
			with(everyState("----- -"), "requeued", "rwp-c W")},
		{"an admin", func(chat) auth.Principal { return admin },
			with(everyState("rwp-c W"), "wrap-up", "r-p-c W", "closed", "r-p-c W")},
		{"a guest", func(chat) auth.Principal { return guest }, everyState("----- -")},
	} {
		for _, state := range states {
			t.Run(tc.who+" of a chat "+state, func(t *testing.T) {
				c := chats[state]
				p := tc.p(c)
				want := tc.want[state]
				if got := accessString(Decide(p, c.rel)); got != want {
					t.Errorf("Decide: %s, want %s", got, want)
				}
				// The loader reads the stored chat's facts (all but Members:
				// only Accept asks about its queue).
				stored, err := Get(ctx, f.svc.pool, c.id, false)
				if err != nil {
					t.Fatal(err)
				}
				a, err := f.svc.access(ctx, p, stored)
				if (err == nil) != a.Read || (err != nil && !errors.Is(err, queues.ErrNotFound)) {
					t.Fatalf("access: %+v, %v", a, err)
				}
				a.Take = Decide(p, c.rel).Take
				if got := accessString(a); got != want {
					t.Errorf("the stored chat: %s, want %s", got, want)
				}
				// The writer's statement: not_found unless read, conflict
				// unless written, else stored.
				r, err := newSendReq(f.sup, SendInput{ConversationID: c.id, ClientID: fmt.Sprintf("rule-%d", n), Text: "hi"})
				if err != nil {
					t.Fatal(err)
				}
				r.p, r.as, r.ev.Author.key = p, sendAs(p), p.Key()
				if r.as == sendAsCustomer {
					r.ev.Author.Kind = "customer"
				}
				n++
				w := newBatchWriter(f.svc.pool, 1)
				defer w.release()
				f.svc.commit(ctx, w, []*sendReq{r})
				got, wantSQL := outcome(r), "stored"
				if r.err == nil && !r.res.Duplicate {
					got = "stored"
				}
				switch {
				case want[0] != 'r':
					wantSQL = "not_found"
				case want[1] != 'w':
					wantSQL = "conflict"
				}
				if got != wantSQL {
					t.Errorf("the writer's statement: %s, want %s", got, wantSQL)
				}
				// The position statement lists the chat to its readers only.
				ps, err := f.svc.Positions(ctx, p, []ID{c.id})
				if err != nil {
					t.Fatal(err)
				}
				if listed := len(ps) == 1 && ps[0].ConversationID == c.id; listed != (want[0] == 'r') {
					t.Errorf("chat.position lists it: %v, want %v", listed, want[0] == 'r')
				}
			})
		}
	}
}

// accessString is an Access as the table above writes it.
func accessString(a Access) string {
	b := []byte("----- -")
	for i, on := range []bool{a.Read, a.Write, a.ReadPrivate, a.Take, a.Close} {
		if on {
			b[i] = "rwptc"[i]
		}
	}
	b[6] = "-CAW"[a.Room]
	return string(b)
}
