package signaling

import (
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/auth"
	"parley/bus"
)

// ClientFrame is maskedFrame, for the package's outside tests.
var ClientFrame = maskedFrame

// maskedFrame is one frame as a client sends it.
func maskedFrame(fin bool, op byte, payload []byte) []byte {
	b := []byte{op, 0x80}
	if fin {
		b[0] |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b[1] |= byte(n)
	case n <= 0xffff:
		b[1] |= 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] |= 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	mask := [4]byte{0x91, 0x0c, 0x5e, 0xa7}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i&3])
	}
	return b
}

// readServerFrame reads one unmasked frame the server wrote.
func readServerFrame(t *testing.T, r net.Conn) (op byte, payload []byte) {
	t.Helper()
	r.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		t.Fatal(err)
	}
	size := int(head[1] & 0x7f)
	if size == 126 {
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			t.Fatal(err)
		}
		size = int(binary.BigEndian.Uint16(ext[:]))
	}
	payload = make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	return head[0] & 0x0f, payload
}

// quietHub is a hub with the default config, an in-memory bus and no
// log.
func quietHub() *Hub {
	return NewHub(DefaultConfig(), bus.NewMemory(), NewRouter(), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
}

// hangUp closes the client's end and waits for the connection's reader to
// run its end (ended closed).
func hangUp(t *testing.T, client net.Conn, ended <-chan struct{}) {
	t.Helper()
	client.Close()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not end after its peer closed")
	}
}

// The reader's frame assembly, fed one byte per read: a request split
// that way, and one in three fragments with a ping between them, arrive
// whole; the ping is answered before the request.
func TestFramesFedAByteAtATimeArriveWhole(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	h := quietHub()
	c := newConn(server, "c", auth.Principal{}, h)

	// Before session.hello every request is answered hello_required,
	// naming its id: the answer shows the frame was read whole.
	feed := func(stream []byte) {
		for i := range stream {
			if !c.consume(stream[i : i+1 : i+1]) {
				t.Fatalf("the reader stopped at byte %d", i)
			}
		}
	}
	want := func(id string) {
		t.Helper()
		op, p := readServerFrame(t, client)
		if op != websocket.TextMessage || !strings.Contains(string(p), `"re":"`+id+`"`) || !strings.Contains(string(p), CodeHelloRequired) {
			t.Fatalf("answer %d %s, want hello_required for %s", op, p, id)
		}
	}

	feed(maskedFrame(true, websocket.TextMessage, []byte(`{"type":"session.ping","id":"one"}`)))
	want("one")

	req := []byte(`{"type":"session.ping","id":"frag","data":{"pad":"` + strings.Repeat("x", 300) + `"}}`)
	var stream []byte
	stream = append(stream, maskedFrame(false, websocket.TextMessage, req[:10])...)
	stream = append(stream, maskedFrame(true, websocket.PingMessage, []byte("still there?"))...)
	stream = append(stream, maskedFrame(false, 0, req[10:200])...)
	stream = append(stream, maskedFrame(true, 0, req[200:])...)
	feed(stream)
	if op, p := readServerFrame(t, client); op != websocket.PongMessage || string(p) != "still there?" {
		t.Fatalf("frame %d %q, want the pong", op, p)
	}
	want("frag")
	if c.fr.msg != nil || c.fr.ctl != nil || c.fr.inFrame || c.fr.nhdr != 0 {
		t.Fatalf("between frames the reader still holds %+v", c.fr)
	}
}

// A socket the poller cannot watch (here a pipe; in production TLS served
// by Parley itself) is read by a goroutine of its own, with the same
// frame reader, and its end runs ended as the poller's path does.
func TestASocketWithoutPollerIsReadOnAGoroutine(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	h := quietHub()
	c := newConn(server, "c", auth.Principal{}, h)
	if c.rc != nil {
		t.Fatal("a pipe has no descriptor to watch")
	}
	if !h.add(c) {
		t.Fatal("hub refused the connection")
	}
	ended := make(chan struct{})
	c.startReading(func() { close(ended) })

	go client.Write(maskedFrame(true, websocket.TextMessage, []byte(`{"type":"session.ping","id":"p"}`))) //nolint:errcheck
	if op, p := readServerFrame(t, client); op != websocket.TextMessage || !strings.Contains(string(p), `"re":"p"`) {
		t.Fatalf("answer %d %s", op, p)
	}
	hangUp(t, client, ended)
	if h.Count() != 0 {
		t.Fatalf("%d connections left in the hub", h.Count())
	}
}

// When a watched socket has bytes, its reader runs on a parked worker of
// the hub's pool, not on a goroutine started for it: here the one parked
// worker is the test's own, which is handed the read and runs it.
func TestAWatchedSocketIsReadByAParkedWorker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	h := quietHub()
	c := newConn(server, "c", auth.Principal{}, h)
	if !h.add(c) {
		t.Fatal("hub refused the connection")
	}
	worker := make(chan func(), 1)
	h.workers.idle = append(h.workers.idle, worker) // parked, as a worker that finished its work
	ended := make(chan struct{})
	c.startReading(func() { close(ended) })
	if c.rstate.Load() != readParked {
		t.Skip("no poller here: the socket is read by a goroutine of its own")
	}

	if _, err := client.Write(maskedFrame(true, websocket.TextMessage, []byte(`{"type":"session.ping","id":"p"}`))); err != nil {
		t.Fatal(err)
	}
	select {
	case read := <-worker:
		read()
	case <-time.After(10 * time.Second):
		t.Fatal("the parked worker was not handed the read")
	}
	if op, p := readServerFrame(t, client); op != websocket.TextMessage || !strings.Contains(string(p), `"re":"p"`) {
		t.Fatalf("answer %d %s", op, p)
	}
	hangUp(t, client, ended)
}
