package signaling_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/bus"
	"parley/signaling"
)

// The writer frames what is queued itself and writes it in batches: every
// frame arrives whole and in the order it was sent, whatever its length
// (each of the three length encodings of RFC 6455, on both sides of their
// bounds), with the pongs of the client's pings among them.
func TestFramesArriveWholeAndInOrder(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.SendQueue, cfg.SendQueueBytes = 1<<16, 256<<20 // framing is tested here, not the bounds
	e := newEnv(t, cfg)
	ws, _, err := websocket.DefaultDialer.Dial(e.url, http.Header{"Authorization": {"Bearer " + e.agent.Token}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"session.hello","id":"h","data":{"version":1}}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	var pongs atomic.Int64
	ws.SetPongHandler(func(string) error { pongs.Add(1); return nil })

	pads := []int{0, 1, 90, 97, 98, 99, 100, 200, 65400, 65535 - 40, 65536, 70000, 3000}
	const n = 600
	want := make([][]byte, n)
	for i := range want {
		pad := pads[i%len(pads)]
		want[i], _ = bus.Frame("test.seq", map[string]string{"seq": fmt.Sprint(i), "pad": strings.Repeat(string(rune('a'+i%26)), pad)})
	}
	subject := bus.PrincipalSubject(e.agent.User.Principal().Key())
	const pings = 20
	go func() {
		for i, f := range want {
			e.bus.Publish(subject, f) //nolint:errcheck
			if i%(n/pings) == 0 {
				ws.WriteControl(websocket.PingMessage, []byte(fmt.Sprint(i)), time.Now().Add(time.Second)) //nolint:errcheck
			}
		}
	}()
	ws.SetReadDeadline(time.Now().Add(20 * time.Second)) //nolint:errcheck
	for i := range want {
		kind, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if kind != websocket.TextMessage || string(got) != string(want[i]) {
			t.Fatalf("frame %d: got %d bytes %.60q…, want %d bytes %.60q…", i, len(got), got, len(want[i]), want[i])
		}
	}
	if _, err := e.connect(t, e.super).Request(ctxT(t), "session.ping", nil); err != nil {
		t.Fatal(err)
	}
	// The pongs were read among the frames; the last may trail them.
	ws.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) //nolint:errcheck
	ws.ReadMessage()                                           //nolint:errcheck // a timeout: nothing more was sent
	if got := pongs.Load(); got != pings {
		t.Errorf("%d pongs, want %d", got, pings)
	}
}
