package sfu

import (
	"encoding/binary"

	"github.com/pion/rtcp"
)

// readRTCP drains the subscriber's RTCP for this track: picture loss goes
// on to the publisher, NACKs are answered from the down connection's
// history. It ends when the sender stops.
//
// Nothing is unmarshalled: this walks the packets' headers for the three
// kinds it acts on, in one reused buffer (the interceptor underneath,
// downWriter, takes the congestion feedback the same way).
func (d *downTrack) readRTCP() {
	buf := make([]byte, 1500)
	var ssrc uint32
	for {
		n, _, err := d.sender.Read(buf)
		if err != nil {
			return
		}
		if ssrc == 0 {
			// Bound before the sender starts, so before the first
			// read returns; read once, not under the lock that the
			// forwarding path holds on every packet.
			d.mu.Lock()
			ssrc = uint32(d.ssrc)
			d.mu.Unlock()
		}
		d.handleRTCP(buf[:n], ssrc)
	}
}

// handleRTCP acts on one compound RTCP packet from the subscriber to
// this track's stream, ssrc.
func (d *downTrack) handleRTCP(b []byte, ssrc uint32) {
	keyframe := false
	for p, rest, ok := nextRTCP(b); ok; p, rest, ok = nextRTCP(rest) {
		format, kind := p[0]&0x1f, rtcp.PacketType(p[1])
		switch {
		case kind == rtcp.TypePayloadSpecificFeedback && format == rtcp.FormatPLI:
			keyframe = keyframe || mediaSSRC(p) == ssrc
		case kind == rtcp.TypePayloadSpecificFeedback && format == rtcp.FormatFIR:
			// The SSRCs are in the entries: 8 bytes each after the header.
			for e := p[min(12, len(p)):]; len(e) >= 8; e = e[8:] {
				keyframe = keyframe || binary.BigEndian.Uint32(e) == ssrc
			}
		case kind == rtcp.TypeTransportSpecificFeedback && format == rtcp.FormatTLN:
			if len(p) < 12 || mediaSSRC(p) != ssrc || d.sub.out == nil {
				continue
			}
			// Entries of 4 bytes: a lost packet id and a bitmask of the
			// 16 after it. The packets resent go in one batch.
			d.track.out.begin()
			for e := p[12:]; len(e) >= 4; e = e[4:] {
				d.sub.out.resend(ssrc, binary.BigEndian.Uint16(e), binary.BigEndian.Uint16(e[2:]))
			}
			d.track.out.end()
		}
	}
	if keyframe {
		d.mu.Lock()
		cur := d.current
		d.mu.Unlock()
		d.track.requestKeyframe(cur)
	}
}

// nextRTCP splits the first packet p off a compound RTCP packet b. It
// reports false at the end, and when b is not RTCP or is cut short: the
// rest cannot be trusted then.
func nextRTCP(b []byte) (p, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	size := 4 * (int(binary.BigEndian.Uint16(b[2:4])) + 1)
	if b[0]>>6 != 2 || size > len(b) {
		return nil, nil, false
	}
	return b[:size], b[size:], true
}

// mediaSSRC is the SSRC a feedback packet is about; 0 if it is too short
// to say.
func mediaSSRC(p []byte) uint32 {
	if len(p) < 12 {
		return 0
	}
	return binary.BigEndian.Uint32(p[8:12])
}
