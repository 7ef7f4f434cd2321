package routing

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/chat/conversation"
	"parley/chat/queues"
	"parley/chat/schema"
	"parley/store/storetest"
)

// TestMain gives the package's tests and benchmarks a fresh database.
func TestMain(m *testing.M) { storetest.Main(m) }

// fixture is a router over a conversation log (neither running: the
// tests drive the router) with a queue, two agents, a supervisor and
// customers.
type fixture struct {
	svc             *Router
	conv            *conversation.Log
	qs              *queues.Store
	bus             *bus.MemoryBus
	q               queues.Queue
	alice, bob, sup auth.Principal
	customers       int
}

var fixtureSeq atomic.Int64

func newFixture(t *testing.T, opt ...Options) *fixture {
	t.Helper()
	pool := storetest.Pool(t, auth.Migrations, schema.Migrations)
	ctx := context.Background()
	a, err := auth.NewService(ctx, pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	n := fixtureSeq.Add(1)
	user := func(name string, role auth.Role) auth.Principal {
		u, err := a.CreateUser(ctx, auth.NewUser{Username: fmt.Sprintf("%s-%d-%d", name, n, time.Now().UnixNano()%1e9),
			Name: name, Role: role, Password: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		return auth.Principal{Kind: auth.KindUser, Role: role, UserID: u.ID, Name: name}
	}
	mb := bus.NewMemory()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	qs := queues.New(pool, queues.NewLocalCache())
	o := append(opt, Options{})[0]
	if o.Presence == nil {
		o.Presence = conversation.NewLocalPresence()
	}
	conv := conversation.New(pool, mb, quiet, qs, conversation.Options{Presence: o.Presence})
	f := &fixture{svc: New(pool, quiet, qs, conv, o), conv: conv, qs: qs, bus: mb,
		alice: user("Alice", auth.RoleAgent), bob: user("Bob", auth.RoleAgent), sup: user("Sue", auth.RoleSupervisor)}
	f.q, err = f.qs.Create(ctx, queues.Queue{Key: fmt.Sprintf("chat-%d-%d", n, time.Now().UnixNano()%1e9), Name: "Writer"},
		f.alice.UserID, f.bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// customer starts a chat as a new visitor.
func (f *fixture) customer(t *testing.T, name string) (auth.Principal, conversation.ID) {
	t.Helper()
	f.customers++
	p := auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: fmt.Sprintf("v-%s-%d", name, f.customers),
		Scope: f.q.Key}
	c, _, err := f.conv.Start(context.Background(), p, conversation.StartInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return p, c.ID
}

// connect counts a connection of p, as the websocket surface does.
func (f *fixture) connect(p auth.Principal) { f.svc.presence.Add(p.Key(), 1) }
