package sfu

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// wire is what a down stream writes to: it notes the last packet.
type wire struct {
	n          int
	seq, twcc  uint16
	payloadLen int
	first      byte
}

func (w *wire) Write(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	w.n++
	w.seq, w.payloadLen, w.first = h.SequenceNumber, len(payload), payload[0]
	if ext := h.GetExtension(5); len(ext) == 2 {
		w.twcc = binary.BigEndian.Uint16(ext)
	}
	return len(payload), nil
}

func videoStream(t *testing.T) (*downWriter, *wire) {
	t.Helper()
	i, err := downWriterFactory{}.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	w, out := i.(*downWriter), &wire{}
	w.BindLocalStream(&interceptor.StreamInfo{
		SSRC:                1,
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: transportCCURI, ID: 5}},
		RTCPFeedback:        []interceptor.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}},
	}, out)
	return w, out
}

// writePackets writes count packets numbered from seq, of size bytes
// each, their first byte the low byte of their number.
func writePackets(w *downWriter, seq uint16, count, size int) {
	h := rtp.Header{Version: 2, SSRC: 1, PayloadType: 96}
	payload := make([]byte, size)
	for i := range count {
		h.SequenceNumber = seq + uint16(i)
		h.Extension, h.Extensions = false, h.Extensions[:0]
		payload[0] = byte(h.SequenceNumber)
		w.streams[1].Write(&h, payload, nil) //nolint:errcheck
	}
}

func TestADownStreamResendsWhatANackAsksForWhileItIsKept(t *testing.T) {
	tests := []struct {
		name       string
		count      int    // packets written, from 65000 (so across the wrap)
		size       int    // bytes of payload each
		pid, blp   uint16 // the NACK
		resent     int
		lastResent uint16
	}{
		{"one recent packet", 100, 1000, 65090, 0, 1, 65090},
		{"a packet and two after it, across the wrap", 600, 100, 65534, 0b101, 3, 1},
		{"the oldest packet still in the slots", 700, 100, 65000 + 700 - historySlots, 0, 1, 65000 + 700 - historySlots},
		{"a packet older than the slots", 700, 100, 65000 + 700 - historySlots - 1, 0, 0, 0},
		{"a packet whose bytes were overwritten", 400, 1200, 65000, 0, 0, 0},
		{"a packet never sent", 100, 1000, 64000, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, out := videoStream(t)
			writePackets(w, 65000, tt.count, tt.size)
			sent, twcc := out.n, out.twcc
			if got := w.resend(1, tt.pid, tt.blp); got != tt.resent {
				t.Fatalf("resent %d packets, want %d", got, tt.resent)
			}
			if out.n != sent+tt.resent {
				t.Fatalf("%d packets reached the wire, want %d", out.n-sent, tt.resent)
			}
			if tt.resent == 0 {
				return
			}
			if out.seq != tt.lastResent || out.first != byte(tt.lastResent) || out.payloadLen != tt.size {
				t.Errorf("resent packet %d (first byte %d, %d bytes), want %d (%d, %d)",
					out.seq, out.first, out.payloadLen, tt.lastResent, byte(tt.lastResent), tt.size)
			}
			if out.twcc != twcc+uint16(tt.resent) {
				t.Errorf("the resent packets' transport-wide number is %d, want %d: one each, after the rest",
					out.twcc, twcc+uint16(tt.resent))
			}
		})
	}
}

func TestAStreamThatIsNotNackedKeepsNoHistory(t *testing.T) {
	w := &downWriter{streams: map[uint32]*outStream{}}
	w.BindLocalStream(&interceptor.StreamInfo{SSRC: 2}, &wire{})
	if w.streams[2].sent != nil {
		t.Error("an audio stream (no nack feedback) keeps a history")
	}
	w.UnbindLocalStream(&interceptor.StreamInfo{SSRC: 2})
	if w.resend(2, 0, 0) != 0 || len(w.streams) != 0 {
		t.Error("an unbound stream is still answered")
	}
}

// Writing, keeping and resending a packet allocate nothing.
func TestADownStreamAllocatesNothingPerPacket(t *testing.T) {
	w, _ := videoStream(t)
	s := w.streams[1]
	h := rtp.Header{Version: 2, SSRC: 1, PayloadType: 96}
	payload := make([]byte, 1200)
	allocs := testing.AllocsPerRun(2000, func() {
		h.SequenceNumber++
		h.Extension, h.Extensions = false, h.Extensions[:0]
		s.Write(&h, payload, nil) //nolint:errcheck
		w.resend(1, h.SequenceNumber-3, 0b11)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet written and resent", allocs)
	}
}

// A history starts small and grows only while its slab comes round in
// less than historyAge, keeping what it holds as it grows.
func TestAHistoryGrowsOnlyForAStreamThatFillsItWithinASecond(t *testing.T) {
	h := rtp.Header{Version: 2, SSRC: 1, PayloadType: 96}
	payload := make([]byte, 1200)
	write := func(r *history, from uint16, count int) {
		for i := range count {
			h.SequenceNumber = from + uint16(i)
			payload[0] = byte(h.SequenceNumber)
			r.store(&h, payload)
		}
	}

	fast := newHistory()
	write(fast, 65500, 300) // 360 KB at once, across the sequence wrap
	if len(fast.slab) != historyBytes {
		t.Errorf("a fast stream's slab is %d bytes, want %d", len(fast.slab), historyBytes)
	}
	for _, seq := range []uint16{65500, 65535, 0, 255} {
		if p := fast.get(seq); p == nil || p[12] != byte(seq) {
			t.Errorf("packet %d was lost as the slab grew", seq)
		}
	}

	slow := newHistory()
	slow.lapAt = time.Now().Add(-2 * historyAge) // its first lap took two seconds
	write(slow, 100, 40)                         // 48 KB: round the first slab once
	if len(slow.slab) != historyFirstBytes {
		t.Errorf("a slow stream's slab grew to %d bytes, want %d", len(slow.slab), historyFirstBytes)
	}
	if slow.get(100) != nil || slow.get(139) == nil {
		t.Errorf("a slow stream keeps its oldest packet or lost its newest")
	}
}
