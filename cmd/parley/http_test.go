package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"parley/conference"
	"parley/signaling/client"
	"parley/web"
)

// routes are every route of the HTTP surface, from the echo router
// itself, so that a route added later is swept too.
func routes(t *testing.T) []*echo.Route {
	t.Helper()
	e := web.New(web.Deps{Conference: &conference.Service{}, Metrics: prometheus.NewRegistry(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var out []*echo.Route
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		out = append(out, r)
	}
	if len(out) < 20 {
		t.Fatalf("only %d routes listed", len(out))
	}
	return out
}

// concrete is a path that matches the route pattern p.
func concrete(p, key string) string {
	p = strings.ReplaceAll(p, ":key", key)
	p = strings.ReplaceAll(p, ":id", "1")
	return strings.ReplaceAll(p, "*", "css/parley.css")
}

// A body larger than --http-max-body is refused with 413 too_large on
// every route, before the handler runs; one sent without a length is cut
// while it is read.
func TestEveryRouteRefusesABodyOverTheLimit(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t), "--http-max-body", "2048")
	token := s.login(t, "ada")
	for _, r := range routes(t) {
		if r.Path == "/api/conversations/:id/files" {
			// An upload's body is the file: its limit is the queue's
			// file_max_bytes, not --http-max-body (files_test.go).
			continue
		}
		url := s.base + concrete(r.Path, "demo")
		for _, chunked := range []bool{false, true} {
			body := io.Reader(strings.NewReader(`{"number":"` + strings.Repeat("1", 4096) + `"}`))
			if chunked {
				body = struct{ io.Reader }{body} // no length: sent chunked
			}
			req, _ := http.NewRequest(r.Method, url, body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", r.Method, url, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if chunked {
				// Handlers that read no body answer as they would; one that
				// reads it must not get past the limit.
				if resp.StatusCode < 400 && r.Method != http.MethodGet {
					if strings.Contains(r.Path, "/api/") && r.Path != "/api/logout" {
						t.Errorf("%s %s chunked: %d %s", r.Method, r.Path, resp.StatusCode, b)
					}
				}
				continue
			}
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"too_large"`) {
				t.Errorf("%s %s: %d %s, want 413 too_large", r.Method, r.Path, resp.StatusCode, b)
			}
		}
	}
	// A read body over the limit (no length given) is 413 too.
	req, _ := http.NewRequest("POST", s.base+"/api/conference/lookup",
		struct{ io.Reader }{strings.NewReader(`{"number":"` + strings.Repeat("1", 4096) + `"}`)})
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"too_large"`) {
		t.Errorf("chunked lookup: %d %s, want 413 too_large", resp.StatusCode, b)
	}
}

// Every HTML answer carries a CSP with frame-ancestors, the static copies
// of the pages and error pages included; /static/ lists no directory.
func TestEveryPageHasACSPAndNoDirectoryIsListed(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t))
	var urls []string
	for _, r := range routes(t) {
		if r.Method == http.MethodGet && r.Path != "/ws" {
			urls = append(urls, s.base+concrete(r.Path, "demo"), s.base+concrete(r.Path, "no-such-key"))
		}
	}
	pages, err := filepath.Glob("../../web/static/*.html")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages found: %v", err)
	}
	for _, p := range pages {
		urls = append(urls, s.base+"/static/"+filepath.Base(p))
	}
	urls = append(urls, s.base+"/no/such/page", s.base+"/static/no-such.html")
	htmls := 0
	for _, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			htmls++
			if !strings.Contains(csp, "frame-ancestors") || !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("GET %s (%d): HTML with CSP %q", u, resp.StatusCode, csp)
			}
		}
		if csp == "" {
			t.Errorf("GET %s (%d): no CSP", u, resp.StatusCode)
		}
	}
	if htmls < 10 {
		t.Fatalf("only %d HTML answers seen", htmls)
	}
	for _, dir := range []string{"/static/", "/static/lib/", "/static/desk/", "/static/widget/", "/static/lib"} {
		code, body := get(t, s.base+dir)
		if code != http.StatusNotFound || strings.Contains(body, "<a href") {
			t.Errorf("GET %s: %d %.200s, want 404 and no listing", dir, code, body)
		}
	}
}

// waitClosed reads from c until the server closes it; it fails the test
// when that has not happened within d.
func waitClosed(t *testing.T, c net.Conn, d time.Duration, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d)) //nolint:errcheck
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("%s: still open after %v", what, d)
	}
}

// The server's timeouts cut a body trickled byte by byte and an idle
// keep-alive connection; a websocket idle past them stays open.
func TestTimeoutsCutTrickledBodiesAndIdleConnectionsButNotWebsockets(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t), "--http-read-header-timeout", "1s", "--http-read-timeout", "2s",
		"--http-write-timeout", "2s", "--http-idle-timeout", "1s")
	addr := strings.TrimPrefix(s.base, "http://")

	trickle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer trickle.Close()
	io.WriteString(trickle, "POST /api/conference/lookup HTTP/1.1\r\nHost: "+addr+ //nolint:errcheck
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := trickle.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\n\r\n") //nolint:errcheck
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := client.Connect(ctx, s.ws(), client.Options{Token: s.login(t, "alice")})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	connected := time.Now()

	waitClosed(t, trickle, 20*time.Second, "a body trickled one byte per 100ms")
	waitClosed(t, idle, 20*time.Second, "an idle keep-alive connection")

	// The websocket stays open, idle, well past the read and write
	// timeouts (2s), and still answers.
	select {
	case <-ws.Done():
		t.Fatalf("the websocket was closed while idle: %v", ws.CloseError())
	case <-time.After(time.Until(connected.Add(5 * time.Second))):
	}
	if _, err := ws.Request(ctx, "session.ping", nil); err != nil {
		t.Fatalf("the websocket did not outlive the HTTP timeouts: %v", err)
	}
}

