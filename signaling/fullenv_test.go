package signaling_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/conference"
	"parley/rooms"
	"parley/sfu"
	"parley/signaling"
	"parley/signaling/client"
	"parley/store/storetest"
)

// queues numbers the test queues: a test run twice (-count) needs new keys.
var queues atomic.Int64

// fullEnv is a hub with every request type of the server registered (the
// chat, the rooms), on a database reached through a storetest.Proxy that can hang.
type fullEnv struct {
	*env
	proxy *storetest.Proxy
	chat  *chat.Service
	queue chat.Queue
	reg   *prometheus.Registry
}

func newFullEnv(t *testing.T, cfg signaling.Config) *fullEnv {
	t.Helper()
	proxy := storetest.NewProxy(t)
	pool := storetest.PoolAt(t, proxy.URL(), auth.Migrations, conference.Migrations, chat.Migrations)
	ctx := context.Background()
	a, err := auth.NewService(ctx, pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	media, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, TURNPort: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { media.Close() })
	e := &env{bus: bus.NewMemory(), router: signaling.NewRouter(), auth: a}
	reg := prometheus.NewRegistry()
	e.hub = signaling.NewHub(cfg, e.bus, e.router, quiet, reg)
	svc := chat.New(pool, e.bus, quiet, chat.Options{})
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); svc.Run(runCtx) }()
	t.Cleanup(func() { proxy.Restore(); stop(); <-ran })
	signaling.RegisterChat(e.router, e.hub, svc)
	conf := conference.New(pool, media, e.bus, a, quiet, conference.Options{})
	roomSvc := rooms.New(conf, svc, e.bus, quiet)
	svc.OnClose(roomSvc.ConversationClosed)
	signaling.RegisterRooms(e.router, roomSvc)
	e.srv = httptest.NewServer(signaling.NewEndpoint(e.hub, a, nil, nil))
	t.Cleanup(e.srv.Close)
	e.url = "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws"
	e.agent = e.login(t, "agent-"+t.Name(), auth.RoleAgent)
	e.super = e.login(t, "super-"+t.Name(), auth.RoleSupervisor)
	key := strings.NewReplacer("/", "-", "_", "-").Replace(strings.ToLower(t.Name()))
	key = fmt.Sprintf("%.50s-%d", key, queues.Add(1))
	q, err := svc.CreateQueue(ctx, chat.Queue{Key: key, Name: "Support"}, e.agent.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fullEnv{env: e, proxy: proxy, chat: svc, queue: q, reg: reg}
}

// customer connects a new visitor of the queue.
func (f *fullEnv) customer(t *testing.T) *client.Client {
	t.Helper()
	tok, _, err := f.auth.IssueVisitor(f.queue.Key, "", "Vera", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := client.Connect(ctxT(t), f.url, client.Options{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// counter reads a counter of the hub's metrics.
func (f *fullEnv) counter(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	return 0
}

// answer waits for the answer to a request sent with WriteRaw.
func answer(t *testing.T, c *client.Client, within time.Duration) client.Envelope {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("connection ended while waiting for an answer (close: %v)", c.CloseError())
			}
			if ev.Type == client.Unanswered {
				return ev
			}
		case <-deadline:
			t.Fatalf("no answer within %v", within)
		}
	}
}
