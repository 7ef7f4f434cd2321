package sfu_test

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/sfu"
)

// A publisher sends three simulcast layers at real bitrates to two
// subscribers. The one behind a 500 kbit/s link is moved to a lower layer
// by its bandwidth estimate and keeps decoding it; the other stays on the
// high layer; neither sees a gap in sequence numbers that the link did
// not make.
func TestSimulcastSubscriberBehindASlowLinkMovesDownAndKeepsDecoding(t *testing.T) {
	s := newSFU(t)
	room := s.Room("bwe")
	link := newBottleneck(t, 500_000, 150*time.Millisecond)
	pub, hi, lo := newPeer(t), newPeer(t), newPeerWith(t, slowAPI(t, link), webrtc.Configuration{})
	pub.join(t, room, "pub", sfu.JoinOptions{})
	hi.join(t, room, "hi", sfu.JoinOptions{ReceiveOnly: true})
	lo.join(t, room, "lo", sfu.JoinOptions{ReceiveOnly: true})
	// Rates of a 540p camera: lower than 720p's, for fewer packets, as
	// the test shares the machine and a starved process looks congested.
	sim := sendSimulcast(t, pub, [3]int{100_000, 300_000, 900_000})
	defer sim.stop()

	eventually(t, "the unlimited subscriber receives the high layer", func() bool {
		return hi.layer.Load() == 2 && hi.layerKeys[2].Load() > 0
	})
	hiLow := hi.layerKeys[0].Load() + hi.layerKeys[1].Load()
	eventually(t, "the limited subscriber moves to a lower layer", func() bool {
		l := lo.layer.Load()
		return l < 2 && lo.layerKeys[l].Load() > 0
	})
	l := lo.layer.Load()
	t.Logf("limited: layer %d, estimate %d bit/s; unlimited: estimate %d bit/s",
		l, lo.participant().EstimatedBitrate(), hi.participant().EstimatedBitrate())
	lowKeys := func() int64 { return lo.layerKeys[0].Load() + lo.layerKeys[1].Load() }
	keys, received, hiKeys := lowKeys(), lo.received.Load(), hi.layerKeys[2].Load()
	eventually(t, "the limited subscriber keeps receiving keyframes of a lower layer", func() bool {
		return lowKeys() >= keys+3 && lo.received.Load() > received+100
	})
	if got := lo.layer.Load(); got == 2 {
		t.Errorf("the limited subscriber went back to the high layer")
	}
	if est := lo.participant().EstimatedBitrate(); est > 750_000 {
		t.Errorf("the limited subscriber's estimate is %d bit/s behind a 500 kbit/s link", est)
	}
	if got := hi.layer.Load(); got != 2 || hi.layerKeys[0].Load()+hi.layerKeys[1].Load() != hiLow {
		t.Errorf("the unlimited subscriber left the high layer: now on %d, keyframes by layer %d/%d/%d",
			got, hi.layerKeys[0].Load(), hi.layerKeys[1].Load(), hi.layerKeys[2].Load())
	}
	if hi.layerKeys[2].Load() == hiKeys {
		t.Errorf("the unlimited subscriber got no keyframe meanwhile")
	}
	if gap := hi.maxGap.Load(); gap != 1 {
		t.Errorf("the unlimited subscriber's sequence numbers jumped by %d", gap)
	}
	skipped, lost := link.missing()
	t.Logf("the link dropped %d packets; %d RTP packets never reached the subscriber", link.droppedPackets(), lost)
	if skipped != 0 {
		t.Errorf("%d sequence numbers were never sent: the stream has holes across the switch", skipped)
	}
	for _, c := range []*peer{pub, hi, lo} {
		c.closing.Store(true)
	}
}

// nackRetries is how often the slow client asks for one lost packet
// (Chrome: 10).
const nackRetries = 10

// slowAPI makes the connections of a client behind link. Like a browser,
// and unlike Pion's default, it asks for a lost packet only a few times:
// without that, retransmissions lost on the link are asked for again and
// again and fill it.
func slowAPI(t *testing.T, link *bottleneck) *webrtc.API {
	t.Helper()
	se := rtcpeer.Settings()
	se.SetNet(link)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	err := webrtc.RegisterDefaultInterceptorsWithOptions(m, reg,
		webrtc.WithNackGeneratorOptions(nack.GeneratorMaxNacksPerPacket(nackRetries)))
	if err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg))
}

