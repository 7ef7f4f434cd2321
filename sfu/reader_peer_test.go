package sfu_test

import (
	"encoding/binary"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/sfu"
)

// What the SFU owes a publisher as the receiver of its media, seen from
// the publisher's side: NACKs for what its link lost, receiver reports,
// transport-wide congestion control feedback.

// A publisher's link loses every 20th video packet on its way to the
// SFU. The SFU asks for each (the publisher is Pion's default, so its
// NACK responder resends it), and the subscriber receives every packet.
func TestAPublishersLostPacketsAreAskedForAndReachTheSubscriber(t *testing.T) {
	s := newSFU(t)
	room := s.Room("uplink-nack")
	link := newLossyUplink(t, 20)
	pub, sub := newPublisherBehind(t, link), newNetPeer(t, webrtc.Configuration{}, nil)
	got := recordPublisherSeqs(sub)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	up := startUpstream(t, pub, link, vp8Track(t, "cam"))
	cam := up.ssrc[0]

	eventually(t, "the subscriber receives video", func() bool { return got.count() > 0 })
	link.startLosing(cam)
	eventually(t, "the link loses ten packets", func() bool { return len(link.dropped(cam)) >= 10 })
	// A loss shows when the next packet comes: send a few more.
	lastLost := link.dropped(cam)[9]
	eventually(t, "five more packets", func() bool { return sinceFirst(uint16(up.last.Load())) >= sinceFirst(lastLost)+5 })
	up.halt()
	last := uint16(up.last.Load())
	defer func() {
		if t.Failed() {
			t.Logf("the link lost %v; the subscriber misses %v", link.dropped(cam), got.missing(last))
		}
	}()
	eventually(t, "the subscriber receives every packet up to the last", func() bool { return got.first >= 0 && len(got.missing(last)) == 0 })

	for _, seq := range link.dropped(cam) {
		if n := up.askedFor(seq); n == 0 || n > 10 {
			t.Errorf("packet %d was asked for %d times", seq, n)
		}
		if link.timesSent(cam, seq) < 2 {
			t.Errorf("packet %d was never resent", seq)
		}
	}
	pub.closing.Store(true)
	sub.closing.Store(true)
}

// A publisher's link loses every 20th audio packet. Audio is not NACKed,
// so the SFU's receiver reports count each as lost; they give the
// highest sequence number received, across the wrap; its video is
// reported on too, with nothing lost.
func TestAPublisherHearsReceiverReportsThatCountWhatItsLinkLost(t *testing.T) {
	link, pub, up := publishCameraAndMic(t, "uplink-rr", 20)
	cam, mic := up.ssrc[0], up.ssrc[1]

	eventually(t, "a receiver report on the microphone", func() bool { return len(up.reportsOn(mic)) > 0 })
	before := len(up.reportsOn(mic))
	link.startLosing(mic)
	eventually(t, "three more reports, five packets lost", func() bool {
		return len(up.reportsOn(mic)) >= before+3 && len(link.dropped(mic)) >= 5
	})

	reports := up.reportsOn(mic)
	for i, r := range reports {
		if i > 0 && r.LastSequenceNumber <= reports[i-1].LastSequenceNumber {
			t.Errorf("the highest sequence number went from %#x to %#x", reports[i-1].LastSequenceNumber, r.LastSequenceNumber)
		}
		highest := uint16(r.LastSequenceNumber)
		if r.LastSequenceNumber>>16 > 1 || link.timesSent(mic, highest) == 0 {
			t.Errorf("the highest sequence number received is %#x, not one sent", r.LastSequenceNumber)
		}
		lost := 0
		for _, seq := range link.dropped(mic) {
			if sinceFirst(seq) <= sinceFirst(highest) {
				lost++
			}
		}
		if int(r.TotalLost) != lost {
			t.Errorf("report %d, up to %d: %d lost, want %d", i, highest, r.TotalLost, lost)
		}
		if r.Jitter > 48000/10 {
			t.Errorf("jitter of %d at 48 kHz on loopback", r.Jitter)
		}
	}
	// The last reports' second was lossy all through: 1 in 20 is 12.8/256.
	if f := reports[len(reports)-1].FractionLost; f < 6 || f > 26 {
		t.Errorf("fraction lost %d/256, want about 13", f)
	}
	video := up.reportsOn(cam)
	if len(video) == 0 {
		t.Fatal("no receiver report on the video")
	}
	if r := video[len(video)-1]; r.TotalLost != 0 || r.FractionLost != 0 || link.timesSent(cam, uint16(r.LastSequenceNumber)) == 0 {
		t.Errorf("video report %+v: want nothing lost and a highest sequence number sent", r)
	}
	// The publisher sends sender reports every second; ours answer them,
	// so it can work out the round trip.
	if r := reports[len(reports)-1]; r.LastSenderReport == 0 {
		t.Errorf("audio report %+v: no LSR, though the publisher sends sender reports", r)
	}
	pub.closing.Store(true)
}

