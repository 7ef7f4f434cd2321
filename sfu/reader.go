package sfu

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

const (
	// upTick is how often an up connection sends what a receiver owes
	// its sender: NACKs on every tick, TWCC feedback every twccTicks,
	// receiver reports every reportTicks. It is the shared clock's
	// period (clock.go).
	upTick      = tickPeriod
	twccTicks   = 2  // 100 ms, as Pion and Chrome send it
	reportTicks = 20 // 1 s
	// nackTries is how often one lost packet is asked for (Chrome: 10),
	// nackRetryTicks apart at least, so that a resend has a round trip
	// to arrive before it is asked for again.
	nackTries      = 10
	nackRetryTicks = 2
	// recvLogSize is how many of a stream's newest sequence numbers are
	// remembered, a power of two that divides 65536: about a second of a
	// 500 packets/s layer. Nothing older is asked for.
	recvLogSize = 512
	// rtcpMTU bounds each compound RTCP packet a tick writes.
	rtcpMTU = 1200
)

// upReader is the one interceptor of an up connection. It does what a
// receiver owes the client that publishes: it asks for lost video packets
// (NACK), reports reception every second and sends transport-wide
// congestion control feedback. It notes each packet inline as the
// track's read loop reads it, allocating nothing, and sends the RTCP on
// the shared clock (clock.go), not on a ticker of its own. Pion's NACK
// generator, receiver report and TWCC sender interceptors, which it
// replaces, each made a map and a header per packet, and the TWCC sender
// handed every packet to a goroutine of its own: a wake-up per packet.
type upReader struct {
	interceptor.NoOp
	ssrc  uint32    // ours, as the sender of our RTCP
	epoch time.Time // TWCC arrival times count from here

	mu      sync.Mutex
	streams map[uint32]*inStream // by SSRC
	out     interceptor.RTCPWriter
	running bool // it is on the clock
	closed  bool
	clock   *clock
	ticks   uint32      // ticks since it went on the clock; only the clock touches it
	owing   []*inStream // the streams of a tick, reused; only the clock touches it

	// twccMu guards the recorder: every stream's read loop records in it.
	twccMu sync.Mutex
	twcc   *twcc.Recorder
}

var _ interceptor.Interceptor = (*upReader)(nil)

// upReaderFactory makes each up connection's upReader.
type upReaderFactory struct{}

func (upReaderFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return newUpReader(), nil
}

func newUpReader() *upReader {
	ssrc := rand.Uint32() //nolint:gosec // an SSRC, not a secret
	return &upReader{ssrc: ssrc, epoch: time.Now(), streams: map[uint32]*inStream{},
		clock: sharedClock, twcc: twcc.NewRecorder(ssrc)}
}

// inStream is one stream the client publishes. Pion reads it from one
// goroutine at a time (the track's read loop); mu orders that with the
// clock's tick and the RTCP reader.
type inStream struct {
	up     *upReader
	next   interceptor.RTPReader
	ssrc   uint32
	clock  int64      // Hz; 0 if unknown, and then no jitter
	twccID uint8      // of the transport-wide sequence number; 0 when not negotiated
	hdr    rtp.Header // the packet being read, reused: only the reader touches it

	mu  sync.Mutex
	log recvLog
	// Reception for the reports (RFC 3550 A.3 and A.8).
	start   time.Time // the first packet's arrival: the jitter's clock counts from here
	transit uint32    // the newest packet's arrival less its RTP timestamp, in the clock
	jitter  int64     // interarrival jitter in the clock, times 16
	lsr     uint32    // the middle of the NTP time of the client's last sender report
	srAt    time.Time // when it came
}

// BindRTCPWriter is called by Pion once per connection: the writer is
// what the tick sends on.
func (u *upReader) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	u.mu.Lock()
	u.out = w
	u.startLocked()
	u.mu.Unlock()
	return w
}

