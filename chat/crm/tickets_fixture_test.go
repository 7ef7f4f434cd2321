package crm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
	"parley/chat/queues"
	"parley/mail"
	"parley/store"
	"parley/store/storetest"
)

// TestMain gives the package's tests a fresh database.
func TestMain(m *testing.M) { storetest.Main(m) }

// ticketFixture is two queues, Sales (Alice's) and Support (Bob's), and
// the people who work their tickets: the agents Alice, Bob and Carl (of
// no queue), the supervisor Sue (every queue), the supervisor Sam (given
// Support only), the admin Ada, a customer and a guest. Its bus records
// every ticket.changed each user is told.
type ticketFixture struct {
	tk               *Tickets
	pool             *pgxpool.Pool
	bus              *bus.MemoryBus
	sales, support   queues.QueueID
	ada, sue, sam    auth.Principal
	alice, bob, carl auth.Principal
	customer, guest  auth.Principal
	told             *changes
}

func newTicketFixture(t testing.TB) *ticketFixture {
	t.Helper()
	pool, a := chattest.DB(t)
	if err := store.Migrate(context.Background(), pool, mail.Migrations); err != nil {
		t.Fatal(err)
	}
	b := bus.NewMemory()
	f := &ticketFixture{tk: NewTickets(pool, b, slog.New(slog.DiscardHandler)), pool: pool, bus: b}
	f.ada = chattest.User(t, a, "Ada", auth.RoleAdmin)
	f.sue = chattest.User(t, a, "Sue", auth.RoleSupervisor)
	f.sam = chattest.User(t, a, "Sam", auth.RoleSupervisor)
	f.alice = chattest.User(t, a, "Alice", auth.RoleAgent)
	f.bob = chattest.User(t, a, "Bob", auth.RoleAgent)
	f.carl = chattest.User(t, a, "Carl", auth.RoleAgent)
	f.sales = f.queue(t, "Sales", f.alice)
	f.support = f.queue(t, "Support", f.bob)
	f.exec(t, `INSERT INTO supervisor_queues (user_id, queue_id) VALUES ($1, $2)`, f.sam.UserID, f.support)
	f.customer = chattest.Visitor("Vera", "sales")
	f.guest = auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g-1", Scope: "room"}
	f.told = &changes{got: map[auth.UserID][]Ticket{}, wake: make(chan struct{})}
	for _, p := range f.staff() {
		f.told.listen(t, b, p.UserID)
	}
	return f
}

// staff are the fixture's users.
func (f *ticketFixture) staff() []auth.Principal {
	return []auth.Principal{f.ada, f.sue, f.sam, f.alice, f.bob, f.carl}
}

func (f *ticketFixture) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func (f *ticketFixture) queue(t testing.TB, name string, members ...auth.Principal) queues.QueueID {
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

// ticket makes an unassigned ticket of queue by hand, as Ada, with an
// address to reply to.
func (f *ticketFixture) ticket(t testing.TB, queue queues.QueueID, title string) Ticket {
	t.Helper()
	tk, err := f.tk.Create(context.Background(), f.ada, CreateInput{QueueID: queue, Title: title, Email: "vera@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// assignedTo makes a ticket of queue assigned to user, written straight
// to the table: user need not be a member of queue (one who left it
// still sees the tickets assigned to them).
func (f *ticketFixture) assignedTo(t testing.TB, queue queues.QueueID, user auth.Principal, title string) Ticket {
	t.Helper()
	tk := f.ticket(t, queue, title)
	f.exec(t, `UPDATE tickets SET assignee_id = $2, state = 'assigned' WHERE id = $1`, tk.ID, user.UserID)
	tk.Assignee, tk.State = &Ref{int64(user.UserID), user.Name}, StateAssigned
	return tk
}

// changes records the ticket.changed each user is told.
type changes struct {
	mu   sync.Mutex
	got  map[auth.UserID][]Ticket
	wake chan struct{} // closed and replaced at each one
}

func (c *changes) listen(t testing.TB, b bus.Bus, user auth.UserID) {
	t.Helper()
	key := auth.Principal{Kind: auth.KindUser, UserID: user}.Key()
	unsub, err := b.Subscribe(bus.PrincipalSubject(key), func(frame []byte) {
		var env struct {
			Type string `json:"type"`
			Data struct {
				Ticket Ticket `json:"ticket"`
			} `json:"data"`
		}
		if json.Unmarshal(frame, &env) != nil || env.Type != ChangedType {
			return
		}
		c.mu.Lock()
		c.got[user] = append(c.got[user], env.Data.Ticket)
		close(c.wake)
		c.wake = make(chan struct{})
		c.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
}

// of are the changes user was told of ticket id.
func (c *changes) of(user auth.UserID, id TicketID) []Ticket {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Ticket
	for _, t := range c.got[user] {
		if t.ID == id {
			out = append(out, t)
		}
	}
	return out
}

// waitFor waits until user was told n changes of ticket id, or fails.
func (c *changes) waitFor(t testing.TB, user auth.UserID, id TicketID, n int) []Ticket {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		wake := c.wake
		c.mu.Unlock()
		if got := c.of(user, id); len(got) >= n {
			return got
		}
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("user %d was told %d changes of ticket %d, want %d", user, len(c.of(user, id)), id, n)
		}
	}
}

// codeOf is the wire code of err, "" for nil.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return c.Code()
	}
	return "internal: " + err.Error()
}
