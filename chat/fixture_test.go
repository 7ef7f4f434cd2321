package chat

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
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
}

func newFixture(t *testing.T, opt ...Options) *fixture {
	t.Helper()
	pool, a := chattest.DB(t)
	staff := chattest.NewStaff(t, a)
	mb := bus.NewMemory()
	f := &fixture{svc: New(pool, mb, chattest.Quiet, append(opt, Options{})[0]), pool: pool, bus: mb,
		alice: staff.Alice, bob: staff.Bob, sup: staff.Sue}
	var err error
	f.q, err = f.svc.CreateQueue(context.Background(), Queue{Key: chattest.Unique("chat"), Name: "Writer"},
		f.alice.UserID, f.bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// customer starts a chat as a new visitor.
func (f *fixture) customer(t *testing.T, name string) (auth.Principal, ConversationID) {
	t.Helper()
	p := chattest.Visitor(name, f.q.Key)
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
