package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"parley/bus"
	"parley/chat"
	"parley/signaling/client"
	"parley/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(sysmonChildEnv) != "" {
		os.Exit(sysmonChild())
	}
	if os.Getenv(procsChildEnv) != "" {
		os.Exit(procsChild())
	}
	if args := os.Getenv(childEnv); args != "" {
		os.Exit(serveAsChild(strings.Split(args, "\n")))
	}
	storetest.Main(m)
}

type server struct {
	base string // http://127.0.0.1:port
	db   string // the database's URL
	stop context.CancelFunc
	done chan error
	log  *syncBuffer
}

// start runs the real server in-process on a free port against dbURL.
func start(t *testing.T, dbURL string, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &server{db: dbURL, stop: cancel, done: make(chan error, 1), log: &syncBuffer{}}
	args := append([]string{"--listen", "127.0.0.1:0", "--database-url", dbURL, "--bcrypt-cost", "4",
		"--public-url", "http://127.0.0.1:1", "--media-udp-port", "0", "--media-tcp-port", "0", "--turn-port", "0"}, extra...)
	go func() { s.done <- run(ctx, args, func(string) string { return "" }, s.log, s.log, ready) }()
	select {
	case addr := <-ready:
		s.base = "http://" + addr
	case err := <-s.done:
		t.Fatalf("server did not start: %v\n%s", err, s.log)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start within 30s")
	}
	t.Cleanup(func() {
		cancel()
		<-s.done
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
	})
	return s
}

// testDB gives the test a database of its own with the server's schema
// (storetest.Fresh): its servers see no other test's queues, chats or
// agents' statuses, so the tests run in parallel.
func testDB(t *testing.T) string {
	t.Helper()
	return storetest.Fresh(t, migrations...)
}

// freshDatabase names a database that does not exist yet on the test
// server, and drops it when the test ends.
func freshDatabase(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("parley_test_fresh_%d", time.Now().UnixNano())
	u, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, storetest.BaseURL())
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`) //nolint:errcheck
	})
	return u.String()
}

func (s *server) ws() string { return "ws" + strings.TrimPrefix(s.base, "http") + "/ws" }

func (s *server) login(t *testing.T, user string) string {
	t.Helper()
	resp, body := post(t, s.base+"/api/login", `{"username":"`+user+`","password":"demo"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", user, resp.StatusCode, body)
	}
	var out struct{ Token string }
	json.Unmarshal(body, &out) //nolint:errcheck
	return out.Token
}

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The "done when": healthz, the demo agent logs in over HTTP, opens
// /ws, and session.hello answers with its name and role; metrics count it;
// SIGTERM-style shutdown says session.closing and closes with 1001.
func TestDemoAgentSignsInOpensTheWebsocketAndShutdownIsGraceful(t *testing.T) {
	t.Parallel()
	s := start(t, freshDatabase(t), "--metrics-addr", "127.0.0.1:0") // as on a new machine: the server makes the database and the accounts
	if code, body := get(t, s.base+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz %d %s", code, body)
	}
	if !strings.Contains(s.log.String(), "created demo account") {
		t.Errorf("demo accounts not announced in the log:\n%s", s.log)
	}
	token := s.login(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, hello, err := client.Connect(ctx, s.ws(), client.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Principal struct{ Name, Role string }
	}
	json.Unmarshal(hello, &h) //nolint:errcheck
	if h.Principal.Name != "Alice Agent" || h.Principal.Role != "agent" {
		t.Fatalf("hello %s", hello)
	}
	if _, metrics := get(t, s.metrics(t)+"/metrics"); !strings.Contains(metrics, "parley_ws_connections 1") ||
		!strings.Contains(metrics, `parley_ws_envelopes_total{type="session.hello"} 1`) ||
		!strings.Contains(metrics, `parley_http_request_seconds_count{method="POST",route="/api/login",status="200"}`) {
		t.Fatalf("metrics lack the connection, the hello or the login:\n%s", metrics)
	}

	s.stop()
	var sawClosing bool
	for ev := range c.Events() {
		if ev.Type == "session.closing" {
			sawClosing = true
		}
	}
	if ce := c.CloseError(); !sawClosing || ce == nil || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("closing event %v, close %v", sawClosing, ce)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
		s.done <- nil // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop")
	}
	if !strings.Contains(s.log.String(), "stopped") {
		t.Fatalf("no orderly stop in the log:\n%s", s.log)
	}
}

