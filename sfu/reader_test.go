package sfu

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// nacked lists the sequence numbers in pairs.
func nacked(pairs []rtcp.NackPair) []uint16 {
	var out []uint16
	for _, p := range pairs {
		out = append(out, p.PacketList()...)
	}
	return out
}

// seqs is the sequence numbers from first for count, less those in skip.
func seqs(first uint16, count int, skip ...uint16) []uint16 {
	var out []uint16
	for i := range count {
		if s := first + uint16(i); !slices.Contains(skip, s) {
			out = append(out, s)
		}
	}
	return out
}

func TestAnUpStreamAsksForThePacketsMissingFromItsLog(t *testing.T) {
	tests := []struct {
		name    string
		arrived []uint16
		want    []uint16
	}{
		{"none missing", seqs(100, 50), nil},
		{"two lost across the wrap", seqs(65530, 12, 65534, 2), []uint16{65534, 2}},
		{"a late packet is not asked for", append(seqs(10, 20, 15), 15), nil},
		{"a duplicate changes nothing", append(seqs(10, 20, 15), 12), []uint16{15}},
		{"a burst, in pairs of 17", seqs(1000, 40, seqs(1005, 20)...), seqs(1005, 20)},
		{"only as far back as the log", seqs(0, 1000, 3, 500, 900), []uint16{500, 900}},
		{"nothing across a gap wider than the log", append(seqs(0, 10), 2000, 2001, 2003), []uint16{2002}},
		{"nothing before the first packet", append(seqs(50, 10), 40), nil},
		{"a sender numbering anew is followed", append(seqs(1000, 10, 1005), 100, 101, 103), []uint16{102}},
		{"one packet far behind is not", append(seqs(1000, 10, 1005), 100, 1010, 101), []uint16{1005}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := recvLog{asks: new([recvLogSize]nackAsk)}
			for _, s := range tt.arrived {
				l.add(s)
			}
			if got := nacked(l.nacks(1, nil)); !slices.Equal(got, tt.want) {
				t.Errorf("asked for %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAnUpStreamAsksForALostPacketTenTimesAtMostAndSpacesTheAsks(t *testing.T) {
	l := recvLog{asks: new([recvLogSize]nackAsk)}
	for _, s := range seqs(65500, 20, 65510) {
		l.add(s)
	}
	// Tick on, across the ticks' wrap too, noting when it is asked for.
	var asked []uint16
	for tick := uint16(65500); tick != 100; tick++ {
		if got := nacked(l.nacks(tick, nil)); len(got) > 0 {
			if !slices.Equal(got, []uint16{65510}) {
				t.Fatalf("tick %d: asked for %v", tick, got)
			}
			asked = append(asked, tick)
		}
	}
	if len(asked) != nackTries {
		t.Fatalf("asked %d times, want %d", len(asked), nackTries)
	}
	for i := 1; i < len(asked); i++ {
		if asked[i]-asked[i-1] < nackRetryTicks {
			t.Fatalf("asked on ticks %v: closer than %d", asked, nackRetryTicks)
		}
	}
	// Once it comes, or once the log has moved past it, it is not asked
	// for again; a new loss in its slot is.
	l.add(65510)
	if got := l.nacks(200, nil); len(got) != 0 {
		t.Fatalf("asked for %v after it came", nacked(got))
	}
	again := uint16(65510)
	again += recvLogSize // the same slot, a lap later
	for _, s := range seqs(65520, recvLogSize+1, again) {
		l.add(s)
	}
	if got := nacked(l.nacks(300, nil)); !slices.Equal(got, []uint16{again}) {
		t.Fatalf("asked for %v, want the new loss in the old one's slot", got)
	}
}

func TestAnUpStreamThatIsNotNackedAsksForNothing(t *testing.T) {
	var l recvLog
	for _, s := range seqs(0, 20, 5) {
		l.add(s)
	}
	if got := l.nacks(1, nil); len(got) != 0 {
		t.Fatalf("asked for %v", nacked(got))
	}
}

// audioStream is an up stream of Opus, not NACKed, read from r.
func audioStream(u *upReader, r interceptor.RTPReader) *inStream {
	return u.BindRemoteStream(&interceptor.StreamInfo{SSRC: 7, ClockRate: 48000}, r).(*inStream)
}

func TestAnUpStreamReportsLossAcrossTheWrapAndLatePacketsMakeUpForIt(t *testing.T) {
	u := newUpReader()
	s := audioStream(u, nil)
	now := time.Now()
	// 100 packets, 5 of them lost, across the wrap.
	for _, seq := range seqs(65500, 100, 65510, 65520, 2, 3, 40) {
		s.noteLocked(now, seq, 0)
	}
	r := s.reportLocked(now)
	if r.SSRC != 7 || r.LastSequenceNumber != 1<<16|63 || r.TotalLost != 5 || r.FractionLost != 5*256/100 {
		t.Fatalf("report %+v: want SSRC 7, highest 1<<16|63, 5 lost in all, fraction %d", r, 5*256/100)
	}
	for _, seq := range seqs(64, 100) {
		s.noteLocked(now, seq, 0)
	}
	if r = s.reportLocked(now); r.TotalLost != 5 || r.FractionLost != 0 || r.LastSequenceNumber != 1<<16|163 {
		t.Fatalf("report %+v: want 5 lost in all, none since, highest 1<<16|163", r)
	}
	s.noteLocked(now, 2, 0) // late, resent
	s.noteLocked(now, 2, 0) // and twice
	s.noteLocked(now, 3, 0)
	if r = s.reportLocked(now); r.TotalLost != 3 || r.FractionLost != 0 {
		t.Fatalf("report %+v: want 3 lost in all once two came late, no fraction", r)
	}
	for _, seq := range seqs(164, 4, 164, 165, 166, 167) {
		s.noteLocked(now, seq, 0)
	}
	s.noteLocked(now, 168, 0)
	if r = s.reportLocked(now); r.TotalLost != 7 || r.FractionLost != 4*256/5 {
		t.Fatalf("report %+v: want 7 lost, fraction %d", r, 4*256/5)
	}
}

func TestAnUpStreamReportsInterarrivalJitterInItsClock(t *testing.T) {
	u := newUpReader()
	s := audioStream(u, nil)
	start := time.Now()
	// 20 ms packets arriving alternately 1 ms early and 1 ms late: each
	// transit differs from the last by 2 ms, 96 units at 48 kHz.
	for i := range 500 {
		at := start.Add(time.Duration(i)*20*time.Millisecond + time.Duration(i%2)*2*time.Millisecond)
		s.noteLocked(at, uint16(i), uint32(i*960))
	}
	if r := s.reportLocked(start); r.Jitter < 94 || r.Jitter > 96 {
		t.Fatalf("jitter %d, want about 96", r.Jitter)
	}
	// On time: it decays.
	for i := 500; i < 600; i++ {
		s.noteLocked(start.Add(time.Duration(i)*20*time.Millisecond), uint16(i), uint32(i*960))
	}
	if r := s.reportLocked(start); r.Jitter > 1 {
		t.Fatalf("jitter %d once on time, want 0", r.Jitter)
	}
}

// rtcpSource is the client's RTCP: each Read gives the next of pkts.
type rtcpSource struct{ pkts [][]byte }

func (r *rtcpSource) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	n := copy(b, r.pkts[0])
	r.pkts = r.pkts[1:]
	return n, a, nil
}

func TestAnUpStreamReportsTheClientsLastSenderReport(t *testing.T) {
	u := newUpReader()
	s := audioStream(u, nil)
	s.noteLocked(time.Now(), 1, 0)
	compound, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 9, NTPTime: 0x0102030405060708}, // another stream's
		&rtcp.SenderReport{SSRC: 7, NTPTime: 0x1122334455667788, Reports: []rtcp.ReceptionReport{{SSRC: 1}}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 7,
			Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "cname"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1500)
	if _, _, err := u.BindRTCPReader(&rtcpSource{pkts: [][]byte{compound}}).Read(b, nil); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	at := s.srAt
	s.mu.Unlock()
	if r := s.reportLocked(at.Add(1500 * time.Millisecond)); r.LastSenderReport != 0x33445566 || r.Delay != 3*65536/2 {
		t.Fatalf("LSR %#x, DLSR %d: want 0x33445566, %d", r.LastSenderReport, r.Delay, 3*65536/2)
	}
}

// feed is a client's stream: each Read gives it the next packet of a
// template, numbered in place, skipping every lossEvery-th number.
type feed struct {
	pkt       []byte
	twccAt    int // where the transport-wide sequence number is
	seq, twcc uint16
	lossEvery uint16
}

// newFeed makes VP8 packets of SSRC 1 with the transport-wide sequence
// number as extension 5, in the one-byte or the two-byte form.
func newFeed(t testing.TB, twoByte bool) *feed {
	t.Helper()
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
	if twoByte {
		h.Extension, h.ExtensionProfile = true, rtp.ExtensionProfileTwoByte
	}
	if err := h.SetExtension(5, []byte{0, 0}); err != nil {
		t.Fatal(err)
	}
	hdr, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// The header, the extension profile and length, then the one
	// extension's id and length in one byte or two.
	twccAt := 12 + 4 + 1
	if twoByte {
		twccAt++
	}
	return &feed{pkt: append(hdr, make([]byte, 1000)...), twccAt: twccAt, seq: 65000}
}

func (f *feed) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	f.seq++
	if f.lossEvery != 0 && f.seq%f.lossEvery == 0 {
		f.seq++
	}
	f.twcc++
	binary.BigEndian.PutUint16(f.pkt[2:], f.seq)
	binary.BigEndian.PutUint32(f.pkt[4:], uint32(f.seq)*3000)
	binary.BigEndian.PutUint16(f.pkt[f.twccAt:], f.twcc)
	return copy(b, f.pkt), a, nil
}

// videoIn is an up stream of VP8, NACKed and numbered for TWCC, read
// from f.
func videoIn(u *upReader, f *feed) interceptor.RTPReader {
	return u.BindRemoteStream(&interceptor.StreamInfo{
		SSRC: 1, ClockRate: 90000,
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: transportCCURI, ID: 5}},
		RTCPFeedback:        []interceptor.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"}},
	}, f)
}

