package sfu

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// transportCCURI is the RTP header extension of transport-wide sequence
// numbers (TWCC), which the client's congestion feedback refers to.
const transportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// downWriter is the last interceptor of a down connection, so the first
// every packet meets on its way out. For each stream it keeps a history
// of the packets sent (video only: only video is NACKed) and resends them
// when the subscriber NACKs (downTrack.readRTCP calls resend), and it
// numbers every packet, resent ones too, with the transport-wide sequence
// number that the client's congestion feedback refers to, and notes it
// for the bandwidth estimate (gcc.go), which it hands that feedback. It
// does the jobs of Pion's NACK responder, TWCC header interceptor and
// congestion controller without their per-packet copies and allocations,
// and, because it is outermost, a resent packet takes the same path as a
// new one: counted by the estimate and in the sender reports.
type downWriter struct {
	interceptor.NoOp
	twcc atomic.Uint32 // the connection's next transport-wide sequence number
	bwe  *estimator

	mu      sync.Mutex
	streams map[uint32]*outStream // by SSRC
}

// outStream is one stream of a down connection. mu orders everything
// written below it: a packet forwarded by a read loop and one resent from
// the RTCP reader never meet in the interceptors underneath, which are
// written to as from one goroutine.
type outStream struct {
	mu    sync.Mutex
	next  interceptor.RTPWriter
	conn  *downWriter // its transport-wide numbering and estimate
	extID uint8       // of the transport-wide sequence number; 0 when not negotiated
	ext   []byte      // its two bytes, reused
	attrs interceptor.Attributes
	sent  *history   // nil for a stream that is not NACKed
	hdr   rtp.Header // a resent packet's, reused
}

var _ interceptor.Interceptor = (*downWriter)(nil)

// downWriterFactory makes each down connection's downWriter and hands it
// to onNew while the connection is built.
type downWriterFactory struct{ onNew func(*downWriter) }

func (f downWriterFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	w := &downWriter{streams: map[uint32]*outStream{}, bwe: newEstimator(initialEstimate, time.Now())}
	if f.onNew != nil {
		f.onNew(w)
	}
	return w, nil
}

// Close is called by Pion as the connection closes; it ends the estimate,
// and with it the subscriber's allocator.
func (w *downWriter) Close() error { return w.bwe.Close() }

// BindRTCPReader hands the client's congestion feedback to the estimate.
// The other feedback (picture loss, NACKs) is for the stream it names,
// and its downTrack acts on it (rtcp.go).
func (w *downWriter) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err != nil {
			return n, a, err
		}
		for p, rest, ok := nextRTCP(b[:n]); ok; p, rest, ok = nextRTCP(rest) {
			if rtcp.PacketType(p[1]) == rtcp.TypeTransportSpecificFeedback && p[0]&0x1f == rtcp.FormatTCC {
				w.bwe.onFeedback(p, time.Now())
			}
		}
		return n, a, err
	})
}

// BindLocalStream is called by Pion as a sender starts.
func (w *downWriter) BindLocalStream(info *interceptor.StreamInfo, next interceptor.RTPWriter) interceptor.RTPWriter {
	s := &outStream{next: next, conn: w, ext: make([]byte, 2), attrs: interceptor.Attributes{}}
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == transportCCURI {
			s.extID = uint8(e.ID) //nolint:gosec // extension ids are 1..255
		}
	}
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			s.sent = newHistory()
		}
	}
	w.mu.Lock()
	w.streams[info.SSRC] = s
	w.mu.Unlock()
	return s
}

// UnbindLocalStream is called by Pion as a sender stops.
func (w *downWriter) UnbindLocalStream(info *interceptor.StreamInfo) {
	w.mu.Lock()
	delete(w.streams, info.SSRC)
	w.mu.Unlock()
}

// Write sends a packet and keeps it for resending.
func (s *outStream) Write(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent != nil {
		s.sent.store(h, payload)
	}
	return s.sendLocked(h, payload)
}

// sendLocked numbers the packet, notes it for the estimate and writes it
// on. The attributes map is reused: interceptors underneath may set keys
// in it (they would make a map per packet when given none).
func (s *outStream) sendLocked(h *rtp.Header, payload []byte) (int, error) {
	if s.extID != 0 {
		seq := uint16(s.conn.twcc.Add(1) - 1) //nolint:gosec // it wraps, as it should
		binary.BigEndian.PutUint16(s.ext, seq)
		if err := h.SetExtension(s.extID, s.ext); err != nil {
			return 0, err
		}
		s.conn.bwe.sent(seq, h.MarshalSize()+len(payload), time.Now())
	}
	return s.next.Write(h, payload, s.attrs)
}

// resend sends again the packets of stream ssrc that a NACK lists: pid
// and each pid+i+1 whose bit i is set in blp. It reports how many were
// still kept.
func (w *downWriter) resend(ssrc uint32, pid, blp uint16) int {
	w.mu.Lock()
	s := w.streams[ssrc]
	w.mu.Unlock()
	if s == nil || s.sent == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sent := 0
	for i := -1; i < 16; i++ {
		seq := pid
		if i >= 0 {
			if blp&(1<<i) == 0 {
				continue
			}
			seq += uint16(i) + 1 //nolint:gosec // 1..16
		}
		pkt := s.sent.get(seq)
		if pkt == nil {
			continue
		}
		n, err := s.hdr.Unmarshal(pkt)
		if err != nil {
			continue
		}
		if _, err := s.sendLocked(&s.hdr, pkt[n:]); err == nil {
			sent++
		}
	}
	return sent
}
