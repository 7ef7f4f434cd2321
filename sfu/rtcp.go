package sfu

import (
	"encoding/binary"

	"github.com/pion/rtcp"
)

// readRTCP drains the subscriber's RTCP for this track: picture loss goes
// on to the publisher, NACKs are answered from the down connection's
// history. It ends when the sender stops.
//
// The interceptors underneath have parsed each compound packet already
// (GCC needs its feedback), so this only walks the packets' headers for
// the three kinds it acts on, in one reused buffer.
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
	for len(b) >= 4 {
		size := 4 * (int(binary.BigEndian.Uint16(b[2:4])) + 1)
		if b[0]>>6 != 2 || size > len(b) {
			return // not RTCP, or cut short: the rest cannot be trusted
		}
		p := b[:size]
		b = b[size:]
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
			// 16 after it.
			for e := p[12:]; len(e) >= 4; e = e[4:] {
				d.sub.out.resend(ssrc, binary.BigEndian.Uint16(e), binary.BigEndian.Uint16(e[2:]))
			}
		}
	}
	if keyframe {
		d.mu.Lock()
		cur := d.current
		d.mu.Unlock()
		d.track.requestKeyframe(cur)
	}
}

// mediaSSRC is the SSRC a feedback packet is about; 0 if it is too short
// to say.
func mediaSSRC(p []byte) uint32 {
	if len(p) < 12 {
		return 0
	}
	return binary.BigEndian.Uint32(p[8:12])
}
