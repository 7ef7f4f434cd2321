package search

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/conversation"
	"parley/chat/queues"
	"parley/store/storetest"
)

// TestMain gives the package's tests a fresh database.
func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is a history of four conversations in two queues, Sales
// (Alice's) and Support (Bob's), and the people who search it: the
// agents Alice and Bob, the supervisor Sue (every queue), the supervisor
// Sam (given Support only), the admin Ada, a customer and a guest.
//
//	sales1   Sales,   Alice,        Jo Smith,  closed resolved, 10 days ago: parcel never arrived, private "refund approved"
//	support1 Support, Bob,          Kim Lee,   active, important, 5 days ago: printer on fire, a comment "@Bob check the toner"
//	support2 Support, Bob and Alice, Jo Brown,  closed spam,    1 day ago: parcel printer
//	sales2   Sales,   no agent,     Max Power, queued,          now: hello
type fixture struct {
	s                          *Searcher
	pool                       *pgxpool.Pool
	sales, support             queues.QueueID
	alice, bob, sue, sam, ada  auth.Principal
	customer, guest            auth.Principal
	sales1, support1, support2 conversation.ID
	sales2                     conversation.ID
	now                        time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	pool, a := chattest.DB(t)
	f := &fixture{s: New(pool), pool: pool, now: time.Now().UTC().Truncate(time.Second)}
	// The package's tests share a database: each starts from no history.
	f.exec(t, `TRUNCATE users, queues, conversations CASCADE`)
	f.alice = chattest.User(t, a, "Alice", auth.RoleAgent)
	f.bob = chattest.User(t, a, "Bob", auth.RoleAgent)
	f.sue = chattest.User(t, a, "Sue", auth.RoleSupervisor)
	f.sam = chattest.User(t, a, "Sam", auth.RoleSupervisor)
	f.ada = chattest.User(t, a, "Ada", auth.RoleAdmin)
	f.sales = f.queue(t, "Sales", f.alice)
	f.support = f.queue(t, "Support", f.bob)
	f.customer = chattest.Visitor("Jo", "sales")
	f.guest = auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g-1", Scope: "room"}
	f.exec(t, `INSERT INTO supervisor_queues (user_id, queue_id) VALUES ($1, $2)`, f.sam.UserID, f.support)

	f.sales1 = f.conv(t, conv{queue: f.sales, name: "Jo Smith", email: "jo.smith@example.com", state: "closed",
		closeStatus: "resolved", agents: []auth.Principal{f.alice}, at: f.now.AddDate(0, 0, -10)},
		ev{kind: "message", author: "customer", text: "Hello, my parcel never arrived"},
		ev{kind: "message", author: "agent", text: "Sorry to hear that, let me look"},
		ev{kind: "message", author: "agent", text: "refund approved by the team lead", private: true},
		ev{kind: "closed", author: "agent", status: "resolved"})
	f.support1 = f.conv(t, conv{queue: f.support, name: "Kim Lee", email: "kim@lee.io", state: "active",
		agents: []auth.Principal{f.bob}, at: f.now.AddDate(0, 0, -5), important: true},
		ev{kind: "message", author: "customer", text: "The printer is on fire"},
		ev{kind: "comment", author: "agent", text: "@Bob check the toner", private: true})
	f.support2 = f.conv(t, conv{queue: f.support, name: "Jo Brown", email: "brown@example.org", state: "closed",
		closeStatus: "spam", agents: []auth.Principal{f.bob, f.alice}, at: f.now.AddDate(0, 0, -1)},
		ev{kind: "message", author: "customer", text: "parcel printer for sale, cheap"},
		ev{kind: "closed", author: "agent", status: "spam"})
	f.sales2 = f.conv(t, conv{queue: f.sales, name: "Max Power", email: "", state: "queued", at: f.now},
		ev{kind: "message", author: "customer", text: "hello?"})
	return f
}

func (f *fixture) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) queue(t testing.TB, name string, members ...auth.Principal) queues.QueueID {
	t.Helper()
	var id queues.QueueID
	if err := f.pool.QueryRow(context.Background(), `INSERT INTO queues (key, name) VALUES ($1, $2) RETURNING id`,
		chattest.Unique(name), name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		f.exec(t, `INSERT INTO queue_members (queue_id, user_id) VALUES ($1, $2)`, id, m.UserID)
	}
	return id
}

type conv struct {
	queue              queues.QueueID
	name, email, state string
	closeStatus        string
	agents             []auth.Principal // the lead first
	at                 time.Time
	important          bool
}

type ev struct {
	kind, author, text, status string
	private                    bool
}

// conv stores a conversation that started at c.at, and its events a
// minute apart.
func (f *fixture) conv(t testing.TB, c conv, evs ...ev) conversation.ID {
	t.Helper()
	var lead *auth.UserID
	if len(c.agents) > 0 {
		lead = &c.agents[0].UserID
	}
	var closedAt *time.Time
	var closeStatus *string
	if c.state == "closed" {
		end := c.at.Add(time.Duration(len(evs)) * time.Minute)
		closedAt, closeStatus = &end, &c.closeStatus
	}
	var id conversation.ID
	err := f.pool.QueryRow(context.Background(), `INSERT INTO conversations (queue_id, visitor, customer_name,
		customer_email, state, agent_id, queued_at, closed_at, close_status, important, last_seq)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		c.queue, chattest.Unique("v"), c.name, c.email, c.state, lead, c.at, closedAt, closeStatus, c.important,
		len(evs)).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range c.agents {
		f.exec(t, `INSERT INTO conversation_agents (conversation_id, user_id) VALUES ($1, $2)`, id, a.UserID)
	}
	public := 0
	for i, e := range evs {
		var ps *int
		if !e.private {
			public++
			ps = &public
		}
		f.exec(t, `INSERT INTO conversation_events (conversation_id, seq, kind, author_kind, author_name, private,
			text, status, created_at, public_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			id, i+1, e.kind, e.author, e.author, e.private, e.text, e.status, c.at.Add(time.Duration(i+1)*time.Minute), ps)
	}
	return id
}

// ids are the conversations of a page, in its order.
func ids(p Page) []conversation.ID {
	out := make([]conversation.ID, len(p.Results))
	for i, r := range p.Results {
		out[i] = r.Conversation.ID
	}
	return out
}

func (f *fixture) name(id conversation.ID) string {
	switch id {
	case f.sales1:
		return "sales1"
	case f.sales2:
		return "sales2"
	case f.support1:
		return "support1"
	case f.support2:
		return "support2"
	}
	return fmt.Sprint(id)
}