// A publisher stops sending its high layer while a subscriber receives
// it, as Chromium does when its encoder falls behind: the subscriber
// moves to a layer that still runs and keeps decoding, rather than wait
// with a frozen picture for a layer that may not come back (the
// conference page's frozen cameras on a loaded machine). When the layer
// comes back, so does the subscriber.
func TestASubscriberOfALayerThatFallsSilentMovesToOneThatRuns(t *testing.T) {
	s := newSFU(t)
	room := s.Room("silent")
	pub, sub := newPeer(t), newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	sim := sendSimulcast(t, pub, [3]int{100_000, 300_000, 900_000})
	defer sim.stop()

	eventually(t, "the subscriber receives the high layer", func() bool {
		return sub.layer.Load() == 2 && sub.layerKeys[2].Load() > 0
	})
	sim.rates[2].Store(0)
	eventually(t, "the subscriber moves to a layer that runs", func() bool {
		l := sub.layer.Load()
		return l < 2 && sub.layerKeys[l].Load() > 0
	})
	lowKeys := func() int64 { return sub.layerKeys[0].Load() + sub.layerKeys[1].Load() }
	keys, received := lowKeys(), sub.received.Load()
	eventually(t, "the subscriber keeps receiving that layer", func() bool {
		return lowKeys() >= keys+2 && sub.received.Load() > received+60
	})
	highKeys := sub.layerKeys[2].Load()
	sim.rates[2].Store(900_000)
	eventually(t, "the subscriber goes back to the high layer once it runs again", func() bool {
		return sub.layer.Load() == 2 && sub.layerKeys[2].Load() > highKeys
	})
	for _, c := range []*peer{pub, sub} {
		c.closing.Store(true)
	}
}

// simulcastSender is what sendSimulcast returns: rates are the layers'
// bitrates, which may change while it sends (0: the layer is not sent,
// as a browser stops a layer it has no bandwidth or CPU for), and stop
// ends the sending.
type simulcastSender struct {
	rates [3]atomic.Int64
	stop  func()
}

// sendSimulcast publishes one VP8 track in three simulcast layers at
// about the given bitrates: 30 frames/s, each frame's payload split into
// packets of at most 1100 bytes, a keyframe every second. It tags packets
// with mid and rid, and answers picture loss, as a browser does.
func sendSimulcast(t *testing.T, pub *peer, bitrates [3]int) *simulcastSender {
	t.Helper()
	out := &simulcastSender{}
	for li, r := range bitrates {
		out.rates[li].Store(int64(r))
	}
	sim := publishSimulcast(t, pub)
	// A browser answers picture loss with a keyframe of that layer.
	var pli [3]atomic.Bool
	for li, rid := range simulcastRIDs {
		go func() {
			buf := make([]byte, 1500)
			for {
				n, _, err := sim.sender.ReadSimulcast(buf, rid)
				if err != nil {
					return
				}
				pkts, _ := rtcp.Unmarshal(buf[:n])
				for _, p := range pkts {
					if _, ok := p.(*rtcp.PictureLossIndication); ok {
						pli[li].Store(true)
					}
				}
			}
		}()
	}
	const fps = 30
	done, sending := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sending)
		tick := time.NewTicker(time.Second / fps)
		defer tick.Stop()
		var seq [3]uint16
		for frame := 0; ; frame++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			for li := range sim.layers {
				size := int(out.rates[li].Load()) / 8 / fps
				if size == 0 {
					continue
				}
				n := (size + 1099) / 1100
				key := false
				for i := range n {
					if i == 0 {
						key = frame%fps == 0 || pli[li].Swap(false)
					}
					pkt := rtcpeer.VP8(seq[li], uint32(frame*90000/fps+li*777777), key, byte(li))
					seq[li]++
					payload := make([]byte, size/n)
					copy(payload, pkt.Payload)
					if i > 0 {
						payload[0] = 0 // S=0: the frame goes on
					}
					pkt.Payload = payload
					pkt.Marker = i == n-1
					sim.write(li, pkt)
				}
			}
		}
	}()
	out.stop = func() { close(done); <-sending }
	return out
}

