package signaling

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"

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
	c := &Conn{id: "c", hub: h, cfg: h.cfg, nc: nc, done: make(chan struct{}),
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