// A publisher's link loses every 10th audio packet: the SFU's TWCC
// feedback says of each packet, by its transport-wide sequence number,
// whether it arrived.
func TestAPublisherHearsWhichOfItsPacketsArrivedInTransportWideFeedback(t *testing.T) {
	link, pub, up := publishCameraAndMic(t, "uplink-twcc", 10)

	eventually(t, "feedback", func() bool { return len(up.feedbackSoFar()) > 0 })
	link.startLosing(up.ssrc[1])
	const window = 200 // transport-wide sequence numbers, once the loss began
	var sent []twccSent
	eventually(t, "feedback on 200 packets sent since the loss began", func() bool {
		sent = link.twccSince()
		if len(sent) < window {
			return false
		}
		_, reported := arrived(up.feedbackSoFar())[sent[window-1].seq]
		return reported
	})
	got := arrived(up.feedbackSoFar())
	lost := 0
	for _, p := range sent[:window] {
		received, reported := got[p.seq]
		if !reported || received != p.passed {
			t.Errorf("packet %d: reported %v, received %v; it passed the link: %v", p.seq, reported, received, p.passed)
		}
		if !p.passed {
			lost++
		}
	}
	if lost < window/2/10-2 {
		t.Errorf("only %d of %d packets lost", lost, window)
	}
	pub.closing.Store(true)
}

// Two publishers, each in a room of its own on one SFU, so that both up
// connections tick on the one shared clock: each still hears TWCC
// feedback every 100 ms and a receiver report on each stream every
// second. The window is three seconds; the bounds leave room for a busy
// machine delaying ticks, not for a rate halved or doubled.
func TestEveryPublisherHearsFeedbackAndReportsAtTheirRatesOnTheSharedClock(t *testing.T) {
	s := newSFU(t)
	var ups []*upstream
	for _, room := range []string{"rates-a", "rates-b"} {
		link := newLossyUplink(t, 1000)
		pub := newPublisherBehind(t, link)
		pub.join(t, s.Room(room), "pub", sfu.JoinOptions{})
		up := startUpstream(t, pub, link, vp8Track(t, "cam"), opusTrack(t, "mic"))
		ups = append(ups, up)
		t.Cleanup(func() { pub.closing.Store(true) })
	}
	for _, up := range ups {
		eventually(t, "feedback and reports on both streams", func() bool {
			return len(up.feedbackSoFar()) > 0 && len(up.reportsOn(up.ssrc[0])) > 0 && len(up.reportsOn(up.ssrc[1])) > 0
		})
	}
	type counts struct{ feedback, cam, mic int }
	count := func(up *upstream) counts {
		return counts{len(up.feedbackSoFar()), len(up.reportsOn(up.ssrc[0])), len(up.reportsOn(up.ssrc[1]))}
	}
	before := []counts{count(ups[0]), count(ups[1])}
	const window = 3 * time.Second
	time.Sleep(window) // the span the rates are counted over, not a wait for an event
	for i, up := range ups {
		got := count(up)
		if n := got.feedback - before[i].feedback; n < 20 || n > 40 {
			t.Errorf("publisher %d: %d TWCC feedback packets in %v, want about 30", i, n, window)
		}
		for _, n := range []int{got.cam - before[i].cam, got.mic - before[i].mic} {
			if n < 2 || n > 4 {
				t.Errorf("publisher %d: %d receiver reports on a stream in %v, want about 3", i, n, window)
			}
		}
	}
}

// publishCameraAndMic joins a publisher of a camera and a microphone to
// a room of a new SFU, over a lossyUplink that, once told to, loses every
// every-th packet of a stream.
func publishCameraAndMic(t *testing.T, room string, every int) (*lossyUplink, *peer, *upstream) {
	t.Helper()
	link := newLossyUplink(t, every)
	pub := newPublisherBehind(t, link)
	pub.join(t, newSFU(t).Room(room), "pub", sfu.JoinOptions{})
	return link, pub, startUpstream(t, pub, link, vp8Track(t, "cam"), opusTrack(t, "mic"))
}

// arrived reads TWCC feedback: each transport-wide sequence number
// reported, and whether any report says it arrived.
func arrived(feedback []*rtcp.TransportLayerCC) map[uint16]bool {
	got := map[uint16]bool{}
	for _, fb := range feedback {
		seq, left := fb.BaseSequenceNumber, int(fb.PacketStatusCount)
		note := func(symbol uint16) {
			if left > 0 {
				got[seq] = got[seq] || symbol != rtcp.TypeTCCPacketNotReceived
				seq++
				left--
			}
		}
		for _, c := range fb.PacketChunks {
			switch c := c.(type) {
			case *rtcp.RunLengthChunk:
				for range c.RunLength {
					note(c.PacketStatusSymbol)
				}
			case *rtcp.StatusVectorChunk:
				for _, symbol := range c.SymbolList {
					note(symbol)
				}
			}
		}
	}
	return got
}

