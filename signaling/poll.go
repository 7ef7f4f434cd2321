package signaling

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// The read side, with no goroutine while a connection is idle. gorilla
// does the handshake; after it the server reads the client's frames
// itself (RFC 6455 §5), as write.go writes them. A connection's socket is
// watched by the node's poller (poll_linux.go: one epoll set, one
// goroutine, for every connection); when bytes come, a parked worker of
// the hub's pool (workers.go) reads everything the socket holds, answers
// it, and parks again when the socket has nothing more, handing the
// socket back to the poller. What a frame split across reads has given
// so far waits in the connection's frameReader, so nothing is buffered
// anywhere else: the bytes not yet read are all in the socket, and the
// poller reports them (the set is level-triggered), so a reader may rearm
// after EAGAIN or after any read shorter than its buffer.
//
// The read side is owned by at most one goroutine at a time, by rstate:
// the poller's wake-up, and the closing of the socket (closeSocket), take
// it only from readParked. Where there is no poller (not Linux, or a
// socket that is not a plain TCP one, as under TLS), a goroutine blocked
// in Read runs the same frameReader, as before.
//
// The pong timeout, which a read deadline on the blocked reader used to
// keep, is kept by the hub's ping schedule (ping.go): a connection that
// has sent nothing for PongTimeout is ended there.

const (
	readStarting int32 = iota // not yet watched: nothing may take the read side
	readParked                // watched by the poller; no goroutine
	readRunning               // a goroutine reads
	readOver                  // the read side has ended
)

// readChunk is the size of one read: a burst of requests comes in one.
const readChunk = 4096

// readBuffers hold the bytes of one read while the goroutine that read
// them runs, shared by every connection.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

// errWouldBlock is a read that found the socket empty.
var errWouldBlock = errors.New("nothing to read")

// frameReader is what the client has sent of a frame (and of a message
// of several frames) that is not complete yet. Between frames it holds
// nothing but its zero values.
type frameReader struct {
	hdr     [14]byte // the current frame's header, as far as it came
	nhdr    uint8
	inFrame bool // the header is complete; the payload is coming
	fin     bool
	op      byte
	mask    [4]byte
	mpos    uint8 // where in mask the next payload byte is
	left    int64 // payload bytes of the current frame still to come

	msgOp byte   // the data message being put together; 0: none
	msg   []byte // its payload so far (up to the limit)
	size  int64  // its size so far, past the limit too
	ctl   []byte // a control frame's payload so far

	draining bool // after a close was asked for: answer control frames only
}

// startReading hands the connection's reads to the poller, or to a
// goroutine of its own when there is none; ended (if not nil) runs once
// the connection has ended and its last request finished.
func (c *Conn) startReading(ended func()) {
	c.ended = ended
	if c.rc == nil {
		c.rstate.Store(readRunning)
		go c.readBlocking()
		return
	}
	c.rstate.Store(readParked)
	if err := pollWatch(c); err != nil {
		// The socket closed already, or there is no poller: read on a
		// goroutine, which sees the close or blocks as before.
		if c.rstate.CompareAndSwap(readParked, readRunning) {
			if errors.Is(err, errNoPoller) {
				c.rc = nil
				go c.readBlocking()
				return
			}
			go c.readReady()
		}
	}
}

// wake is the poller's: the socket has bytes (or closed). The reader
// runs on one of the hub's parked workers (workers.go), whose stack has
// grown already: a goroutine started here grew its small stack, copying
// it, in every read that answered a request.
func (c *Conn) wake() {
	if c.rstate.CompareAndSwap(readParked, readRunning) {
		c.hub.workers.run(c.readReady)
	}
}

// closeSocket closes the socket. A connection the poller watches has no
// goroutine to see that, and a closed socket leaves the epoll set without
// a word: so the read side is taken here, if parked, and ended.
func (c *Conn) closeSocket() {
	c.nc.Close()
	if c.rstate.CompareAndSwap(readParked, readRunning) {
		go c.readReady()
	}
}

// touch records that the client was heard from now.
func (c *Conn) touch() { c.lastRead.Store(time.Now().UnixNano()) }