// BindRemoteStream is called by Pion as a stream of the client's starts.
func (u *upReader) BindRemoteStream(info *interceptor.StreamInfo, next interceptor.RTPReader) interceptor.RTPReader {
	s := &inStream{up: u, next: next, ssrc: info.SSRC, clock: int64(info.ClockRate)}
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == transportCCURI {
			s.twccID = uint8(e.ID) //nolint:gosec // extension ids are 1..255
		}
	}
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			s.log.asks = new([recvLogSize]nackAsk)
		}
	}
	u.mu.Lock()
	u.streams[info.SSRC] = s
	u.startLocked()
	u.mu.Unlock()
	return s
}

// UnbindRemoteStream is called by Pion as a stream ends.
func (u *upReader) UnbindRemoteStream(info *interceptor.StreamInfo) {
	u.mu.Lock()
	delete(u.streams, info.SSRC)
	u.mu.Unlock()
}

// BindRTCPReader notes the client's sender reports, for the LSR and DLSR
// of ours. They pass here as each layer's receiver is read for RTCP
// (drainRTCP, track.go).
func (u *upReader) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil {
			u.senderReports(b[:n], time.Now())
		}
		return n, a, err
	})
}

// Close takes it off the clock, and returns once no tick is sending for
// it.
func (u *upReader) Close() error {
	u.mu.Lock()
	running := u.running
	u.closed = true
	u.mu.Unlock()
	if running {
		u.clock.remove(u)
	}
	return nil
}

// startLocked puts it on the clock once there is a writer and a stream:
// a connection that publishes nothing yet costs nothing on a tick. u.mu
// is held.
func (u *upReader) startLocked() {
	if u.running || u.closed || u.out == nil || len(u.streams) == 0 {
		return
	}
	u.running = true
	u.clock.add(u)
}

// Read reads a packet and notes it: in the receive log and the reception
// statistics, and in the TWCC recorder. A packet that does not parse is
// passed on for the track's reader to drop; an error would end it.
func (s *inStream) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	n, a, err := s.next.Read(b, a)
	if err != nil {
		return n, a, err
	}
	if _, err := s.hdr.Unmarshal(b[:n]); err != nil {
		return n, a, nil
	}
	now := time.Now()
	s.mu.Lock()
	s.noteLocked(now, s.hdr.SequenceNumber, s.hdr.Timestamp)
	s.mu.Unlock()
	if s.twccID != 0 {
		if ext := s.hdr.GetExtension(s.twccID); len(ext) >= 2 {
			s.up.twccMu.Lock()
			s.up.twcc.Record(s.ssrc, binary.BigEndian.Uint16(ext), now.Sub(s.up.epoch).Microseconds())
			s.up.twccMu.Unlock()
		}
	}
	return n, a, nil
}

// noteLocked counts packet seq, stamped ts, arrived at now. Jitter is
// measured on packets in order only: a late or resent packet's delay
// tells of the resend, not of the network. s.mu is held.
func (s *inStream) noteLocked(now time.Time, seq uint16, ts uint32) {
	if !s.log.add(seq) || s.clock == 0 {
		return
	}
	first := s.log.received == 1 // or the first since the numbering started again
	if first {
		s.start = now
	}
	d := now.Sub(s.start)
	arrival := uint32(int64(d/time.Second)*s.clock + int64(d%time.Second)*s.clock/int64(time.Second)) //nolint:gosec // it wraps as RTP time does
	transit := arrival - ts
	if !first {
		delta := int64(int32(transit - s.transit)) //nolint:gosec // a signed difference
		s.jitter += max(delta, -delta) - (s.jitter+8)>>4
	}
	s.transit = transit
}

// reportLocked is the stream's reception report: loss since the last one
// and in all, the highest sequence number, jitter, and the time since
// the client's last sender report. s.mu is held.
func (s *inStream) reportLocked(now time.Time) rtcp.ReceptionReport {
	l := &s.log
	expected := l.max - l.base + 1
	expInt, recvInt := expected-l.expectedPrior, l.received-l.receivedPrior
	l.expectedPrior, l.receivedPrior = expected, l.received
	var fraction uint8
	if lostInt := expInt - recvInt; expInt > 0 && lostInt > 0 {
		fraction = uint8(min(lostInt<<8/expInt, 255))
	}
	r := rtcp.ReceptionReport{
		SSRC:               s.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(min(expected-l.received, 0x7fffff)), //nolint:gosec // 0 to 2^23-1: received never exceeds expected
		LastSequenceNumber: uint32(l.max),                              //nolint:gosec // wrap count and sequence number
		Jitter:             uint32(s.jitter >> 4),                      //nolint:gosec // not negative
		LastSenderReport:   s.lsr,
	}
	if !s.srAt.IsZero() {
		r.Delay = uint32(now.Sub(s.srAt).Nanoseconds() << 16 / int64(time.Second)) //nolint:gosec // in 1/65536 s
	}
	return r
}

