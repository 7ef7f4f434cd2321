package sfu

import (
	"testing"

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
