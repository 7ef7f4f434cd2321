package routing

import (
	"context"
	"testing"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
	"parley/chat/conversation"
	"parley/chat/queues"
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
	floor           *conversation.FloorNotifier // tells the floor on bus, as the chat service's does
	q               queues.Queue
	alice, bob, sup auth.Principal
}

func newFixture(t *testing.T, opt ...Options) *fixture {
	t.Helper()
	pool, a := chattest.DB(t)
	staff := chattest.NewStaff(t, a)
	mb := bus.NewMemory()
	qs := queues.New(pool, queues.NewLocalCache())
	o := append(opt, Options{})[0]
	if o.Presence == nil {
		o.Presence = conversation.NewLocalPresence()
	}
	floor := conversation.NewFloorNotifier(mb, chattest.Quiet, 0)
	conv := conversation.New(pool, mb, chattest.Quiet, qs, conversation.Options{Presence: o.Presence, Floor: floor})
	f := &fixture{svc: New(pool, chattest.Quiet, qs, conv, o), conv: conv, qs: qs, bus: mb, floor: floor,
		alice: staff.Alice, bob: staff.Bob, sup: staff.Sue}
	var err error
	f.q, err = f.qs.Create(context.Background(), queues.Queue{Key: chattest.Unique("routing"), Name: "Routing"},
		f.alice.UserID, f.bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// customer starts a chat as a new visitor.
func (f *fixture) customer(t *testing.T, name string) (auth.Principal, conversation.ID) {
	t.Helper()
	p := chattest.Visitor(name, f.q.Key)
	c, _, err := f.conv.Start(context.Background(), p, conversation.StartInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return p, c.ID
}

// connect counts a connection of p, as the websocket surface does.
func (f *fixture) connect(p auth.Principal) { f.svc.presence.Add(p.Key(), 1) }