// firstSeq is where a publisher's sequence numbers start: near the
// wrap, which they cross after 1.36 s.
const firstSeq = 65400

// sinceFirst orders sequence numbers: how many after firstSeq.
func sinceFirst(seq uint16) int { return int(seq - firstSeq) }

// upstream is a publisher's media, each track at 100 packets/s from
// firstSeq (video a keyframe when asked, with its sequence number in its
// payload), and what the SFU says back about it.
type upstream struct {
	ssrc []uint32 // by track
	last atomic.Int32
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	asked    map[uint16]int // video sequence numbers NACKed, and how often
	reports  map[uint32][]rtcp.ReceptionReport
	feedback []*rtcp.TransportLayerCC
}

func startUpstream(t *testing.T, pub *peer, link *lossyUplink, tracks ...*webrtc.TrackLocalStaticRTP) *upstream {
	t.Helper()
	up := &upstream{stop: make(chan struct{}), done: make(chan struct{}),
		asked: map[uint16]int{}, reports: map[uint32][]rtcp.ReceptionReport{}}
	pli := make([]atomic.Bool, len(tracks))
	var senders []*webrtc.RTPSender
	for i, tr := range tracks {
		sender, err := pub.up.AddTrack(tr)
		if err != nil {
			t.Fatal(err)
		}
		senders = append(senders, sender)
		up.ssrc = append(up.ssrc, uint32(sender.GetParameters().Encodings[0].SSRC))
		pli[i].Store(true)
		go up.hear(sender, up.ssrc[i], &pli[i])
	}
	pub.offerUp(t)
	for _, e := range senders[0].GetParameters().HeaderExtensions {
		if e.URI == "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" {
			link.numberedBy(uint8(e.ID))
		}
	}
	go up.send(tracks, pli)
	t.Cleanup(up.halt)
	return up
}

func (up *upstream) send(tracks []*webrtc.TrackLocalStaticRTP, pli []atomic.Bool) {
	defer close(up.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-up.stop:
			return
		case <-tick.C:
		}
		seq := uint16(firstSeq + i)
		for j, tr := range tracks {
			var pkt *rtp.Packet
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				pkt = vp8(seq, uint32(i*3000), pli[j].Swap(false))
				binary.BigEndian.PutUint16(pkt.Payload[3:], seq)
			} else {
				pkt = &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(i * 480)},
					Payload: []byte{0xfc, 0xff, 0xfe}} // an Opus frame of silence
			}
			tr.WriteRTP(pkt) //nolint:errcheck
		}
		up.last.Store(int32(seq))
	}
}

func (up *upstream) halt() {
	up.once.Do(func() { close(up.stop) })
	<-up.done
}

// hear reads what the SFU says about a sender's stream until it stops.
func (up *upstream) hear(sender *webrtc.RTPSender, ssrc uint32, pli *atomic.Bool) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		up.mu.Lock()
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				pli.Store(true)
			case *rtcp.TransportLayerNack:
				for _, pair := range p.Nacks {
					for _, seq := range pair.PacketList() {
						up.asked[seq]++
					}
				}
			case *rtcp.ReceiverReport:
				for _, r := range p.Reports {
					if r.SSRC == ssrc { // each sender is given the whole report
						up.reports[r.SSRC] = append(up.reports[r.SSRC], r)
					}
				}
			case *rtcp.TransportLayerCC:
				up.feedback = append(up.feedback, p)
			}
		}
		up.mu.Unlock()
	}
}

func (up *upstream) askedFor(seq uint16) int {
	up.mu.Lock()
	defer up.mu.Unlock()
	return up.asked[seq]
}

func (up *upstream) reportsOn(ssrc uint32) []rtcp.ReceptionReport {
	up.mu.Lock()
	defer up.mu.Unlock()
	return slices.Clone(up.reports[ssrc])
}

func (up *upstream) feedbackSoFar() []*rtcp.TransportLayerCC {
	up.mu.Lock()
	defer up.mu.Unlock()
	return slices.Clone(up.feedback)
}

// publisherSeqs are the publisher's sequence numbers of the video a
// subscriber receives, read from the payload (the SFU renumbers).
type publisherSeqs struct {
	mu    sync.Mutex
	first int // sinceFirst of the first received; -1 before
	seen  map[uint16]bool
}

