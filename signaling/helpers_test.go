package signaling_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/signaling"
	"parley/signaling/client"
	"parley/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type env struct {
	url    string // ws://…/ws
	srv    *httptest.Server
	hub    *signaling.Hub
	router *signaling.Router
	bus    *bus.MemoryBus
	auth   *auth.Service
	agent  auth.Session
	super  auth.Session
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newEnv starts a real hub behind a real HTTP server, with the real auth
// service on the package's database (reached through dbURL when given).
func newEnv(t *testing.T, cfg signaling.Config, dbURL ...string) *env {
	t.Helper()
	u := storetest.URL()
	if len(dbURL) > 0 {
		u = dbURL[0]
	}
	pool := storetest.PoolAt(t, u, auth.Migrations)
	ctx := context.Background()
	a, err := auth.NewService(ctx, pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{bus: bus.NewMemory(), router: signaling.NewRouter(), auth: a}
	e.hub = signaling.NewHub(cfg, e.bus, e.router, quiet, nil)
	e.srv = httptest.NewServer(signaling.NewEndpoint(e.hub, a, nil, nil))
	t.Cleanup(e.srv.Close)
	e.url = "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws"
	e.agent = e.login(t, "agent-"+t.Name(), auth.RoleAgent)
	e.super = e.login(t, "super-"+t.Name(), auth.RoleSupervisor)
	return e
}

func (e *env) login(t *testing.T, name string, role auth.Role) auth.Session {
	t.Helper()
	name = strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(name))
	if len(name) > 60 {
		name = name[:60]
	}
	ctx := context.Background()
	if _, err := e.auth.CreateUser(ctx, auth.NewUser{Username: name, Name: name, Role: role, Password: "secret"}); err != nil && !strings.Contains(err.Error(), "already") {
		t.Fatal(err)
	}
	s, err := e.auth.Login(ctx, name, "secret")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stopsReading connects as s and says hello, then reads nothing more: a
// client whose tab froze. It returns once the hub counts want connections.
func (e *env) stopsReading(t *testing.T, s auth.Session, want int) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(e.url, http.Header{"Authorization": {"Bearer " + s.Token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"session.hello","id":"h","data":{"version":1}}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return e.hub.Count() == want })
	return ws
}

func (e *env) connect(t *testing.T, s auth.Session) *client.Client {
	t.Helper()
	c, _, err := client.Connect(ctxT(t), e.url, client.Options{Token: s.Token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// nextEvent waits for an event of type typ, failing after a deadline.
func nextEvent(t *testing.T, c *client.Client, typ string) client.Envelope {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("connection ended while waiting for %s (close: %v)", typ, c.CloseError())
			}
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within 10s", typ)
		}
	}
}

// waitClosed waits for the server to close c and returns its close frame.
func waitClosed(t *testing.T, c *client.Client) (code int, reason string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("connection still open after 10s")
	}
	ce := c.CloseError()
	if ce == nil {
		return 0, ""
	}
	return ce.Code, ce.Text
}

func wireCode(err error) string {
	if e, ok := err.(*client.Error); ok {
		return e.Code
	}
	return "not a wire error: " + err.Error()
}

func decode(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}