// The Origin of a state-changing request or a websocket must match
// Parley's scheme as well as its host and port.
func TestAnOriginWithAnotherSchemeIsRefused(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t))
	other := "https://" + strings.TrimPrefix(s.base, "http://")
	req, _ := http.NewRequest("POST", s.base+"/api/login", strings.NewReader(`{"username":"alice","password":"demo"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", other)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "forbidden_origin") {
		t.Errorf("login from %s: %d %s", other, resp.StatusCode, b)
	}
	token := s.login(t, "alice")
	for origin, want := range map[string]int{other: http.StatusForbidden, s.base: http.StatusSwitchingProtocols} {
		c, resp, err := websocket.DefaultDialer.Dial(s.ws()+"?token="+token, http.Header{"Origin": {origin}})
		if c != nil {
			c.Close()
		}
		if resp == nil {
			t.Fatalf("websocket from %s: %v", origin, err)
		}
		if resp.StatusCode != want {
			t.Errorf("websocket from %s: %d, want %d", origin, resp.StatusCode, want)
		}
	}
}

// A wildcard in allowed_origins is refused when saved, and ignored in the
// frame's CSP when it is in the database already.
func TestWildcardOriginsAreRefused(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, `allowed_origins = '{https://*,https://shop.example.com}'`)
	admin := s.login(t, "ada")
	code, body := call(t, "PUT", s.base+"/api/admin/queues/wild", admin, `{"name":"Q","allowed_origins":["https://*"]}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "allowed_origins:") {
		t.Errorf("https://* saved: %d %s", code, body)
	}
	resp, err := http.Get(s.base + "/widget/" + s.queue)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'self' https://shop.example.com") || strings.Contains(csp, "*") {
		t.Errorf("frame CSP %q", csp)
	}
}

// One address may hold only so many websockets and requests in progress;
// more are refused with 429 too_many_connections.
func TestConnectionsPerAddressAreLimited(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t), "--max-ws-per-address", "2", "--max-requests-per-address", "2")
	token := s.login(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var open []*client.Client
	for i := 0; i < 2; i++ {
		c, _, err := client.Connect(ctx, s.ws(), client.Options{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	c, resp, err := websocket.DefaultDialer.Dial(s.ws()+"?token="+token, nil)
	if c != nil {
		c.Close()
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third websocket: %v %v", resp, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "too_many_connections") {
		t.Errorf("third websocket: %s", b)
	}
	// Closing one makes room again.
	open[0].Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, resp, _ := websocket.DefaultDialer.Dial(s.ws()+"?token="+token, nil)
		if c != nil {
			c.Close()
			break
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("no room after a close: %v", resp)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}

	// Three requests whose bodies never finish: two are in progress, the
	// third (whichever comes last) is refused.
	addr := strings.TrimPrefix(s.base, "http://")
	answers := make(chan string, 3)
	for i := 0; i < 3; i++ {
		held, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		io.WriteString(held, "POST /api/conference/lookup HTTP/1.1\r\nHost: "+addr+ //nolint:errcheck
			"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(held), nil)
			if err != nil {
				return // closed by the test
			}
			b, _ := io.ReadAll(resp.Body)
			answers <- resp.Status + " " + string(b)
		}()
	}
	select {
	case a := <-answers:
		if !strings.HasPrefix(a, "429") || !strings.Contains(a, "too_many_connections") {
			t.Fatalf("a third request: %s", a)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no request refused")
	}
}

// Unknown widget keys are limited per address on every widget route, as
// wrong room numbers are.
func TestWidgetKeysCannotBeGuessed(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t))
	limited := 0
	for i := 0; i < 300 && limited == 0; i++ {
		key := "guess-" + strings.Repeat("x", i%7) + string(rune('a'+i%26))
		var code int
		switch i % 3 {
		case 0:
			code, _ = get(t, s.base+"/api/widget/"+key)
		case 1:
			code, _ = get(t, s.base+"/widget/"+key)
		default:
			resp, _ := post(t, s.base+"/api/widget/"+key+"/visitor", `{}`)
			code = resp.StatusCode
		}
		if code == http.StatusTooManyRequests {
			limited = i + 1
		} else if code != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if limited == 0 || limited > 20 {
		t.Fatalf("refused from guess %d (0: never)", limited)
	}
	for _, u := range []string{"/api/widget/demo", "/widget/demo"} {
		if code, body := get(t, s.base+u); code != http.StatusTooManyRequests || body == "" {
			t.Errorf("GET %s after guessing: %d", u, code)
		}
	}
}

// /metrics is served on --metrics-addr only, never on the public port.
func TestMetricsAreServedOnTheirOwnAddressOnly(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t), "--metrics-addr", "127.0.0.1:0")
	if code, body := get(t, s.metrics(t)+"/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics listener: %d", code)
	}
	if code, _ := get(t, s.base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", code)
	}
	plain := start(t, testDB(t))
	if code, _ := get(t, plain.base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("public /metrics without --metrics-addr: %d, want 404", code)
	}
}