// bottleneck is a client's network behind a slow link: what arrives on
// its UDP sockets waits in one queue drained at rate bits/s, and what
// would wait longer than depth is dropped, as at a congested router. It
// notes the RTP sequence numbers it passes or drops.
type bottleneck struct {
	transport.Net
	rate  int
	depth time.Duration

	mu      sync.Mutex
	free    time.Time // when the queue will have drained
	dropped int
	streams map[uint32]*seqLog
}

// seqLog is what the link saw of one RTP stream.
type seqLog struct {
	first  uint16
	last   int             // the highest sequence number seen, counted from first
	passed map[uint16]bool // false: dropped and never retransmitted through
}

func newBottleneck(t *testing.T, rate int, depth time.Duration) *bottleneck {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return &bottleneck{Net: n, rate: rate, depth: depth, streams: map[uint32]*seqLog{}}
}

func (b *bottleneck) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := b.Net.ListenUDP(network, addr)
	if err != nil || addr.IP.IsMulticast() { // mDNS is not on the link
		return c, err
	}
	s := &slowConn{UDPConn: c, link: b, in: make(chan datagram, 256), done: make(chan struct{})}
	go s.pump()
	return s, nil
}

// admit queues packet p (and its IP and UDP headers) and says when it
// leaves the queue, or that the queue is full.
func (b *bottleneck) admit(p []byte) (time.Time, bool) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.free.Before(now) {
		b.free = now
	}
	ok := b.free.Sub(now) <= b.depth
	if ok {
		b.free = b.free.Add(time.Duration(len(p)+28) * 8 * time.Second / time.Duration(b.rate))
	} else {
		b.dropped++
	}
	b.noteLocked(p, ok)
	return b.free, ok
}

// noteLocked records an RTP packet's sequence number (SRTP leaves the
// header in the clear); RTCP, DTLS and STUN are left out.
func (b *bottleneck) noteLocked(p []byte, passed bool) {
	if len(p) < 12 || p[0]>>6 != 2 || (p[1]&0x7f >= 64 && p[1]&0x7f < 96) {
		return
	}
	ssrc, seq := binary.BigEndian.Uint32(p[8:]), binary.BigEndian.Uint16(p[2:])
	s := b.streams[ssrc]
	if s == nil {
		s = &seqLog{first: seq, passed: map[uint16]bool{}}
		b.streams[ssrc] = s
	}
	s.last = max(s.last, int(seq-s.first))
	s.passed[seq] = s.passed[seq] || passed
}

// missing counts the sequence numbers the sender skipped, between the
// first and the last it sent, and those dropped and never retransmitted.
func (b *bottleneck) missing() (skipped, lost int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.streams {
		for i := 0; i <= s.last; i++ {
			passed, sent := s.passed[s.first+uint16(i)]
			if !sent {
				skipped++
			} else if !passed {
				lost++
			}
		}
	}
	return skipped, lost
}

func (b *bottleneck) droppedPackets() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// slowConn is a UDP socket behind the link.
type slowConn struct {
	transport.UDPConn
	link  *bottleneck
	in    chan datagram
	done  chan struct{} // closed by Close
	close sync.Once
}

func (c *slowConn) Close() error {
	c.close.Do(func() { close(c.done) })
	return c.UDPConn.Close()
}

type datagram struct {
	p    []byte
	from net.Addr
	at   time.Time // when it leaves the link's queue
}

// pump reads the socket into the link's queue until the socket closes.
func (c *slowConn) pump() {
	for {
		p := make([]byte, 1500)
		n, from, err := c.UDPConn.ReadFrom(p)
		if err != nil {
			return
		}
		if at, ok := c.link.admit(p[:n]); ok {
			select {
			case c.in <- datagram{p[:n], from, at}:
			case <-c.done:
				return
			}
		}
	}
}

func (c *slowConn) ReadFrom(p []byte) (int, net.Addr, error) {
	var d datagram
	select {
	case d = <-c.in:
	case <-c.done:
		return 0, nil, net.ErrClosed
	}
	time.Sleep(time.Until(d.at)) // the packet crossing the link, not a wait for an event
	return copy(p, d.p), d.from, nil
}
