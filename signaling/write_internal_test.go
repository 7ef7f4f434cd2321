package signaling

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/bus"
)

// countingConn counts the writes made to a net.Conn.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// The frames queued while the writer is busy go out together: one write
// for all of them, not one each.
func TestQueuedFramesGoOutInOneWrite(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	nc := &countingConn{Conn: server}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := NewHub(DefaultConfig(), bus.NewMemory(), NewRouter(), quiet, nil)
	c := &Conn{id: "c", hub: h, cfg: h.cfg, log: quiet, nc: nc, done: make(chan struct{}),
		writing: true} // as if a writer were busy: what is sent waits
	const n = 50
	for i := range n {
		if !c.Send([]byte(fmt.Sprintf(`{"type":"test","n":%d}`, i))) {
			t.Fatalf("frame %d refused", i)
		}
	}
	c.qmu.Lock()
	c.writing = false
	c.startWriterLocked() // the busy writer is done; the next takes the queue
	c.qmu.Unlock()

	for i := range n {
		var head [2]byte
		if _, err := io.ReadFull(client, head[:]); err != nil {
			t.Fatal(err)
		}
		if head[0] != 0x80|websocket.TextMessage || head[1]&0x80 != 0 {
			t.Fatalf("frame %d: header % x: want a final, unmasked text frame", i, head)
		}
		size := int(head[1])
		if size == 126 {
			var ext [2]byte
			io.ReadFull(client, ext[:]) //nolint:errcheck
			size = int(binary.BigEndian.Uint16(ext[:]))
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(client, body); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`{"type":"test","n":%d}`, i); !bytes.Equal(body, []byte(want)) {
			t.Fatalf("frame %d: %q, want %q", i, body, want)
		}
	}
	if w := nc.writes.Load(); w != 1 {
		t.Errorf("%d frames took %d writes, want 1", n, w)
	}
}

// rawConn is a Conn over the server's end of a loopback websocket, its
// socket's descriptor at hand as the poller's connections have it.
func rawConn(t *testing.T, server *websocket.Conn) *Conn {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := NewHub(DefaultConfig(), bus.NewMemory(), NewRouter(), quiet, nil)
	c := &Conn{id: "c", hub: h, cfg: h.cfg, log: quiet, nc: server.NetConn(), done: make(chan struct{})}
	var err error
	if c.rc, err = c.nc.(syscall.Conn).SyscallConn(); err != nil {
		t.Fatal(err)
	}
	return c
}

// readText reads the next frame and checks that it is the text want.
func readText(t *testing.T, client *websocket.Conn, want []byte, what string) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	kind, got, err := client.ReadMessage()
	if err != nil || kind != websocket.TextMessage || !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes %.40q… (%v), want %d bytes %.40q…", what, len(got), got, err, len(want), want)
	}
}

// A frame sent to a connection with nothing queued is written by its
// sender before Send returns: no writer goroutine is started for it. A
// write deadline an earlier, waiting write left on the socket, passed
// since, does not stop it.
func TestAFrameToAnIdleConnectionIsWrittenByItsSender(t *testing.T) {
	server, client := wsPair(t)
	c := rawConn(t, server)
	for i := range 3 {
		if i == 2 {
			c.nc.SetWriteDeadline(time.Now().Add(-time.Second)) //nolint:errcheck
		}
		frame := []byte(fmt.Sprintf(`{"type":"test","n":%d}`, i))
		if !c.Send(frame) {
			t.Fatalf("frame %d refused", i)
		}
		c.qmu.Lock()
		writing := c.writing
		c.qmu.Unlock()
		if writing {
			t.Fatalf("frame %d: a writer runs after Send returned; want the frame written by the sender", i)
		}
		readText(t, client, frame, fmt.Sprint("frame ", i))
	}
}

// A frame larger than the socket takes at once, sent to a client that is
// not reading, does not hold up its sender: the socket takes what it can,
// and the writer sends the rest, then what was sent after it, in order.
func TestWhatTheSocketDoesNotTakeAtOnceFollowsInOrder(t *testing.T) {
	server, client := wsPair(t)
	c := rawConn(t, server)
	setSocketBuffer(c.nc, 4096)
	big := []byte(`{"type":"test","pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	began := time.Now()
	if !c.Send(big) {
		t.Fatal("the large frame was refused")
	}
	if took := time.Since(began); took > time.Second {
		t.Fatalf("Send took %v with the client not reading: it waited for the client", took)
	}
	small := make([][]byte, 5)
	for i := range small {
		small[i] = []byte(fmt.Sprintf(`{"type":"test","n":%d}`, i))
		if !c.Send(small[i]) {
			t.Fatalf("frame %d refused", i)
		}
	}
	readText(t, client, big, "the large frame")
	for i, f := range small {
		readText(t, client, f, fmt.Sprint("frame ", i))
	}
}
