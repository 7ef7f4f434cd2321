package signaling

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/bus"
)

// BenchmarkDeliver is the server's cost of delivering one event frame to
// one connection over loopback TCP, the client reading as fast as it can:
// "gorilla" is the writer as it was (a channel, one goroutine, one
// WriteMessage per frame), "batched" is Send and write.go. The events come
// one at a time, or in bursts of 8 (what a client following several busy
// conversations gets), each read by the client before the next comes;
// the client's reading is included in the figures; cpu-ns/op is the process's CPU time (user and system) per
// frame, which a busy machine distorts less than the wall time.
func BenchmarkDeliver(b *testing.B) {
	frame, _ := bus.Frame("chat.event", map[string]any{"conversation_id": 4211, "seq": 17, "kind": "message",
		"text": "Hello, I would like to know where my order 7731 is; it was due yesterday."})
	for _, tc := range []struct {
		mode  string
		burst int64
	}{{"gorilla", 1}, {"batched", 1}, {"gorilla", 8}, {"batched", 8}} {
		mode, burst := tc.mode, tc.burst
		b.Run(fmt.Sprintf("%s/burst=%d", mode, burst), func(b *testing.B) {
			server, client := wsPair(b)
			var want atomic.Int64
			read := make(chan struct{}, 1) // the client has read want frames
			go func() {
				for got := int64(1); ; got++ {
					_, r, err := client.NextReader()
					if err != nil {
						return
					}
					io.Copy(io.Discard, r) //nolint:errcheck
					if got == want.Load() {
						read <- struct{}{}
					}
				}
			}()
			send := batchedSender(b, server)
			if mode == "gorilla" {
				send = gorillaSender(server)
			}
			cpu0 := processCPU()
			sent := int64(0)
			for b.Loop() {
				if sent%burst == 0 {
					want.Store(sent + burst)
				}
				send(frame)
				if sent++; sent%burst == 0 {
					<-read // the burst is read before the next comes
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(max(sent, 1)), "cpu-ns/op")
			client.Close()
		})
	}
}

func batchedSender(b *testing.B, ws *websocket.Conn) func([]byte) {
	h := NewHub(DefaultConfig(), bus.NewMemory(), NewRouter(), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	c := &Conn{id: "bench", nc: ws.NetConn(), hub: h, cfg: h.cfg, done: make(chan struct{})}
	return func(f []byte) {
		if !c.Send(f) {
			b.Fatal("the frame was refused")
		}
	}
}

func gorillaSender(ws *websocket.Conn) func([]byte) {
	ch := make(chan []byte, 256)
	go func() {
		for f := range ch {
			ws.SetWriteDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
			if ws.WriteMessage(websocket.TextMessage, f) != nil {
				return
			}
		}
	}()
	return func(f []byte) { ch <- f }
}

// wsPair is a websocket over loopback TCP: the server's end and the client's.
func wsPair(b *testing.B) (server, client *websocket.Conn) {
	ends := make(chan *websocket.Conn, 1)
	up := websocket.Upgrader{WriteBufferPool: &writeBuffers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		ends <- ws
	}))
	b.Cleanup(srv.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	return <-ends, client
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