// readReady reads what the socket holds, answers it, and hands the socket
// back to the poller when it holds no more.
func (c *Conn) readReady() {
	bp := readBuffers.Get().(*[]byte)
	for {
		n, err := pollRead(c.rc, *bp)
		if n > 0 {
			c.touch()
			if !c.consumeRecovered((*bp)[:n]) {
				break
			}
			if n < len(*bp) {
				// The socket is most likely empty: rearm without the
				// read that would say so. The set is level-triggered,
				// so bytes still there wake a reader at once.
				err = errWouldBlock
			}
		}
		if errors.Is(err, errWouldBlock) {
			c.rstate.Store(readParked)
			err = pollRearm(c)
			if err == nil {
				readBuffers.Put(bp)
				return // the poller wakes the next reader
			}
			if !c.rstate.CompareAndSwap(readParked, readRunning) {
				readBuffers.Put(bp)
				return // closeSocket took it, and started the reader that ends it
			}
		}
		if err != nil {
			c.readEnded(err)
			break
		}
	}
	readBuffers.Put(bp)
	c.readOver()
}

// readBlocking is the read side on a goroutine of its own, where there is
// no poller.
func (c *Conn) readBlocking() {
	buf := make([]byte, readChunk)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.touch()
			if !c.consumeRecovered(buf[:n]) {
				break
			}
		}
		if err != nil {
			c.readEnded(err)
			break
		}
	}
	c.readOver()
}

// readOver ends the connection once its reads have: what serve did after
// the read loop while the reader was a goroutine of its own.
func (c *Conn) readOver() {
	c.rstate.Store(readOver)
	pollForget(c)
	close(c.readDone)
	if c.end(closeFrame{websocket.CloseNormalClosure, ""}) {
		c.closeSocket()
	}
	c.workers.Wait() // requests still running end with the connection's context
	c.logger().Info("disconnected", "code", c.closedAs.code, "reason", c.closedAs.reason)
	c.hub.remove(c)
	if c.ended != nil {
		c.ended()
	}
}

// consumeRecovered is consume with a panic in a request the reader
// answers itself ending only this connection.
func (c *Conn) consumeRecovered(b []byte) (more bool) {
	defer func() {
		if r := recover(); r != nil {
			c.logger().Error("panic in the reader", "panic", r)
			c.end(closeFrame{websocket.CloseInternalServerErr, "internal error"})
			c.closeSocket()
			more = false
		}
	}()
	return c.consume(b)
}

// consume takes bytes read from the socket (and unmasks them in place),
// acting on each frame they complete. It reports whether to read more.
func (c *Conn) consume(b []byte) bool {
	fr := &c.fr
	for {
		if !fr.inFrame {
			if len(b) == 0 {
				return true
			}
			var ok bool
			if b, ok = c.header(b); !ok {
				return false
			}
			if !fr.inFrame {
				return true // the header is not complete yet
			}
		}
		k := int(min(fr.left, int64(len(b))))
		p := b[:k]
		b = b[k:]
		for i := range p {
			p[i] ^= fr.mask[(int(fr.mpos)+i)&3]
		}
		fr.mpos = uint8((int(fr.mpos) + k) & 3)
		fr.left -= int64(k)
		if fr.op >= 8 {
			fr.ctl = append(fr.ctl, p...)
		} else {
			fr.size += int64(k)
			switch {
			case fr.draining:
			case fr.size <= int64(c.cfg.MaxFrameBytes):
				fr.msg = append(fr.msg, p...)
			default: // refused as soon as it is too large; the rest is skipped
				fr.msg = nil
				c.tooLarge()
			}
		}
		if fr.left > 0 {
			return true // the rest of the payload comes in a later read
		}
		fr.inFrame = false
		if fr.op >= 8 {
			ctl := fr.ctl
			fr.ctl = nil
			if !c.control(fr.op, ctl) {
				return false
			}
		} else if fr.fin {
			op, msg := fr.msgOp, fr.msg
			fr.msgOp, fr.msg, fr.size = 0, nil, 0
			if !fr.draining {
				c.message(op, msg)
			}
		}
	}
}

