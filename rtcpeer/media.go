package rtcpeer

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// VP8 makes a packet of a one-packet VP8 frame, a keyframe or a delta
// frame, carrying layer in its third byte (a test's simulcast layer; the
// decoder does not read it).
func VP8(seq uint16, ts uint32, key bool, layer byte) *rtp.Packet {
	payload := []byte{0x10, 0x01, layer, 0xbb, 0xcc} // S=1, PID=0; P=1: delta
	if key {
		payload[1] = 0x00
	}
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: true}, Payload: payload}
}

// SendVP8 writes a VP8 frame to each track every 10 ms, a keyframe first
// and every keyEvery frames, until stop is closed: media for a test that
// needs some and not its content.
func SendVP8(stop <-chan struct{}, keyEvery int, tracks ...*webrtc.TrackLocalStaticRTP) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for _, tr := range tracks {
			tr.WriteRTP(VP8(uint16(i), uint32(i*3000), i%keyEvery == 0, 0)) //nolint:errcheck // the connection closed
		}
	}
}
