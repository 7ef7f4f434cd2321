package sfu

import (
	"strings"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// downTrack is one subscriber's copy of a track: a TrackLocal on the
// subscriber's down connection. It forwards one layer at a time, switching
// only on a keyframe of the new layer, and rewrites sequence numbers and
// timestamps so the subscriber sees one continuous stream.
type downTrack struct {
	track  *Track
	sub    *Participant
	sender *webrtc.RTPSender

	mu       sync.Mutex
	bound    bool
	ssrc     webrtc.SSRC
	pt       webrtc.PayloadType
	out      webrtc.TrackLocalWriter
	maxLayer int
	current  int // layer forwarded now, -1 before the first keyframe
	seqOff   uint16
	tsOff    uint32
	lastSeq  uint16
	lastTS   uint32
	sent     bool
	hdr      rtp.Header // reused for every packet written
	ext      []rtp.Extension
}

var _ webrtc.TrackLocal = (*downTrack)(nil)

func newDownTrack(t *Track, sub *Participant) *downTrack {
	return &downTrack{track: t, sub: sub, maxLayer: maxLayers - 1, current: -1}
}

func (d *downTrack) ID() string                       { return d.track.id }
func (d *downTrack) RID() string                      { return "" }
func (d *downTrack) StreamID() string                 { return d.track.publisher.id }
func (d *downTrack) Kind() webrtc.RTPCodecType        { return d.track.kind }
func (d *downTrack) Codec() webrtc.RTPCodecCapability { return d.track.codec }

// Bind is called by Pion when the down connection negotiates the track.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.track.codec.MimeType) {
			d.mu.Lock()
			d.bound, d.ssrc, d.pt, d.out = true, ctx.SSRC(), c.PayloadType, ctx.WriteStream()
			d.mu.Unlock()
			d.track.requestKeyframe(d.track.bestLayer(d.maxLayerNow()))
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind is called when the track is removed from the connection.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.bound = false
	d.mu.Unlock()
	return nil
}

func (d *downTrack) maxLayerNow() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxLayer
}

func (d *downTrack) setMaxLayer(l int) {
	d.mu.Lock()
	d.maxLayer = l
	d.mu.Unlock()
	d.track.requestKeyframe(d.track.bestLayer(l))
}

// write forwards pkt, read from layer index, if it belongs to this
// subscriber's stream. Called from the layers' read loops.
func (d *downTrack) write(index int, pkt *rtp.Packet) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound {
		return
	}
	if index != d.current {
		// Switch (or start) only at a keyframe of the wanted layer.
		want := d.track.bestLayer(d.maxLayer)
		if index != want {
			return
		}
		if !d.track.keyframe(pkt.Payload) {
			d.track.requestKeyframe(index) // rate-limited per layer
			return
		}
		if d.sent {
			d.seqOff = d.lastSeq + 1 - pkt.SequenceNumber
			d.tsOff = d.lastTS + 1 - pkt.Timestamp
		}
		d.current = index
	}
	d.hdr = pkt.Header
	d.hdr.Extension = false
	d.hdr.Extensions = d.ext[:0] // the publisher's extension ids mean nothing downstream
	d.hdr.SSRC = uint32(d.ssrc)
	d.hdr.PayloadType = uint8(d.pt)
	d.hdr.SequenceNumber = pkt.SequenceNumber + d.seqOff
	d.hdr.Timestamp = pkt.Timestamp + d.tsOff
	d.lastSeq, d.lastTS, d.sent = d.hdr.SequenceNumber, d.hdr.Timestamp, true
	if _, err := d.out.WriteRTP(&d.hdr, pkt.Payload); err != nil {
		return
	}
	d.ext = d.hdr.Extensions[:0]
}

// readRTCP drains the subscriber's RTCP for this track and passes picture
// loss on to the publisher. It ends when the sender stops.
func (d *downTrack) readRTCP() {
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.mu.Lock()
				cur := d.current
				d.mu.Unlock()
				d.track.requestKeyframe(cur)
			}
		}
	}
}