// header takes the bytes of a frame's header from b; once it is complete
// it is checked and the frame begins (fr.inFrame). It returns what is
// left of b, and false when the client broke the protocol.
func (c *Conn) header(b []byte) ([]byte, bool) {
	fr := &c.fr
	need := 2
	for {
		if int(fr.nhdr) >= 2 {
			need = 6 // two bytes and the mask: a client's frames are masked
			switch fr.hdr[1] & 0x7f {
			case 126:
				need += 2
			case 127:
				need += 8
			}
		}
		if int(fr.nhdr) == need {
			break
		}
		if len(b) == 0 {
			return b, true
		}
		k := copy(fr.hdr[fr.nhdr:need], b)
		fr.nhdr += uint8(k)
		b = b[k:]
	}
	h := fr.hdr[:fr.nhdr]
	fr.nhdr = 0
	fin, rsv, op := h[0]&0x80 != 0, h[0]&0x70, h[0]&0x0f
	var size uint64
	switch n := h[1] & 0x7f; n {
	case 126:
		size = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		size = binary.BigEndian.Uint64(h[2:])
	default:
		size = uint64(n)
	}
	copy(fr.mask[:], h[len(h)-4:])
	switch {
	case rsv != 0:
		return b, c.protocolError("unexpected reserved bits")
	case h[1]&0x80 == 0:
		return b, c.protocolError("frames from a client must be masked")
	case size > 1<<62:
		return b, c.protocolError("invalid frame length")
	case op >= 8 && op <= 10:
		if !fin || size > 125 {
			return b, c.protocolError("invalid control frame")
		}
	case op == 0:
		if fr.msgOp == 0 {
			return b, c.protocolError("continuation frame without a message")
		}
	case op == 1 || op == 2:
		if fr.msgOp != 0 {
			return b, c.protocolError("a new message inside a fragmented one")
		}
		fr.msgOp = op
		if fin && !fr.draining && size <= uint64(c.cfg.MaxFrameBytes) {
			// Made once at its size when small; a large one grows as
			// its bytes come, so a header alone pins no memory.
			fr.msg = make([]byte, 0, min(size, readChunk))
		}
	default:
		return b, c.protocolError("unknown opcode " + itoa(int(op)))
	}
	fr.inFrame, fr.fin, fr.op, fr.left, fr.mpos = true, fin, op, int64(size), 0
	return b, true
}

// protocolError closes the connection of a client that broke RFC 6455,
// saying why, as gorilla's reader did. It reports false: read no more.
func (c *Conn) protocolError(why string) bool {
	c.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseProtocolError, why), abortCloseTimeout)
	if c.end(closeFrame{websocket.CloseProtocolError, why}) {
		c.closeSocket()
	}
	return false
}

// control acts on a control frame: a ping is answered with a pong
// through the write queue, a pong only shows the client is there (its
// bytes were noted), and a close is answered with a close and ends the
// read side.
func (c *Conn) control(op byte, data []byte) bool {
	switch op {
	case websocket.PingMessage:
		c.enqueueControl(websocket.PongMessage, data)
	case websocket.CloseMessage:
		code, text := websocket.CloseNoStatusReceived, ""
		switch {
		case len(data) == 1:
			return c.protocolError("invalid close frame")
		case len(data) >= 2:
			code, text = int(binary.BigEndian.Uint16(data)), string(data[2:])
			if !validCloseCode(code) {
				return c.protocolError("invalid close code")
			}
			if !utf8.ValidString(text) {
				return c.protocolError("invalid utf8 payload in close frame")
			}
		}
		c.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), abortCloseTimeout)
		if c.end(closeFrame{code, text}) {
			c.closeSocket()
		}
		return false
	}
	return true
}

// validCloseCode is RFC 6455 §7.4's codes a peer may send.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// tooLarge answers a message over MaxFrameBytes, then closes the
// connection with 1009; what more the client sends is read and dropped.
func (c *Conn) tooLarge() {
	c.hub.metrics.errors.WithLabelValues(CodeTooLarge).Inc()
	c.Send(encodeError("", WireError{CodeTooLarge, "the frame is larger than the limit of " + itoa(c.cfg.MaxFrameBytes) + " bytes"}))
	c.Close(websocket.CloseMessageTooBig, "frame too large")
	c.fr.draining = true
}

// message acts on a complete data message within the limit.
func (c *Conn) message(op byte, data []byte) {
	if op != websocket.TextMessage {
		c.reply("", nil, errMalformed("binary frames are not accepted; send JSON text"))
		return
	}
	if !c.limit.Allow() {
		if !c.flood.Allow() {
			c.logger().Warn("flooding, disconnecting")
			c.hub.metrics.errors.WithLabelValues(CodeRateLimited).Inc()
			c.Close(websocket.ClosePolicyViolation, "flooding")
			c.fr.draining = true
			return
		}
		env, _ := DecodeRequest(data)
		c.reply(env.ID, nil, &Error{CodeRateLimited, "too many requests; this one was dropped, send it again later"})
		return
	}
	c.handle(data)
}
