package signaling_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/signaling"
	"parley/store/storetest"
)

// BenchmarkRequestRoundTrip is one request and its answer over loopback,
// on connections that are idle between requests: with the poller, each
// request wakes a reader goroutine that ends after it. "at-once" is
// session.ping, which the reader answers itself; "line" is a request
// handed to a line (dispatch.go), as every request with I/O is, here
// with a handler that does nothing. cpu-ns/op is the process's CPU per
// request, client included.
func BenchmarkRequestRoundTrip(b *testing.B) {
	r := signaling.NewRouter()
	r.Handle("bench.echo", func(context.Context, *signaling.Request) (any, error) { return nil, nil })
	url, token := benchServer(b, r)
	for _, c := range []struct{ name, req string }{
		{"at-once", `{"type":"session.ping","id":"p"}`},
		{"line", `{"type":"bench.echo","id":"p"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"session.hello","id":"h","data":{"version":1}}`)) //nolint:errcheck
			if _, _, err := ws.ReadMessage(); err != nil {
				b.Fatal(err)
			}
			req := []byte(c.req)
			cpu0 := benchCPU()
			for b.Loop() {
				if err := ws.WriteMessage(websocket.TextMessage, req); err != nil {
					b.Fatal(err)
				}
				ws.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
				if _, p, err := ws.ReadMessage(); err != nil || !strings.Contains(string(p), `"re":"p"`) {
					b.Fatalf("answer %s: %v", p, err)
				}
			}
			b.ReportMetric(float64(benchCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// benchServer is newEnv for a benchmark: a real hub with the requests of
// r behind a real HTTP server, the real auth service, and an agent's
// token.
func benchServer(b *testing.B, r *signaling.Router) (url, token string) {
	pool := storetest.PoolAt(b, storetest.URL(), auth.Migrations)
	ctx := context.Background()
	a, err := auth.NewService(ctx, pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	cfg := signaling.DefaultConfig()
	cfg.RatePerSecond, cfg.RateBurst = 1e9, 1e9 // the benchmark sends as fast as it is answered
	hub := signaling.NewHub(cfg, bus.NewMemory(), r, quiet, nil)
	srv := httptest.NewServer(signaling.NewEndpoint(hub, a, nil, nil))
	b.Cleanup(srv.Close)
	if _, err := a.CreateUser(ctx, auth.NewUser{Username: "bench-rt", Name: "bench", Role: auth.RoleAgent, Password: "secret"}); err != nil && !strings.Contains(err.Error(), "taken") {
		b.Fatal(err)
	}
	sess, err := a.Login(ctx, "bench-rt", "secret")
	if err != nil {
		b.Fatal(err)
	}
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", sess.Token
}

func benchCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
