package signaling_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/auth"
	"parley/bus"
	"parley/signaling"
	"parley/signaling/client"
	"parley/store/storetest"
)

func TestHelloAnswersWhoYouAreAndTheVersion(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	_, hello, err := client.Connect(ctxT(t), e.url, client.Options{Token: e.agent.Token})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version    int    `json:"version"`
		Server     string `json:"server"`
		Connection string `json:"connection"`
		Principal  struct {
			Kind, ID, Name, Role string
		} `json:"principal"`
	}
	decode(t, hello, &got)
	if got.Version != 1 || !strings.HasPrefix(got.Server, "parley ") || got.Connection == "" {
		t.Errorf("hello %s", hello)
	}
	want := e.agent.User
	if got.Principal.Kind != "user" || got.Principal.Role != "agent" || got.Principal.Name != want.Name || got.Principal.ID != "user:"+want.ID.String() {
		t.Errorf("principal %+v, want %+v", got.Principal, want)
	}
}

func TestHelloRules(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	c, _, err := client.Dial(ctxT(t), e.url, client.Options{Token: e.agent.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxT(t)
	steps := []struct {
		typ  string
		data any
		code string
	}{
		{"session.ping", nil, signaling.CodeHelloRequired},
		{"session.hello", map[string]any{}, signaling.CodeBadRequest},
		{"session.hello", map[string]any{"version": 2}, signaling.CodeUnsupportedVersion},
		{"session.hello", map[string]any{"version": "1"}, signaling.CodeBadRequest},
		{"session.hello", map[string]any{"version": 1}, ""},
		{"session.hello", map[string]any{"version": 1}, signaling.CodeConflict},
		{"session.ping", nil, ""},
	}
	for i, s := range steps {
		_, err := c.Request(ctx, s.typ, s.data)
		switch {
		case s.code == "" && err != nil:
			t.Fatalf("step %d %s: %v", i, s.typ, err)
		case s.code != "" && (err == nil || wireCode(err) != s.code):
			t.Fatalf("step %d %s: got %v, want %s", i, s.typ, err, s.code)
		}
	}
}

// Every kind of bad frame is answered with its code, and the connection
// stays up: a ping afterwards is answered.
func TestBadInputGetsAClearErrorAndTheConnectionStays(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	e.router.Handle("test.super_only", func(context.Context, *signaling.Request) (any, error) { return nil, nil }, auth.RoleSupervisor)
	e.router.Handle("test.needs_name", func(_ context.Context, r *signaling.Request) (any, error) {
		var in struct {
			Name string `json:"name"`
		}
		if err := signaling.Bind(r.Data, &in); err != nil {
			return nil, err
		}
		if in.Name == "" {
			return nil, signaling.BadRequest(`"name" is required`)
		}
		return nil, nil
	})
	c := e.connect(t, e.agent)
	cases := []struct {
		name, frame, re, code string
	}{
		{"not json", `{"type": "session.ping", "id": "a1"`, "", signaling.CodeMalformed},
		{"garbage", `hello`, "", signaling.CodeMalformed},
		{"array", `[1,2]`, "", signaling.CodeMalformed},
		{"string", `"session.ping"`, "", signaling.CodeMalformed},
		{"empty", ``, "", signaling.CodeMalformed},
		{"no type", `{"id": "a2"}`, "a2", signaling.CodeBadRequest},
		{"type not string", `{"type": 5, "id": "a3"}`, "a3", signaling.CodeMalformed},
		{"type badly formed", `{"type": "PING", "id": "a4"}`, "a4", signaling.CodeBadRequest},
		{"type too long", `{"type": "session.` + strings.Repeat("x", 80) + `", "id": "a5"}`, "a5", signaling.CodeBadRequest},
		{"no id", `{"type": "session.ping"}`, "", signaling.CodeBadRequest},
		{"id not string", `{"type": "session.ping", "id": 7}`, "", signaling.CodeMalformed},
		{"id too long", `{"type": "session.ping", "id": "` + strings.Repeat("i", 65) + `"}`, "", signaling.CodeBadRequest},
		{"data not object", `{"type": "session.ping", "id": "a6", "data": "{}"}`, "a6", signaling.CodeMalformed},
		{"unknown type", `{"type": "chat.nonsense", "id": "a7"}`, "a7", signaling.CodeUnknownType},
		{"missing field", `{"type": "test.needs_name", "id": "a8", "data": {}}`, "a8", signaling.CodeBadRequest},
		{"wrong field type", `{"type": "test.needs_name", "id": "a9", "data": {"name": 3}}`, "a9", signaling.CodeBadRequest},
		{"wrong role", `{"type": "test.super_only", "id": "a10"}`, "a10", signaling.CodeForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.WriteRaw([]byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			ev := nextEvent(t, c, client.Unanswered)
			if ev.Error == nil || ev.Error.Code != tc.code || ev.Re != tc.re {
				t.Fatalf("got re=%q error=%+v, want re=%q code %s", ev.Re, ev.Error, tc.re, tc.code)
			}
			if ev.Error.Message == "" {
				t.Fatal("error without a message")
			}
			if _, err := c.Request(ctxT(t), "session.ping", nil); err != nil {
				t.Fatalf("connection did not stay usable: %v", err)
			}
		})
	}
	t.Run("binary frame", func(t *testing.T) {
		if err := c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, c, client.Unanswered); ev.Error == nil || ev.Error.Code != signaling.CodeMalformed {
			t.Fatalf("got %+v", ev)
		}
		if _, err := c.Request(ctxT(t), "session.ping", nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOversizeFrameIsRefusedAndClosesWith1009(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.MaxFrameBytes = 1024
	e := newEnv(t, cfg)
	c := e.connect(t, e.agent)
	big := `{"type": "session.ping", "id": "big", "data": {"pad": "` + strings.Repeat("x", 2000) + `"}}`
	if err := c.WriteRaw([]byte(big)); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, c, client.Unanswered)
	if ev.Error == nil || ev.Error.Code != signaling.CodeTooLarge {
		t.Fatalf("got %+v, want too_large", ev)
	}
	if code, reason := waitClosed(t, c); code != websocket.CloseMessageTooBig || reason != "frame too large" {
		t.Fatalf("closed with %d %q", code, reason)
	}
}

func TestFloodingIsRateLimitedThenDisconnected(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.RatePerSecond = 1
	cfg.RateBurst = 5
	e := newEnv(t, cfg)
	c := e.connect(t, e.agent) // hello took one token
	for i := 0; i < 40; i++ {
		if err := c.WriteRaw([]byte(`{"type": "session.ping", "id": "f` + itoa(i) + `"}`)); err != nil {
			break // the server may already have closed
		}
	}
	var acks, limited int
	for ev := range c.Events() {
		if ev.Error != nil && ev.Error.Code == signaling.CodeRateLimited {
			limited++
		} else if ev.Error == nil {
			acks++
		}
	}
	code, reason := waitClosed(t, c)
	if code != websocket.ClosePolicyViolation || reason != "flooding" {
		t.Fatalf("closed with %d %q", code, reason)
	}
	if acks < 3 || acks > 6 || limited < 3 {
		t.Fatalf("%d answered, %d rate_limited; want the burst answered, then rate_limited errors", acks, limited)
	}
}

func TestModerateOverrunIsRateLimitedButKeepsTheConnection(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.RatePerSecond = 0.001
	cfg.RateBurst = 3
	e := newEnv(t, cfg)
	c := e.connect(t, e.agent)
	var limited int
	for i := 0; i < 4; i++ {
		if _, err := c.Request(ctxT(t), "session.ping", nil); err != nil {
			if wireCode(err) != signaling.CodeRateLimited {
				t.Fatal(err)
			}
			limited++
		}
	}
	if limited != 2 {
		t.Fatalf("%d of 4 pings limited, want 2 (burst 3, one used by hello)", limited)
	}
	select {
	case <-c.Done():
		t.Fatal("disconnected for a moderate overrun")
	default:
	}
}

func TestEventsReachEveryTabOfAPrincipal(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	tab1, tab2 := e.connect(t, e.agent), e.connect(t, e.agent)
	other := e.connect(t, e.super)
	frame, _ := bus.Frame("test.note", map[string]string{"text": "hi"})
	if err := e.bus.Publish(bus.PrincipalSubject(e.agent.User.Principal().Key()), frame); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{tab1, tab2} {
		ev := nextEvent(t, c, "test.note")
		if string(ev.Data) != `{"text":"hi"}` {
			t.Fatalf("data %s", ev.Data)
		}
	}
	// The supervisor is not addressed: a ping answered means nothing was queued before it.
	if _, err := other.Request(ctxT(t), "session.ping", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-other.Events():
		t.Fatalf("another principal got %s", ev.Type)
	default:
	}
}

// A client that stops reading fills its queue and is cut off; a client of
// the same subject keeps receiving every event meanwhile.
func TestSlowReaderDoesNotDelayOthers(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.SendQueue = 64
	cfg.WriteTimeout = 30 * time.Second // the queue, not the deadline, must cut it off
	e := newEnv(t, cfg)
	fast := e.connect(t, e.agent)

	// The slow tab: hello, then never read again.
	slow := e.stopsReading(t, e.agent, 2)

	// Publish in windows of 32 that the fast reader confirms, so its own
	// queue never overflows; the slow reader's fills meanwhile.
	const events, window = 3000, 32
	subject := bus.PrincipalSubject(e.agent.User.Principal().Key())
	frame, _ := bus.Frame("test.bulk", map[string]string{"pad": strings.Repeat("p", 8<<10)})
	start := time.Now()
	got := make(chan int, events)
	go func() {
		n := 0
		for ev := range fast.Events() {
			if ev.Type == "test.bulk" {
				n++
				got <- n
			}
		}
		close(got)
	}()
	for sent := 0; sent < events; {
		for i := 0; i < window && sent < events; i++ {
			e.bus.Publish(subject, frame) //nolint:errcheck
			sent++
		}
		for n := 0; n < sent; {
			select {
			case v, ok := <-got:
				if !ok {
					t.Fatalf("fast reader disconnected after %d events: %v", n, fast.CloseError())
				}
				n = v
			case <-time.After(10 * time.Second):
				t.Fatalf("fast reader held up at %d of %d", n, sent)
			}
		}
	}
	t.Logf("fast reader got %d × 8 KiB in %v", events, time.Since(start))
	// The slow one was disconnected with a reason.
	waitFor(t, func() bool { return e.hub.Count() == 1 })
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := slow.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			// Its buffers are full, so the close frame may not get through:
			// 1008 "slow consumer" when it does, the bare TCP close otherwise.
			if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure && (ce.Code != websocket.ClosePolicyViolation || ce.Text != "slow consumer") {
				t.Fatalf("slow reader closed with %d %q", ce.Code, ce.Text)
			}
			break
		}
	}
}

func TestUpgradeRefusals(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	cases := []struct {
		name   string
		header http.Header
		status int
	}{
		{"no credential", http.Header{}, http.StatusUnauthorized},
		{"unknown token", http.Header{"Authorization": {"Bearer ps_nope"}}, http.StatusUnauthorized},
		{"foreign origin", http.Header{"Authorization": {"Bearer " + e.agent.Token}, "Origin": {"https://evil.example"}}, http.StatusForbidden},
	}
	for _, tc := range cases {
		_, resp, err := websocket.DefaultDialer.Dial(e.url, tc.header)
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Errorf("%s: err %v, response %v; want status %d", tc.name, err, resp, tc.status)
		}
	}
	// The server's own origin and the session cookie are accepted.
	h := http.Header{"Origin": {e.srv.URL}, "Cookie": {auth.CookieName + "=" + e.agent.Token}}
	ws, _, err := websocket.DefaultDialer.Dial(e.url, h)
	if err != nil {
		t.Fatalf("same origin with cookie: %v", err)
	}
	ws.Close()
}

func TestDatabaseGoneAnswersUnavailableAndRecovers(t *testing.T) {
	proxy := storetest.NewProxy(t)
	e := newEnv(t, signaling.DefaultConfig(), proxy.URL())
	// A request that needs the database: who am I, read afresh.
	e.router.Handle("test.whoami", func(ctx context.Context, r *signaling.Request) (any, error) {
		return e.auth.UserByID(ctx, r.Principal().UserID)
	})
	c := e.connect(t, e.agent)
	if _, err := c.Request(ctxT(t), "test.whoami", nil); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	if _, err := c.Request(ctxT(t), "test.whoami", nil); err == nil || wireCode(err) != signaling.CodeUnavailable {
		t.Fatalf("with the database cut: %v, want unavailable", err)
	}
	_, resp, err := websocket.DefaultDialer.Dial(e.url, http.Header{"Authorization": {"Bearer " + e.agent.Token}})
	if err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("new connection with the database cut: %v %v, want 503", err, resp)
	}
	proxy.Restore()
	waitFor(t, func() bool {
		_, err := c.Request(ctxT(t), "test.whoami", nil)
		return err == nil
	})
}

