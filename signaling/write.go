package signaling

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The write path. Frames wait in the connection's queue, a slice made
// when the first frame comes and dropped when the writer has taken the
// last: an idle connection holds none. A writer goroutine is started by
// the frame that finds none running, and it ends when the queue is empty,
// so an idle connection holds no writer either.
//
// The writer frames everything waiting at that moment itself (RFC 6455
// §5.2: a server's frames are unmasked, and compression is never
// negotiated) into one buffer and writes it with one call: one system
// call for a burst of events instead of gorilla's one per message. It is
// the only writer of the socket's data frames. Control frames go through
// the same queue (pings, pongs) or, for the close frame, through
// writeControl, under the same mutex. gorilla itself still writes a
// close frame from the reader when the peer breaks the protocol; it does
// so with one Write call, and a Write on a net.Conn (TCP or TLS) holds the
// socket's write lock to its end, so its frame cannot land inside ours.

// outFrame is a frame waiting in the queue: a text message, or a ping or
// pong.
type outFrame struct {
	op   int // websocket.TextMessage, PingMessage, PongMessage
	data []byte
}

// errEnded is a write refused because the connection has ended.
var errEnded = errors.New("connection ended")

// Send enqueues a frame without blocking. If the queue is full, by frames
// (SendQueue) or by bytes (SendQueueBytes), the client is too slow: it is
// disconnected with the reason "slow consumer" and Send reports false. An
// empty queue takes a frame of any size.
func (c *Conn) Send(frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	n := len(frame)
	c.qmu.Lock()
	switch before := c.qbytes; {
	case before > 0 && c.cfg.SendQueueBytes > 0 && before+n > c.cfg.SendQueueBytes:
		c.qmu.Unlock()
		c.slow("send queue full", "bytes", before)
		return false
	case len(c.queue) >= max(c.cfg.SendQueue, 1):
		c.qmu.Unlock()
		c.slow("send queue full", "frames", len(c.queue))
		return false
	}
	c.queue = append(c.queue, outFrame{websocket.TextMessage, frame})
	c.qbytes += n
	c.startWriterLocked()
	c.qmu.Unlock()
	return true
}

// enqueueControl queues a ping or a pong. They are not counted against
// the queue's bounds: they are tiny, and a peer that does not read is cut
// off by the text frames or by the write deadline.
func (c *Conn) enqueueControl(op int, data []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	c.qmu.Lock()
	c.queue = append(c.queue, outFrame{op, data})
	c.startWriterLocked()
	c.qmu.Unlock()
}

// ping is called by the hub's ping schedule (ping.go).
func (c *Conn) ping() { c.enqueueControl(websocket.PingMessage, nil) }

// startWriterLocked starts the writer unless one runs. The caller holds qmu.
func (c *Conn) startWriterLocked() {
	if !c.writing {
		c.writing = true
		go c.writeQueued()
	}
}

// Close sends what is queued, then a close frame, then ends the connection.
func (c *Conn) Close(code int, reason string) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.closeReq != nil {
		return
	}
	c.closeReq = &closeFrame{code, reason}
	c.startWriterLocked()
}

// writeQueued is the writer: it writes what is queued, batch by batch,
// until the queue is empty, then ends. After a Close it ends the
// connection with the close handshake once the queue is flushed; after a
// failed write it ends the connection.
func (c *Conn) writeQueued() {
	bp := batchBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBatch {
			batchBuffers.Put(bp)
		}
	}()
	for {
		c.qmu.Lock()
		batch, cf := c.queue, c.closeReq
		c.queue, c.qbytes = nil, 0
		if len(batch) == 0 && cf == nil {
			c.writing = false
			c.qmu.Unlock()
			return
		}
		c.qmu.Unlock()
		if len(batch) == 0 {
			// Closing: the queue is flushed. writing stays true, so
			// no writer starts again.
			if c.end(*cf) {
				c.closeHandshake(*cf)
			}
			return
		}
		buf := (*bp)[:0]
		for _, f := range batch {
			buf = appendFrame(buf, f.op, f.data)
		}
		*bp = buf
		clear(batch) // the frames may be large: let them go now
		if err := c.writeData(buf); err != nil {
			if !errors.Is(err, errEnded) {
				c.writeFailed(err, "write failed")
			}
			return // writing stays true: the connection has ended
		}
	}
}

// writeData writes a batch of frames within WriteTimeout, unless the
// connection has ended.
func (c *Conn) writeData(buf []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return errEnded // an abort's close frame may be on its way
	default:
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout)) //nolint:errcheck // the error surfaces on write
	_, err := c.nc.Write(buf)
	return err
}

// writeControl writes one control frame now, within timeout, unless a
// close frame has gone out already. A close frame is the last.
func (c *Conn) writeControl(op int, data []byte, timeout time.Duration) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return
	}
	if op == websocket.CloseMessage {
		c.closeSent = true
	}
	c.nc.SetWriteDeadline(time.Now().Add(timeout)) //nolint:errcheck // best effort
	c.nc.Write(appendFrame(nil, op, data))         //nolint:errcheck // best effort
}

// writeClose writes the close frame, then closes the socket. A batch
// being written to a peer that does not read would hold the write lock
// for up to WriteTimeout, so the socket's deadline is brought forward
// first: that write fails at timeout, and the close frame is tried
// within the same bound.
func (c *Conn) writeClose(cf closeFrame, timeout time.Duration) {
	c.nc.SetWriteDeadline(time.Now().Add(timeout)) //nolint:errcheck // best effort
	c.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(cf.code, cf.reason), timeout)
	c.closeSocket()
}

// closeHandshake writes the close frame, then waits, at most WriteTimeout,
// for the reader to see the client's answer before it closes the socket.
// Closed at once, a socket with requests still unread in its buffer
// resets the connection, and the client's kernel may drop what it had
// received and not yet read: the last answers and the close frame itself.
func (c *Conn) closeHandshake(cf closeFrame) {
	c.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(cf.code, cf.reason), c.cfg.WriteTimeout)
	linger := time.NewTimer(c.cfg.WriteTimeout)
	defer linger.Stop()
	select {
	case <-c.readDone:
	case <-linger.C:
	}
	c.closeSocket()
}

// appendFrame appends one unmasked, final frame of kind op (a gorilla
// message type: they are RFC 6455's opcodes) holding data.
func appendFrame(buf []byte, op int, data []byte) []byte {
	buf = append(buf, 0x80|byte(op))
	switch n := len(data); {
	case n < 126:
		buf = append(buf, byte(n))
	case n <= 0xffff:
		buf = append(buf, 126)
		buf = binary.BigEndian.AppendUint16(buf, uint16(n))
	default:
		buf = append(buf, 127)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	return append(buf, data...)
}

// batchBuffers hold the writers' framed batches between writes, shared by
// every connection; one grown past maxPooledBatch by a large burst is
// left to the collector.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledBatch = 256 << 10
