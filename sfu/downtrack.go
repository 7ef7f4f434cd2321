package sfu

import (
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// downTrack is one subscriber's copy of a track: a TrackLocal on the
// subscriber's down connection. It forwards one layer at a time, switching
// only on a keyframe of the new layer, and rewrites sequence numbers and
// timestamps so the subscriber sees one continuous stream. The layer it
// wants is the best at or below both the client's request (maxLayer) and
// what the bandwidth allows (allowed).
type downTrack struct {
	track  *Track
	sub    *Participant
	sender *webrtc.RTPSender

	mu       sync.Mutex
	bound    bool
	ssrc     webrtc.SSRC
	pt       webrtc.PayloadType
	out      webrtc.TrackLocalWriter
	maxLayer int // the client's request
	allowed  int // the allocator's cap from the bandwidth estimate
	current  int // layer forwarded now, -1 before the first keyframe
	seqOff   uint16
	tsOff    uint32
	lastSeq  uint16
	lastTS   uint32
	sent     bool
	// replayed: the start cache was sent up to replayedTo when the
	// connection came up; the read loop's packets up to it are dropped.
	replayed   bool
	replayedTo uint16
	hdr        rtp.Header // reused for every packet written
	ext        []rtp.Extension

	// Owned by the subscriber's allocator goroutine (bwe.go).
	rates   [maxLayers]int  // bits/s of each layer, 0 if absent or silent
	silent  [maxLayers]bool // the layers that run and sent nothing of late
	target  int             // the layer this round's allocation gives
	upSince time.Time       // since when target has been above allowed
}

var _ webrtc.TrackLocal = (*downTrack)(nil)

func newDownTrack(t *Track, sub *Participant) *downTrack {
	return &downTrack{track: t, sub: sub, maxLayer: maxLayers - 1, allowed: maxLayers - 1, current: -1}
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
			if d.sub.downReady.Load() {
				d.start(false) // Pion cannot write inside Bind: the next packet replays
			} else {
				d.prime() // and startForwarding starts it, once the connection is up
			}
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

// start begins a subscription's first picture once its connection is up:
// with the layer's start cache at once when it holds a fresh keyframe
// (replay; else the layer's next packet replays it), or by asking for a
// keyframe. Nothing is done when d is already forwarding.
func (d *downTrack) start(replay bool) {
	now := time.Now().UnixNano()
	d.track.out.begin()
	d.mu.Lock()
	want, cur, sent := d.track.bestLayer(min(d.maxLayer, d.allowed)), d.current, d.sent
	cached := false
	if cur < 0 && want >= 0 && !sent && d.track.fastStart {
		if l := d.track.layer(want); l != nil && l.start.fresh(now) {
			cached = true
			// A muted track's packets are not forwarded: its subscribers
			// start when it runs again, at its next keyframe.
			if replay && d.bound && !d.track.muted.Load() {
				if last, ok := l.start.replayAll(now, d); ok {
					d.current, d.replayed, d.replayedTo = want, true, last
				}
			}
		}
	}
	d.mu.Unlock()
	d.track.out.end()
	if cur >= 0 || want < 0 || cached {
		return
	}
	d.track.requestKeyframe(want)
}

// maxLayerNow is the highest layer d may receive now: the client's
// request capped by the bandwidth.
func (d *downTrack) maxLayerNow() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return min(d.maxLayer, d.allowed)
}

// setMaxLayer sets the client's request.
func (d *downTrack) setMaxLayer(l int) {
	d.mu.Lock()
	d.maxLayer = l
	d.mu.Unlock()
	d.track.requestKeyframe(d.track.bestLayer(d.maxLayerNow()))
}

// setAllowed sets the bandwidth's cap. A keyframe of the layer now wanted
// is asked for at once, so the switch waits one round trip, not for the
// publisher's next keyframe.
func (d *downTrack) setAllowed(l int) {
	d.mu.Lock()
	d.allowed = l
	want, cur := d.track.bestLayer(min(d.maxLayer, l)), d.current
	d.mu.Unlock()
	if want != cur {
		d.track.requestKeyframe(want)
	}
}

// caps reads the client's request and the bandwidth's cap.
func (d *downTrack) caps() (requested, allowed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxLayer, d.allowed
}

// write forwards pkt, read from layer l, if it belongs to this
// subscriber's stream. Called from the layers' read loops.
func (d *downTrack) write(l *layer, pkt *rtp.Packet) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || !d.sub.downReady.Load() {
		return // Pion would drop it: SRTP is not keyed yet
	}
	if l.index == d.current && d.replayed {
		if int16(pkt.SequenceNumber-d.replayedTo) <= 0 {
			return // sent with the start cache
		}
		d.replayed = false
	}
	if l.index != d.current {
		// Switch (or start) only at a keyframe of the wanted layer.
		want := d.track.bestLayer(min(d.maxLayer, d.allowed))
		if l.index != want {
			return
		}
		if !d.track.keyframe(pkt.Payload) {
			// A first start can begin at the layer's last keyframe, kept
			// with what followed it (faststart.go); pkt is the last kept.
			if !d.sent && d.track.fastStart && l.start.replay(pkt, time.Now().UnixNano(), d) {
				d.current = l.index
				return
			}
			d.track.requestKeyframe(l.index) // rate-limited per layer
			return
		}
		if d.sent {
			d.seqOff = d.lastSeq + 1 - pkt.SequenceNumber
			d.tsOff = d.lastTS + 1 - pkt.Timestamp
		}
		// The replay's sequence numbers were the old layer's.
		d.current, d.replayed = l.index, false
	}
	d.emit(&pkt.Header, pkt.Payload)
}

// emit writes one packet with the subscriber's numbering. d.mu is held.
func (d *downTrack) emit(h *rtp.Header, payload []byte) {
	d.hdr = *h
	d.hdr.Extension = false
	d.hdr.Extensions = d.ext[:0] // the publisher's extension ids mean nothing downstream
	d.hdr.SSRC = uint32(d.ssrc)
	d.hdr.PayloadType = uint8(d.pt)
	d.hdr.SequenceNumber = h.SequenceNumber + d.seqOff
	d.hdr.Timestamp = h.Timestamp + d.tsOff
	// A late packet (reordered, or resent on our NACK) keeps its place:
	// the next layer switch numbers on from the newest sent, not from it.
	if !d.sent || int16(d.hdr.SequenceNumber-d.lastSeq) > 0 {
		d.lastSeq, d.lastTS = d.hdr.SequenceNumber, d.hdr.Timestamp
	}
	d.sent = true
	if _, err := d.out.WriteRTP(&d.hdr, payload); err != nil {
		return
	}
	d.ext = d.hdr.Extensions[:0]
}