func TestASecondStartMakesNoNewDemoAccounts(t *testing.T) {
	t.Parallel()
	db := freshDatabase(t)
	first := start(t, db)
	first.stop()
	<-first.done
	first.done <- nil
	if !strings.Contains(first.log.String(), "created demo account") {
		t.Fatalf("first start made no demo accounts:\n%s", first.log)
	}
	second := start(t, db)
	if strings.Contains(second.log.String(), "created demo account") {
		t.Fatalf("second start created demo accounts again:\n%s", second.log)
	}
	second.login(t, "bob")
}

func TestDatabaseGoneMakesHealthzFailAndRecoversWithoutRestart(t *testing.T) {
	t.Parallel()
	proxy := storetest.NewProxy(t)
	s := start(t, proxy.URLOf(testDB(t)))
	proxy.Cut()
	if code, body := get(t, s.base+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") {
		t.Fatalf("healthz with the database cut: %d %s", code, body)
	}
	resp, body := post(t, s.base+"/api/login", `{"username":"alice","password":"demo"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"unavailable"`) {
		t.Fatalf("login with the database cut: %d %s", resp.StatusCode, body)
	}
	proxy.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if code, _ := get(t, s.base+"/healthz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("healthz did not recover")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	s.login(t, "alice")
}

func TestBadSettingsStopStartUpWithOneLineNamingTheSetting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--listen", "nope"}, nil, "-listen"},
		{[]string{"--bcrypt-cost", "99"}, nil, "-bcrypt-cost"},
		{[]string{"--debug-addr", ":6060"}, nil, "-debug-addr"}, // the profiler on every interface
		{[]string{"--metrics-addr", ":9090"}, nil, "-metrics-addr"},
		{[]string{"--http-max-body", "10"}, nil, "-http-max-body"},
		{nil, map[string]string{"PARLEY_HTTP_IDLE_TIMEOUT": "0s"}, "PARLEY_HTTP_IDLE_TIMEOUT"},
		{nil, map[string]string{"PARLEY_MAX_WS_PER_ADDRESS": "0"}, "PARLEY_MAX_WS_PER_ADDRESS"},
		{[]string{"--public-url", "ftp://x"}, nil, "--public-url"},
		{nil, map[string]string{"PARLEY_WS_RATE": "-1"}, "PARLEY_WS_RATE"},
		{nil, map[string]string{"PARLEY_DEMO": "maybe"}, "PARLEY_DEMO"},
		{[]string{"--database-url", "postgres://postgres@127.0.0.1:1/x?sslmode=disable"}, nil, "PARLEY_DATABASE_URL"},
		{[]string{"stray"}, nil, "stray"},
		{[]string{"--nats-url", "http://127.0.0.1:1"}, nil, "-nats-url: want nats://"},
		{nil, map[string]string{"PARLEY_NATS_URL": "nats://127.0.0.1:1,nope"}, "PARLEY_NATS_URL=\"nats://127.0.0.1:1,nope\": want nats://"},
		{[]string{"--nats-url", "nats://127.0.0.1:1"}, nil, "(set --nats-url or PARLEY_NATS_URL)"}, // nothing listens there
		{[]string{"--media-ip", "::1"}, nil, "-media-ip"},                                          // TURN relays over IPv4
		{nil, map[string]string{"PARLEY_MEDIA_IP": "media.example.com"}, "PARLEY_MEDIA_IP"},
		{[]string{"--smtp-tls", "ssl"}, nil, "-smtp-tls"},
		{[]string{"--smtp-port", "0"}, nil, "-smtp-port"},
		{nil, map[string]string{"PARLEY_MAIL_FROM": "Parley <parley@example.com>"}, "PARLEY_MAIL_FROM"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		getenv := func(k string) string { return tc.env[k] }
		err := run(context.Background(), tc.args, getenv, &out, &out, nil)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want one line naming %s", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestEnvironmentSetsAndFlagsWin(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PARLEY_LISTEN": "127.0.0.1:9999", "PARLEY_LOG_LEVEL": "debug"}
	c, err := parseConfig([]string{"--listen", "127.0.0.1:7777"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7777" || c.LogLevel != "debug" {
		t.Fatalf("%+v", c)
	}
}

// The reject cool-down is the router's own by default; the tests of the
// pages set it shorter through its variable (web/e2e/routing.test.mjs).
func TestRejectCooldownDefaultsToTheRoutersAndIsSet(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.RejectCooldown != chat.DefaultRejectCooldown {
		t.Fatalf("default RejectCooldown = %v, want %v", c.RejectCooldown, chat.DefaultRejectCooldown)
	}
	env := map[string]string{"PARLEY_REJECT_COOLDOWN": "6s"}
	if c, err = parseConfig(nil, func(k string) string { return env[k] }, io.Discard); err != nil || c.RejectCooldown != 6*time.Second {
		t.Fatalf("PARLEY_REJECT_COOLDOWN=6s: %v, %v", c.RejectCooldown, err)
	}
	if _, err := parseConfig([]string{"--reject-cooldown", "0s"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("--reject-cooldown 0s accepted, want an error")
	}
}

// --help prints the usage once: the header, then every flag with its
// environment variable.
func TestHelpPrintsTheUsageOnce(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help"} {
		var out bytes.Buffer
		if _, err := parseConfig([]string{arg}, func(string) string { return "" }, &out); !errors.Is(err, errHelp) {
			t.Fatalf("%s: %v, want errHelp", arg, err)
		}
		help := out.String()
		if n := strings.Count(help, "Usage: parley"); n != 1 || !strings.Contains(help, "PARLEY_MEDIA_UDP_PORT") {
			t.Errorf("%s printed the header %d times:\n%s", arg, n, help)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// metrics is the base URL of the server's metrics listener
// (--metrics-addr), from its log.
func (s *server) metrics(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`"metrics are serving" addr=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", s.log)
	}
	return "http://" + m[1]
}

// --media-ip binds every media port to that address, and one the host
// does not have stops the start with a line that names the setting.
func TestMediaListensOnTheMediaIPOnly(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t), "--media-ip", "127.0.0.1")
	m := regexp.MustCompile(`media="udp (\S+), tcp (\S+), turn (\S+)"`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no media addresses in the log:\n%s", s.log)
	}
	for _, addr := range m[1:] {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("a media port listens on %s, want 127.0.0.1 only", addr)
		}
	}

	// TEST-NET-3: no host of ours has it.
	var out syncBuffer
	args := []string{"--listen", "127.0.0.1:0", "--database-url", testDB(t), "--media-ip", "203.0.113.77",
		"--media-udp-port", "0", "--media-tcp-port", "0", "--turn-port", "0"}
	err := run(ctxFor(t), args, func(string) string { return "" }, &out, &out, nil)
	if err == nil || !strings.Contains(err.Error(), "--media-ip") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a media IP not on this host: %v, want one line naming --media-ip", err)
	}
}

// With --nats-url the server's bus is NATS: a frame another node publishes
// on the broadcast subject reaches a websocket of this one.
func TestWithNATSURLEventsFromAnotherNodeReachAWebsocket(t *testing.T) {
	t.Parallel()
	ns := startNATS(t)
	s := start(t, testDB(t), "--nats-url", ns.ClientURL())
	if !strings.Contains(s.log.String(), "bus over NATS") {
		t.Fatalf("the server did not say its bus is NATS:\n%s", s.log)
	}
	c, _, err := client.Connect(ctxFor(t), s.ws(), client.Options{Token: s.login(t, "alice")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	other, err := bus.DialNATS(ns.ClientURL(), "another node", nil, bus.NATSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	frame, _ := bus.Frame("test.hello", map[string]string{"from": "another node"})
	if err := other.Publish(bus.BroadcastSubject, frame); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "test.hello", nil)
}