// senderReports notes the sender reports in the compound RTCP packet b,
// walking the packets' headers only.
func (u *upReader) senderReports(b []byte, now time.Time) {
	for p, rest, ok := nextRTCP(b); ok; p, rest, ok = nextRTCP(rest) {
		// A sender report: header, SSRC, 8 bytes of NTP time, RTP
		// time, packet and byte counts; the report's LSR is the
		// middle 32 bits of the NTP time.
		if rtcp.PacketType(p[1]) != rtcp.TypeSenderReport || len(p) < 28 {
			continue
		}
		u.mu.Lock()
		s := u.streams[binary.BigEndian.Uint32(p[4:8])]
		u.mu.Unlock()
		if s != nil {
			s.mu.Lock()
			s.lsr, s.srAt = binary.BigEndian.Uint32(p[10:14]), now
			s.mu.Unlock()
		}
	}
}

// tick sends what is owed on the connection's next tick. The clock
// calls it until Close.
func (u *upReader) tick(now time.Time) bool {
	u.ticks++
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return false
	}
	out := u.out
	u.owing = u.owing[:0]
	for _, s := range u.streams {
		u.owing = append(u.owing, s)
	}
	u.mu.Unlock()
	writeCompound(out, u.owed(u.ticks, now, u.owing))
	clear(u.owing)
	return true
}

// owed is what to send on tick n: receiver reports first, as a compound
// packet starts, then NACKs, then TWCC feedback.
func (u *upReader) owed(n uint32, now time.Time, streams []*inStream) []rtcp.Packet {
	var reports, nacks []rtcp.Packet
	var rr *rtcp.ReceiverReport
	for _, s := range streams {
		s.mu.Lock()
		if s.log.started {
			if n%reportTicks == 0 {
				if rr == nil || len(rr.Reports) == 31 { // as many as an RR holds
					rr = &rtcp.ReceiverReport{SSRC: u.ssrc}
					reports = append(reports, rr)
				}
				rr.Reports = append(rr.Reports, s.reportLocked(now))
			}
			if pairs := s.log.nacks(uint16(n), nil); len(pairs) > 0 { //nolint:gosec // ticks wrap
				nacks = append(nacks, &rtcp.TransportLayerNack{SenderSSRC: u.ssrc, MediaSSRC: s.ssrc, Nacks: pairs})
			}
		}
		s.mu.Unlock()
	}
	pkts := append(reports, nacks...)
	if n%twccTicks == 0 {
		u.twccMu.Lock()
		feedback := u.twcc.BuildFeedbackPacket()
		u.twccMu.Unlock()
		pkts = append(pkts, feedback...)
	}
	return pkts
}

// writeCompound writes pkts in as few compound packets as fit in
// rtcpMTU bytes each: one SRTCP packet and one send for most ticks.
func writeCompound(out interceptor.RTCPWriter, pkts []rtcp.Packet) {
	for len(pkts) > 0 {
		n, size := 1, pkts[0].MarshalSize()
		for n < len(pkts) && size+pkts[n].MarshalSize() <= rtcpMTU {
			size += pkts[n].MarshalSize()
			n++
		}
		out.Write(pkts[:n], nil) //nolint:errcheck // fails only as the connection closes
		pkts = pkts[n:]
	}
}