func TestAnUpStreamRecordsTransportWideSequenceNumbersOfEitherExtensionForm(t *testing.T) {
	for _, twoByte := range []bool{false, true} {
		u := newUpReader()
		f := newFeed(t, twoByte)
		r := videoIn(u, f)
		b := make([]byte, 1500)
		for range 50 {
			if _, _, err := r.Read(b, nil); err != nil {
				t.Fatal(err)
			}
		}
		fb := u.owed(twccTicks, time.Now(), nil)
		if len(fb) != 1 {
			t.Fatalf("two-byte %v: %d packets of feedback, want 1", twoByte, len(fb))
		}
		cc, ok := fb[0].(*rtcp.TransportLayerCC)
		if !ok || cc.BaseSequenceNumber != 1 || cc.PacketStatusCount != 50 || cc.MediaSSRC != 1 || len(cc.RecvDeltas) != 50 {
			t.Fatalf("two-byte %v: feedback %v, want 50 packets from 1", twoByte, fb[0])
		}
	}
}

// wireRTCP is an up connection's RTCP writer: it passes on what is
// written.
type wireRTCP chan []rtcp.Packet

func (w wireRTCP) Write(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
	w <- pkts
	return 0, nil
}

func TestTheTickerSendsNacksFeedbackAndReportsAndStopsOnClose(t *testing.T) {
	u := newUpReader()
	wire := make(wireRTCP, 64)
	u.BindRTCPWriter(wire)
	f := newFeed(t, false)
	f.lossEvery = 10
	r := videoIn(u, f)
	b := make([]byte, 1500)
	for range 99 { // 65001 to 65109, less 65010, 65020 ... 65100
		r.Read(b, nil) //nolint:errcheck
	}
	var nack, cc, rr bool
	deadline := time.After(3 * reportTicks * upTick)
	for !nack || !cc || !rr {
		select {
		case pkts := <-wire:
			size := 0
			for i, p := range pkts {
				size += p.MarshalSize()
				switch p := p.(type) {
				case *rtcp.TransportLayerNack:
					nack = true
					if got := nacked(p.Nacks); p.MediaSSRC != 1 || len(got) != 10 || got[0] != 65010 {
						t.Fatalf("NACK for %d of SSRC %d, want 10 from 65010", got, p.MediaSSRC)
					}
				case *rtcp.TransportLayerCC:
					cc = true
				case *rtcp.ReceiverReport:
					rr = true
					if i != 0 || len(p.Reports) != 1 || p.Reports[0].SSRC != 1 || p.Reports[0].TotalLost != 10 {
						t.Fatalf("receiver report %v at %d of the compound packet", p, i)
					}
				}
			}
			if size > rtcpMTU && len(pkts) > 1 {
				t.Fatalf("a compound packet of %d bytes", size)
			}
		case <-deadline:
			t.Fatalf("within %v: NACK %v, TWCC feedback %v, receiver report %v", 3*reportTicks*upTick, nack, cc, rr)
		}
	}
	// Close returns once the ticker has ended.
	closed := make(chan struct{})
	go func() { u.Close(); close(closed) }()
	for {
		select {
		case <-wire: // a tick under way when Close came
		case <-closed:
			return
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not return within 5s")
		}
	}
}

func TestAConnectionThatPublishesNothingRunsNoTicker(t *testing.T) {
	u := newUpReader()
	u.BindRTCPWriter(make(wireRTCP))
	u.mu.Lock()
	running := u.running
	u.mu.Unlock()
	if running {
		t.Fatal("the ticker runs with no stream")
	}
	u.Close()
}

// Reading a packet of the client's allocates nothing: not the receive
// log, the reception statistics, nor the TWCC recorder once it has grown
// to what it holds.
func TestReadingAnUpStreamAllocatesNothingPerPacket(t *testing.T) {
	u := newUpReader()
	f := newFeed(t, false)
	f.lossEvery = 50
	r := videoIn(u, f)
	b := make([]byte, 1500)
	for range 1 << 16 { // the recorder grows to its most
		r.Read(b, nil) //nolint:errcheck
	}
	allocs := testing.AllocsPerRun(10000, func() {
		if _, _, err := r.Read(b, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet", allocs)
	}
}
