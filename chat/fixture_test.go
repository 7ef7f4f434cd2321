package chat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/store/storetest"
)

// TestMain gives the package's tests and benchmarks a fresh database.
func TestMain(m *testing.M) { storetest.Main(m) }

// fixture is a chat service (not running: the tests drive its router)
// with a queue, two agents, a supervisor and customers.
type fixture struct {
	svc             *Service
	pool            *pgxpool.Pool
	bus             *bus.MemoryBus
	q               Queue
	alice, bob, sup auth.Principal
	customers       int
}

var fixtureSeq atomic.Int64

func newFixture(t *testing.T, opt ...Options) *fixture {
	t.Helper()
	pool := storetest.Pool(t, auth.Migrations, Migrations)
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
	f := &fixture{svc: New(pool, mb, slog.New(slog.NewTextHandler(io.Discard, nil)), append(opt, Options{})[0]), pool: pool, bus: mb,
		alice: user("Alice", auth.RoleAgent), bob: user("Bob", auth.RoleAgent), sup: user("Sue", auth.RoleSupervisor)}
	f.q, err = f.svc.CreateQueue(ctx, Queue{Key: fmt.Sprintf("chat-%d-%d", n, time.Now().UnixNano()%1e9), Name: "Writer"},
		f.alice.UserID, f.bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// customer starts a chat as a new visitor.
func (f *fixture) customer(t *testing.T, name string) (auth.Principal, ConversationID) {
	t.Helper()
	f.customers++
	p := auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: fmt.Sprintf("v-%s-%d", name, f.customers),
		Scope: f.q.Key}
	c, _, err := f.svc.Start(context.Background(), p, StartInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return p, c.ID
}

// run runs the service, so Send works.
func (f *fixture) run(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.svc.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
}

// set changes the database behind the service, and forgets the fixture's
// queue's cached settings.
func (f *fixture) set(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
	f.svc.queues.Forget(f.q.ID)
}

// status is p's agent state.
func (f *fixture) status(t *testing.T, p auth.Principal) AgentState {
	t.Helper()
	st, err := f.svc.State(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
