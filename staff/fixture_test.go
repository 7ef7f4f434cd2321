package staff_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/staff"
	"parley/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var names atomic.Int64

// fixture is the service on a fresh database with its users.
type fixture struct {
	pool *pgxpool.Pool
	auth *auth.Service
	bus  *bus.MemoryBus
	svc  *staff.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := storetest.Pool(t, auth.Migrations, staff.Migrations)
	a, err := auth.NewService(context.Background(), pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	b := bus.NewMemory()
	return &fixture{pool: pool, auth: a, bus: b, svc: staff.New(pool, b, quiet)}
}

// user adds a user with role, signed in.
func (f *fixture) user(t *testing.T, name string, role auth.Role) auth.Principal {
	t.Helper()
	u, err := f.auth.CreateUser(context.Background(), auth.NewUser{
		Username: fmt.Sprintf("u%d-%d", names.Add(1), time.Now().UnixNano()%1e9), Name: name, Role: role, Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	return u.Principal()
}

// inbox collects the events published to a user's connections.
type inbox struct {
	mu     sync.Mutex
	frames []envelope
	more   chan struct{}
}

type envelope struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (f *fixture) inbox(t *testing.T, p auth.Principal, also ...func(envelope)) *inbox {
	t.Helper()
	in := &inbox{more: make(chan struct{}, 1)}
	unsub, err := f.bus.Subscribe(bus.PrincipalSubject(p.Key()), func(frame []byte) {
		var e envelope
		if err := json.Unmarshal(frame, &e); err != nil {
			t.Errorf("frame %s: %v", frame, err)
			return
		}
		for _, fn := range also {
			fn(e)
		}
		in.mu.Lock()
		in.frames = append(in.frames, e)
		in.mu.Unlock()
		select {
		case in.more <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return in
}

// wait returns the events of type typ once there are n of them, or fails
// after a deadline.
func (in *inbox) wait(t *testing.T, typ string, n int) []envelope {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		in.mu.Lock()
		var got []envelope
		for _, e := range in.frames {
			if e.Type == typ {
				got = append(got, e)
			}
		}
		in.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-in.more:
		case <-deadline:
			t.Fatalf("%d %s events within 10s, want %d", len(got), typ, n)
		}
	}
}

func (in *inbox) count(typ string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, e := range in.frames {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// code is the wire code of err ("" for nil).
func code(err error) string {
	if err == nil {
		return ""
	}
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return c.Code()
	}
	return "uncoded: " + err.Error()
}

func send(t *testing.T, f *fixture, p auth.Principal, to auth.UserID, clientID, text string) staff.SendResult {
	t.Helper()
	res, err := f.svc.Send(ctxT(t), p, staff.SendInput{Ref: staff.Ref{UserID: to}, ClientID: clientID, Text: text})
	if err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	return res
}
