package sfu

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// keyframeTest picks the keyframe test of a track, and says whether its
// subscribers wait for a keyframe to start (waits). Audio can start
// anywhere; VP9 and AV1 are forwarded without layer switching, so they start
// at once too.
func keyframeTest(kind webrtc.RTPCodecType, mime string) (test func([]byte) bool, waits bool) {
	switch {
	case kind != webrtc.RTPCodecTypeVideo:
		return anyPacket, false
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return vp8Keyframe, true
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return h264Keyframe, true
	default:
		return anyPacket, false
	}
}

func anyPacket([]byte) bool { return true }

// vp8Keyframe reads the VP8 payload descriptor (RFC 7741) and the first
// byte of the VP8 payload header: a keyframe starts a partition (S=1,
// PID=0) and has the P bit clear.
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	b0 := p[0]
	if b0&0x10 == 0 || b0&0x07 != 0 { // S, PID
		return false
	}
	i := 1
	if b0&0x80 != 0 { // X: extension byte follows
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// h264Keyframe finds an IDR slice or a sequence parameter set at the start
// of the payload: a single NAL unit, the first in a STAP-A, or the start of
// an FU-A.
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch nal := p[0] & 0x1f; nal {
	case 5, 7:
		return true
	case 24: // STAP-A
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			if t := p[i+2] & 0x1f; t == 5 || t == 7 {
				return true
			}
			i += 2 + size
		}
	case 28: // FU-A
		return len(p) > 1 && p[1]&0x80 != 0 && (p[1]&0x1f == 5 || p[1]&0x1f == 7)
	}
	return false
}
