package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// lossyProxy stands between the load tester and a server as a node whose
// bus loses events would: HTTP passes as it is; on each websocket it loses
// every loseEvery-th chat.event from the server and then says
// session.resync, as the node does when its bus may have lost frames.
type lossyProxy struct {
	server    *url.URL
	loseEvery int64
	seen      atomic.Int64
	lost      atomic.Int64
	http      *httputil.ReverseProxy
}

func (p *lossyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/ws" {
		p.http.ServeHTTP(w, r)
		return
	}
	target := *p.server
	target.Scheme, target.Path, target.RawQuery = "ws", "/ws", r.URL.RawQuery
	h := http.Header{}
	for _, k := range []string{"Authorization", "Cookie", "Origin"} {
		if v := r.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	up, resp, err := websocket.DefaultDialer.DialContext(r.Context(), target.String(), h)
	if err != nil {
		code := http.StatusBadGateway
		if resp != nil {
			code = resp.StatusCode
		}
		http.Error(w, err.Error(), code)
		return
	}
	defer up.Close()
	down, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer down.Close()
	go func() { // the client's frames, as they are
		defer up.Close()
		for {
			kind, msg, err := down.ReadMessage()
			if err != nil || up.WriteMessage(kind, msg) != nil {
				return
			}
		}
	}()
	resync := []byte(`{"type": "session.resync", "data": {"reason": "bus"}}`)
	for {
		kind, msg, err := up.ReadMessage()
		if err != nil {
			return
		}
		var env struct{ Type string }
		if json.Unmarshal(msg, &env) == nil && env.Type == "chat.event" && p.seen.Add(1)%p.loseEvery == 0 {
			p.lost.Add(1)
			msg, kind = resync, websocket.TextMessage
		}
		if down.WriteMessage(kind, msg) != nil {
			return
		}
	}
}

// TestChatCountsStayExactOverALossyBus runs C1 small through a proxy that
// loses live events as a lossy bus would and says session.resync after
// each: the chat peers fetch what was lost (a gap fill or a position
// check), so not a message is lost or duplicated and no seq gap stays.
func TestChatCountsStayExactOverALossyBus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	if out, err := exec.Command("go", "build", "-o", bin, "parley/cmd/parley").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := os.Getenv("PARLEY_TEST_DATABASE_URL")
	if db == "" {
		db = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := &target{log: io.Discard}
	serverLog := filepath.Join(dir, "server.log")
	if err := srv.start(ctx, &targetFlags{parley: bin, databaseURL: db, serverLog: serverLog}); err != nil {
		t.Fatal(err)
	}
	defer srv.close(false)
	base, _ := url.Parse(srv.base)
	proxy := &lossyProxy{server: base, loseEvery: 5, http: httputil.NewSingleHostReverseProxy(base)}
	front := httptest.NewServer(proxy)
	defer front.Close()

	out := filepath.Join(dir, "c1.json")
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"c1", "--url", front.URL, "--metrics-url", srv.metrics,
		"--customers", "6", "--agents", "2", "--capacity", "5", "--interval", "300ms", "--duration", "4s",
		"--drain", "20s", "--json", out}, &stdout, &stderr)
	if code != 0 {
		log, _ := os.ReadFile(serverLog)
		t.Fatalf("loadtest c1: exit %d\n%s\n%s\nserver log (tail):\n%s", code, stdout.String(), stderr.String(), tail(log, 4000))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	f := res.Figures
	if proxy.lost.Load() == 0 {
		t.Fatal("the proxy lost no event: the test tested nothing")
	}
	if !res.Pass || f["lost"] != 0 || f["duplicated"] != 0 || f["seq_gaps"] != 0 || f["sent"] == 0 || f["acked"] != f["sent"] || f["refetched"] == 0 {
		t.Errorf("figures %v, pass %v, %d events lost on the way; want every message acked and received once, fetched again after the losses\n%s",
			f, res.Pass, proxy.lost.Load(), stdout.String())
	}
	if !strings.Contains(stdout.String(), "refetched") {
		t.Errorf("the table does not say what was fetched again:\n%s", stdout.String())
	}
}
