package sfu

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// sentLog is a subscriber's connection that notes the numbers written.
type sentLog []uint16

func (s *sentLog) WriteRTP(h *rtp.Header, _ []byte) (int, error) {
	*s = append(*s, h.SequenceNumber)
	return 0, nil
}
func (s *sentLog) Write(b []byte) (int, error) { return len(b), nil }

// A late packet of the old layer (resent on our NACK) does not pull the
// numbering back: the new layer's keyframe follows the newest sent, so
// no sequence number is sent twice across the switch.
func TestALatePacketDoesNotRenumberTheNextLayer(t *testing.T) {
	tr := &Track{kind: webrtc.RTPCodecTypeVideo, publisher: &Participant{},
		keyframe: func(p []byte) bool { return p[0] == 'k' }}
	tr.present.Store(0b11)
	low, high := &layer{index: 0}, &layer{index: 1}
	var out sentLog
	d := newDownTrack(tr, &Participant{})
	d.bound, d.out, d.maxLayer, d.allowed = true, &out, 0, 0
	d.sub.downReady.Store(true)
	pkt := func(seq uint16, kind byte) *rtp.Packet {
		return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(seq) * 90}, Payload: []byte{kind}}
	}
	d.write(low, pkt(100, 'k'))
	d.write(low, pkt(101, 'd'))
	d.write(low, pkt(103, 'd'))
	d.write(low, pkt(102, 'd')) // late
	d.maxLayer, d.allowed = 1, 1
	d.write(high, pkt(5000, 'k'))
	d.write(high, pkt(5001, 'd'))
	want := []uint16{100, 101, 103, 102, 104, 105}
	if len(out) != len(want) {
		t.Fatalf("sent %v, want %v", out, want)
	}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("sent %v, want %v", out, want)
		}
	}
}

// A subscriber whose keyframe waits in its layer's start cache gets the
// cache as its connection comes up, not at the layer's next packet; the
// read loop's packet in flight, which the cache already held, is not sent
// again, and the live packets follow.
func TestTheStartCacheGoesOutAsTheConnectionComesUpAndOnce(t *testing.T) {
	tr := &Track{kind: webrtc.RTPCodecTypeVideo, publisher: &Participant{}, fastStart: true,
		keyframe: func(p []byte) bool { return p[0] == 'k' }}
	l := &layer{index: 0}
	tr.layers[0] = l
	tr.present.Store(0b1)
	var out sentLog
	d := newDownTrack(tr, &Participant{})
	d.bound, d.out = true, &out
	pkt := func(seq uint16, kind byte) *rtp.Packet {
		return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(seq) * 90}, Payload: []byte{kind}}
	}
	now := time.Now().UnixNano()
	// The read loop has kept 10 and 11, and is about to write 11, when
	// the connection comes up.
	l.start.add(pkt(10, 'k'), true, now)
	l.start.add(pkt(11, 'd'), false, now)
	d.sub.downReady.Store(true)
	d.start(true)
	if want := []uint16{10, 11}; !slices.Equal(out, want) {
		t.Fatalf("sent %v as the connection came up, want %v", out, want)
	}
	d.write(l, pkt(11, 'd'))
	l.start.add(pkt(12, 'd'), false, now)
	d.write(l, pkt(12, 'd'))
	if want := []uint16{10, 11, 12}; !slices.Equal(out, want) {
		t.Fatalf("sent %v, want %v", out, want)
	}
}
