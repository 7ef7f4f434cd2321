package sfu

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pion/ice/v4"
	"golang.org/x/net/ipv4"
)

// batchConn is the media UDP socket under Pion's UDP mux. It sends the
// RTP packets written during a forwarding pass (Track.forward, or a
// downWriter.resend) together, with one sendmmsg at the end of the pass,
// instead of one sendto per packet per subscriber: at W1 a packet in
// becomes ten out, and the system call was a quarter of the server's CPU.
//
// Only RTP waits, and only while a pass is open: every RTP packet the
// server sends is written by a pass (downWriter is the first interceptor
// of every down connection, and its callers open one), and the pass that
// queued it flushes it as it ends. Everything else (STUN, DTLS, RTCP from
// Pion's goroutines, SRTCP) is sent at once, so no other writer waits at
// all. An RTP packet written while no pass is open is sent at once too.
//
// Order is kept per writer: the queue is sent in the order it was written,
// under the lock that queues, so an RTP packet written after a queued one
// (by any goroutine) goes after it.
type batchConn struct {
	*net.UDPConn
	batch *ipv4.PacketConn

	mu     sync.Mutex
	passes int // open passes
	queue  []ipv4.Message
	slots  []batchSlot // backing the queue's buffers and addresses
	n      int         // queued

	// for the tests and the benchmarks
	batches atomic.Uint64 // sendmmsg calls
	batched atomic.Uint64 // packets sent by them
}

// batchSize is the most packets one sendmmsg carries; a pass that writes
// more flushes as it goes.
const batchSize = 64

type batchSlot struct {
	buf  [1500]byte
	addr net.UDPAddr
	ip   [16]byte
	bufs [1][]byte
}

var _ ice.AddrPortReaderWriter = (*batchConn)(nil)

func newBatchConn(c *net.UDPConn) *batchConn {
	b := &batchConn{UDPConn: c, batch: ipv4.NewPacketConn(c),
		queue: make([]ipv4.Message, batchSize), slots: make([]batchSlot, batchSize)}
	for i := range b.slots {
		s := &b.slots[i]
		s.addr.IP = s.ip[:]
		b.queue[i].Buffers = s.bufs[:]
		b.queue[i].Addr = &s.addr
	}
	return b
}

// begin opens a pass: RTP written until its end is queued. Nil-safe, for
// tracks made without a server (tests).
func (b *batchConn) begin() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.passes++
	b.mu.Unlock()
}

// end closes a pass and sends what is queued.
func (b *batchConn) end() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.passes--
	b.flushLocked()
	b.mu.Unlock()
}

// flushLocked sends the queue. A packet the kernel refuses is skipped, as
// a failed sendto would have dropped it.
func (b *batchConn) flushLocked() {
	for i := 0; i < b.n; {
		n, err := b.batch.WriteBatch(b.queue[i:b.n], 0)
		b.batches.Add(1)
		if n > 0 {
			b.batched.Add(uint64(n)) //nolint:gosec // n > 0
			i += n
		}
		if err != nil {
			i++
		}
	}
	b.n = 0
}

// isRTP tells RTP from RTCP, STUN and DTLS by the first two bytes
// (RFC 7983, RFC 5761): version 2, and not an RTCP packet type.
func isRTP(p []byte) bool {
	return len(p) >= 12 && p[0]&0xc0 == 0x80 && (p[1] < 192 || p[1] > 223)
}

// WriteToAddrPort is how Pion's UDP mux writes.
func (b *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if !isRTP(p) || len(p) > len(b.slots[0].buf) {
		return b.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	b.mu.Lock()
	if b.passes == 0 {
		b.mu.Unlock()
		return b.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	if b.n == batchSize {
		b.flushLocked()
	}
	s := &b.slots[b.n]
	s.bufs[0] = s.buf[:copy(s.buf[:], p)]
	s.ip = addr.Addr().As16()
	s.addr.Port = int(addr.Port())
	s.addr.Zone = addr.Addr().Zone()
	b.n++
	b.mu.Unlock()
	return len(p), nil
}

// WriteTo is the net.PacketConn write, for whoever does not use the
// AddrPort one.
func (b *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if a, ok := addr.(*net.UDPAddr); ok {
		return b.WriteToAddrPort(p, a.AddrPort())
	}
	return b.UDPConn.WriteTo(p, addr)
}

// ReadFromAddrPort is how Pion's UDP mux reads.
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	return b.UDPConn.ReadFromUDPAddrPort(p)
}

// Close sends what is queued and closes the socket.
func (b *batchConn) Close() error {
	b.mu.Lock()
	b.flushLocked()
	b.mu.Unlock()
	return b.UDPConn.Close()
}