// recvLog is what has arrived of one stream: a bitmap of its newest
// recvLogSize sequence numbers and, for a stream that is NACKed, how
// often each missing one was asked for. Sequence numbers are extended
// (counting wraps from the first packet's) so that they only grow; a
// slot is a number modulo recvLogSize.
type recvLog struct {
	got      [recvLogSize / 64]uint64
	asks     *[recvLogSize]nackAsk // nil: the stream is not NACKed
	started  bool
	base     int64 // the first packet's extended sequence number
	max      int64 // the newest's
	from     int64 // the oldest a NACK may ask for
	received int64 // distinct packets from base to max
	// what was expected and received at the last report
	expectedPrior, receivedPrior int64
	// A packet far behind is too late to count, unless the next
	// follows it: then the sender numbers anew (RFC 3550 A.1).
	resyncing bool
	resync    uint16 // the number that would follow it
}

type nackAsk struct {
	tries uint8
	at    uint16 // the tick of the last ask
}

// add notes packet seq and reports whether it is the newest yet. A
// packet older than the log, or one already noted, changes nothing; two
// in a row far behind start the log again.
func (l *recvLog) add(seq uint16) bool {
	if !l.started {
		l.started = true
		l.base, l.max, l.from = int64(seq), int64(seq), int64(seq)
		l.set(l.max)
		l.received = 1
		return true
	}
	ahead := seq - uint16(l.max) //nolint:gosec // the low 16 bits
	if ahead == 0 {
		return false
	}
	if ahead < 0x8000 {
		l.resyncing = false
		ext := l.max + int64(ahead)
		// The slots skipped are a lap old: empty them for the
		// packets now missing.
		for e := l.max + 1; e < ext && e <= l.max+recvLogSize; e++ {
			l.clear(e)
		}
		if ahead >= recvLogSize {
			l.from = ext // a gap wider than the log is past asking for
		}
		l.max = ext
		l.set(ext)
		l.received++
		return true
	}
	ext := l.max - int64(uint16(l.max)-seq) //nolint:gosec // the low 16 bits
	if l.max-ext >= recvLogSize {
		if l.resyncing && seq == l.resync {
			asks := l.asks
			if asks != nil {
				*asks = [recvLogSize]nackAsk{}
			}
			*l = recvLog{asks: asks}
			return l.add(seq)
		}
		l.resyncing, l.resync = true, seq+1
		return false
	}
	if ext < l.base || l.has(ext) {
		return false
	}
	l.set(ext)
	l.received++
	return false
}

func (l *recvLog) has(e int64) bool {
	i := e & (recvLogSize - 1)
	return l.got[i/64]&(1<<(i%64)) != 0
}

func (l *recvLog) set(e int64) {
	i := e & (recvLogSize - 1)
	l.got[i/64] |= 1 << (i % 64)
}

func (l *recvLog) clear(e int64) {
	i := e & (recvLogSize - 1)
	l.got[i/64] &^= 1 << (i % 64)
	if l.asks != nil {
		l.asks[i] = nackAsk{}
	}
}

// nacks appends to pairs what to ask for on tick: the packets missing
// between the oldest remembered and the newest, each at most nackTries
// times, nackRetryTicks apart.
func (l *recvLog) nacks(tick uint16, pairs []rtcp.NackPair) []rtcp.NackPair {
	if l.asks == nil || !l.started {
		return pairs
	}
	for e := max(l.from, l.max-recvLogSize+1); e < l.max; e++ {
		i := e & (recvLogSize - 1)
		if i%64 == 0 && l.got[i/64] == ^uint64(0) {
			e += 63 // all 64 arrived
			continue
		}
		if l.has(e) {
			continue
		}
		a := &l.asks[i]
		if a.tries >= nackTries || (a.tries > 0 && tick-a.at < nackRetryTicks) {
			continue
		}
		a.tries++
		a.at = tick
		pairs = appendNack(pairs, uint16(e)) //nolint:gosec // the low 16 bits
	}
	return pairs
}

// appendNack adds seq to pairs, in the last pair if it is one of the 16
// after that pair's first. Sequence numbers come in order.
func appendNack(pairs []rtcp.NackPair, seq uint16) []rtcp.NackPair {
	if n := len(pairs); n > 0 {
		if d := seq - pairs[n-1].PacketID; d >= 1 && d <= 16 {
			pairs[n-1].LostPackets |= 1 << (d - 1)
			return pairs
		}
	}
	return append(pairs, rtcp.NackPair{PacketID: seq})
}