func TestShutdownSaysClosingThenClosesAndRefusesNewConnections(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	c1, c2 := e.connect(t, e.agent), e.connect(t, e.super)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{c1, c2} {
		ev := nextEvent(t, c, "session.closing")
		if !strings.Contains(string(ev.Data), `"retry_ms":2000`) {
			t.Errorf("closing %s", ev.Data)
		}
		if code, _ := waitClosed(t, c); code != websocket.CloseGoingAway {
			t.Errorf("closed with %d, want 1001", code)
		}
	}
	if e.hub.Count() != 0 {
		t.Fatalf("%d connections left", e.hub.Count())
	}
	ws, _, err := websocket.DefaultDialer.Dial(e.url, http.Header{"Authorization": {"Bearer " + e.agent.Token}})
	if err == nil {
		_, _, err = ws.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("connection after shutdown: %v", err)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not synchronising on time
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// Every goroutine a connection starts ends with it. The hub's parked
// workers (workers.go), which read and run the connections' requests,
// are the hub's: bounded, and ended by Shutdown, which the test checks
// too.
func TestConnectionsLeaveNoGoroutinesBehind(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	// Warm up pools and the HTTP server's own goroutines.
	e.connect(t, e.agent).Close()
	waitFor(t, func() bool { return e.hub.Count() == 0 })
	before := runtime.NumGoroutine()
	var cs []*client.Client
	for i := 0; i < 20; i++ {
		cs = append(cs, e.connect(t, e.agent))
	}
	waitFor(t, func() bool { return e.hub.Count() == 20 })
	for _, c := range cs {
		c.Close()
	}
	waitFor(t, func() bool {
		return e.hub.Count() == 0 && runtime.NumGoroutine() <= before+e.hub.ParkedWorkers()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}
