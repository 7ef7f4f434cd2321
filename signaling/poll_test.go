package signaling_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/auth"
	"parley/signaling"
)

// dialRaw opens a websocket as s with gorilla's client, whose reads and
// pings the test drives itself.
func (e *env) dialRaw(t *testing.T, s auth.Session) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(e.url, http.Header{"Authorization": {"Bearer " + s.Token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// answerTo reads until the answer to request id comes, within a deadline.
func answerTo(t *testing.T, ws *websocket.Conn, id string) map[string]any {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	for {
		_, frame, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for the answer to %s: %v", id, err)
		}
		var env map[string]any
		if err := json.Unmarshal(frame, &env); err != nil {
			t.Fatalf("answer %s: %v", frame, err)
		}
		if env["re"] == id {
			return env
		}
	}
}

func hello(id string) []byte {
	return []byte(`{"type":"session.hello","id":"` + id + `","data":{"version":1}}`)
}

// An idle connection holds no goroutine on the server: its socket waits
// in the poller. It still reads the next frame as soon as it comes.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	// One connection stays open through the test, so the hub's ping
	// schedule and the poller run before the count is taken.
	warm := e.dialRaw(t, e.agent)
	warm.WriteMessage(websocket.TextMessage, hello("w")) //nolint:errcheck
	answerTo(t, warm, "w")
	waitFor(t, func() bool { return e.hub.Count() == 1 })
	before := runtime.NumGoroutine()

	const n = 40
	var ws []*websocket.Conn
	for i := range n {
		c := e.dialRaw(t, e.agent)
		if err := c.WriteMessage(websocket.TextMessage, hello("h"+itoa(i))); err != nil {
			t.Fatal(err)
		}
		answerTo(t, c, "h"+itoa(i))
		ws = append(ws, c)
	}
	waitFor(t, func() bool { return e.hub.Count() == n+1 })
	// The readers and writers that answered the hellos end; none stays.
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })

	start := time.Now()
	for i, c := range ws {
		id := "p" + itoa(i)
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"session.ping","id":"`+id+`"}`)); err != nil {
			t.Fatal(err)
		}
		if env := answerTo(t, c, id); env["error"] != nil {
			t.Fatalf("session.ping: %v", env)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("%d idle connections took %v to answer a ping each", n, d)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

// A frame that comes a byte at a time, each byte its own TCP segment, is
// put together whole; so is a message in fragments with a ping between
// them, which is answered with a pong in the meantime.
func TestFramesSplitAcrossReadsArriveWhole(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	ws := e.dialRaw(t, e.agent)
	pongs := make(chan string, 4)
	ws.SetPongHandler(func(data string) error { pongs <- data; return nil })
	nc := ws.NetConn()

	for _, b := range signaling.ClientFrame(true, websocket.TextMessage, hello("bytes")) {
		if _, err := nc.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	if env := answerTo(t, ws, "bytes"); env["error"] != nil {
		t.Fatalf("hello sent byte by byte: %v", env)
	}

	// A request of 200 bytes and more (a 16-bit length) in three
	// fragments, a ping between the first two, each written byte by byte.
	req := []byte(`{"type":"session.ping","id":"frag","data":{"pad":"` + string(make200('x')) + `"}}`)
	var stream []byte
	stream = append(stream, signaling.ClientFrame(false, websocket.TextMessage, req[:10])...)
	stream = append(stream, signaling.ClientFrame(true, websocket.PingMessage, []byte("are you there"))...)
	stream = append(stream, signaling.ClientFrame(false, 0, req[10:150])...)
	stream = append(stream, signaling.ClientFrame(true, 0, req[150:])...)
	for _, b := range stream {
		if _, err := nc.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	if env := answerTo(t, ws, "frag"); env["error"] != nil {
		t.Fatalf("fragmented session.ping: %v", env)
	}
	select {
	case p := <-pongs:
		if p != "are you there" {
			t.Fatalf("pong %q", p)
		}
	default:
		t.Fatal("the ping inside the fragmented message was not answered before its answer")
	}
}

func make200(c byte) []byte {
	b := make([]byte, 200)
	for i := range b {
		b[i] = c
	}
	return b
}

// The client's close is answered with the same code, and the connection
// ends on the server.
func TestClientCloseIsAnsweredAndEndsTheConnection(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	ws := e.dialRaw(t, e.agent)
	ws.WriteMessage(websocket.TextMessage, hello("h")) //nolint:errcheck
	answerTo(t, ws, "h")
	waitFor(t, func() bool { return e.hub.Count() == 1 })
	if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "tab closed")); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	_, _, err := ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("after the client's close: %v", err)
	}
	waitFor(t, func() bool { return e.hub.Count() == 0 })
}

// A client that breaks the protocol (an unmasked frame) is closed with
// 1002.
func TestUnmaskedFrameClosesWith1002(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	ws := e.dialRaw(t, e.agent)
	f := signaling.ClientFrame(true, websocket.TextMessage, hello("h"))
	f[1] &^= 0x80 // not masked: the key stays in the payload, harmless
	if _, err := ws.NetConn().Write(f); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	_, _, err := ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseProtocolError {
		t.Fatalf("after an unmasked frame: %v", err)
	}
	waitFor(t, func() bool { return e.hub.Count() == 0 })
}

// The server pings; a client that answers stays past the pong timeout,
// one that has gone silent is cut once it has passed.
func TestPongTimeoutCutsASilentClientAndKeepsOneThatAnswers(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.PingInterval = 100 * time.Millisecond
	cfg.PongTimeout = 400 * time.Millisecond
	e := newEnv(t, cfg)

	alive := e.dialRaw(t, e.agent)
	pings := make(chan struct{}, 64)
	alive.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return alive.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := alive.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()

	silent := e.dialRaw(t, e.super) // reads nothing, so answers no ping
	waitFor(t, func() bool { return e.hub.Count() == 2 })
	silentSince := time.Now()
	waitFor(t, func() bool { return e.hub.Count() == 1 })
	if d := time.Since(silentSince); d < cfg.PongTimeout-50*time.Millisecond {
		t.Fatalf("the silent client was cut after %v, before the pong timeout %v", d, cfg.PongTimeout)
	}
	silent.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	for {
		if _, _, err := silent.NextReader(); err != nil {
			break // the socket is closed: pings it had, then the end
		}
	}

	// Ten pings answered: a second, over twice the pong timeout.
	deadline := time.After(10 * time.Second)
	for range 10 {
		select {
		case <-pings:
		case err := <-readErr:
			t.Fatalf("the client that answers pings was cut: %v", err)
		case <-deadline:
			t.Fatal("fewer than 10 pings in 10s")
		}
	}
	if e.hub.Count() != 1 {
		t.Fatalf("%d connections, want the one that answers", e.hub.Count())
	}
}