func recordPublisherSeqs(sub *netPeer) *publisherSeqs {
	got := &publisherSeqs{first: -1, seen: map[uint16]bool{}}
	sub.down.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if tr.Kind() != webrtc.RTPCodecTypeVideo || len(pkt.Payload) < 5 {
				continue
			}
			seq := binary.BigEndian.Uint16(pkt.Payload[3:])
			got.mu.Lock()
			if got.first < 0 {
				got.first = sinceFirst(seq)
			}
			got.seen[seq] = true
			got.mu.Unlock()
		}
	})
	return got
}

func (g *publisherSeqs) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}

// missing lists the packets from the first received to last that have
// not been.
func (g *publisherSeqs) missing(last uint16) []uint16 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []uint16
	for i := max(g.first, 0); i <= sinceFirst(last); i++ {
		if !g.seen[uint16(firstSeq+i)] {
			out = append(out, uint16(firstSeq+i))
		}
	}
	return out
}

// lossyUplink is a publisher's network that loses packets on their way
// out: once told to, every nth packet of a stream, the first time it is
// sent (a resend passes). It notes what it sends, by sequence number and
// by transport-wide sequence number.
type lossyUplink struct {
	transport.Net
	every int

	mu     sync.Mutex
	twccID uint8
	losing map[uint32]int            // SSRC: packets counted since the loss began
	sent   map[uint32]map[uint16]int // SSRC: times each sequence number went out or was dropped
	lost   map[uint32][]uint16       // SSRC: sequence numbers dropped
	twcc   []twccSent                // since the loss began
}

type twccSent struct {
	seq    uint16
	passed bool
}

func newLossyUplink(t *testing.T, every int) *lossyUplink {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return &lossyUplink{Net: n, every: every,
		losing: map[uint32]int{}, sent: map[uint32]map[uint16]int{}, lost: map[uint32][]uint16{}}
}

func (l *lossyUplink) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := l.Net.ListenUDP(network, addr)
	if err != nil || addr.IP.IsMulticast() {
		return c, err
	}
	return &uplinkConn{UDPConn: c, link: l}, nil
}

// newPublisherBehind makes a client behind link that, like a browser and
// unlike Pion's default, numbers what it sends with transport-wide
// sequence numbers. The link reads that number in each RTP header, so
// the client leaves the headers clear: Pion would otherwise encrypt them
// (RFC 9335, cryptex), as the SFU offers.
func newPublisherBehind(t *testing.T, link *lossyUplink) *peer {
	t.Helper()
	cfg := webrtc.Configuration{RTPHeaderEncryptionPolicy: webrtc.RTPHeaderEncryptionPolicyDisable}
	return newPeerWith(t, publisherAPI(t, link), cfg)
}

// publisherAPI makes newPublisherBehind's connections.
func publisherAPI(t *testing.T, link *lossyUplink) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
		t.Fatal(err)
	}
	se := rtcpeer.Settings()
	se.SetNet(link)
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg))
}

func (l *lossyUplink) numberedBy(id uint8) {
	l.mu.Lock()
	l.twccID = id
	l.mu.Unlock()
}

func (l *lossyUplink) startLosing(ssrc uint32) {
	l.mu.Lock()
	l.losing[ssrc] = 0
	l.mu.Unlock()
}

func (l *lossyUplink) dropped(ssrc uint32) []uint16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lost[ssrc])
}

func (l *lossyUplink) timesSent(ssrc uint32, seq uint16) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent[ssrc][seq]
}

func (l *lossyUplink) twccSince() []twccSent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.twcc)
}

// drop notes packet p and says whether to lose it.
func (l *lossyUplink) drop(p []byte) bool {
	// RTP, not RTCP (payload types 64-95 with the marker bit are RTCP's),
	// nor DTLS or STUN; SRTP leaves the header in the clear.
	if len(p) < 12 || p[0]>>6 != 2 || (p[1]&0x7f >= 64 && p[1]&0x7f < 96) {
		return false
	}
	var h rtp.Header
	if _, err := h.Unmarshal(p); err != nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent[h.SSRC] == nil {
		l.sent[h.SSRC] = map[uint16]int{}
	}
	first := l.sent[h.SSRC][h.SequenceNumber] == 0
	l.sent[h.SSRC][h.SequenceNumber]++
	n, losing := l.losing[h.SSRC]
	drop := false
	if losing && first {
		l.losing[h.SSRC] = n + 1
		drop = (n+1)%l.every == 0
	}
	if drop {
		l.lost[h.SSRC] = append(l.lost[h.SSRC], h.SequenceNumber)
	}
	if ext := h.GetExtension(l.twccID); len(ext) == 2 && len(l.losing) > 0 {
		l.twcc = append(l.twcc, twccSent{seq: binary.BigEndian.Uint16(ext), passed: !drop})
	}
	return drop
}

type uplinkConn struct {
	transport.UDPConn
	link *lossyUplink
}

func (c *uplinkConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.link.drop(p) {
		return len(p), nil
	}
	return c.UDPConn.WriteTo(p, addr)
}
