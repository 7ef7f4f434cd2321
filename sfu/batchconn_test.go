package sfu

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// newBatchTestConn is a batchConn on a real UDP socket on loopback.
func newBatchTestConn(t *testing.T) *batchConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b := newBatchConn(c)
	t.Cleanup(func() { b.Close() })
	return b
}

func newReceiver(t *testing.T) (*net.UDPConn, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(1 << 20) //nolint:errcheck // the default holds the tests' packets too
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// rtpPacket is an RTP packet whose sequence number is seq, of stream ssrc.
func rtpPacket(ssrc uint32, seq uint16) []byte {
	p := make([]byte, 12+100)
	p[0], p[1] = 0x80, 96
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return p
}

// receive reads count packets within the deadline and returns their
// sequence numbers in the order they came.
func receive(t *testing.T, c *net.UDPConn, count int, within time.Duration) []uint16 {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within)) //nolint:errcheck
	buf := make([]byte, 1500)
	var got []uint16
	for len(got) < count {
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("received %d of %d packets: %v", len(got), count, err)
		}
		if n < 4 {
			t.Fatalf("a packet of %d bytes", n)
		}
		got = append(got, binary.BigEndian.Uint16(buf[2:]))
	}
	return got
}

func inOrder(got []uint16) error {
	for i, s := range got {
		if s != uint16(i) { //nolint:gosec // small
			return fmt.Errorf("packet %d has sequence number %d: %v", i, s, got)
		}
	}
	return nil
}

// A pass's packets wait until it ends, then go with one system call per
// batchSize, each to its destination, none lost, in the order written.
func TestBatchConnSendsAPassTogetherInOrder(t *testing.T) {
	b := newBatchTestConn(t)
	r1, a1 := newReceiver(t)
	r2, a2 := newReceiver(t)
	const each = 75 // 150 in the pass: more than one batch
	b.begin()
	for i := range each {
		for _, a := range []netip.AddrPort{a1, a2} {
			if n, err := b.WriteToAddrPort(rtpPacket(1, uint16(i)), a); err != nil || n != 112 {
				t.Fatalf("write: %d, %v", n, err)
			}
		}
	}
	if got, full := b.batched.Load(), uint64(2*each/batchSize*batchSize); got != full {
		t.Fatalf("%d packets sent while the pass was open, want the %d of the full batches", got, full)
	}
	b.end()
	for _, r := range []*net.UDPConn{r1, r2} {
		if err := inOrder(receive(t, r, each, 5*time.Second)); err != nil {
			t.Error(err)
		}
	}
	if n, calls := b.batched.Load(), b.batches.Load(); n != 2*each || calls != 3 {
		t.Errorf("%d packets in %d sendmmsg calls, want %d in 3", n, calls, 2*each)
	}
}

// What is not RTP (STUN, DTLS, RTCP) goes at once, even while a pass is
// open; so does RTP written with no pass open.
func TestBatchConnSendsOtherWritersAtOnce(t *testing.T) {
	b := newBatchTestConn(t)
	r, a := newReceiver(t)

	rtcp := rtpPacket(1, 0)
	rtcp[1] = 201 // a receiver report
	stun := make([]byte, 20)
	dtls := []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b.begin() // a pass that does not end while the others write
	for _, p := range [][]byte{rtcp, stun, dtls} {
		done := make(chan error, 1)
		go func() {
			_, err := b.WriteTo(p, net.UDPAddrFromAddrPort(a))
			done <- err
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		receive(t, r, 1, 2*time.Second)
	}
	b.end()

	if _, err := b.WriteToAddrPort(rtpPacket(1, 0), a); err != nil {
		t.Fatal(err)
	}
	receive(t, r, 1, 2*time.Second)
	if b.batches.Load() != 0 {
		t.Errorf("%d batches sent; every packet here should have gone on its own", b.batches.Load())
	}
}

// Passes of several goroutines at once, and writers outside them: each
// stream arrives whole and in order.
func TestBatchConnConcurrentPassesKeepEachStreamInOrder(t *testing.T) {
	b := newBatchTestConn(t)
	const writers, packets, pass = 6, 300, 5
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for w := range writers {
		r, a := newReceiver(t)
		got := make(chan int, packets)
		wg.Add(2)
		go func() {
			defer wg.Done()
			c := r
			c.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
			buf := make([]byte, 1500)
			for i := range packets {
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					errs <- fmt.Errorf("writer %d: received %d of %d: %w", w, i, packets, err)
					return
				}
				if s := binary.BigEndian.Uint16(buf[2:n]); s != uint16(i) { //nolint:gosec // small
					errs <- fmt.Errorf("writer %d: packet %d has sequence number %d", w, i, s)
					return
				}
				got <- i + 1
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < packets; i += pass {
				// Every other writer writes outside a pass, as a
				// resend would with none open.
				inPass := w%2 == 0
				if inPass {
					b.begin()
				}
				for j := i; j < i+pass; j++ {
					if _, err := b.WriteToAddrPort(rtpPacket(uint32(w), uint16(j)), a); err != nil { //nolint:gosec // small
						errs <- err
						return
					}
				}
				if inPass {
					b.end()
				}
				// A window of one pass, so no socket buffer overflows.
				deadline := time.After(10 * time.Second)
				for have := 0; have < i+pass; {
					select {
					case have = <-got:
					case <-deadline:
						errs <- fmt.Errorf("writer %d: packets %d.. not received", w, i)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
