package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// A subscriber's first picture needs a keyframe. Asking the publisher for
// one costs a round trip and a frame, and encoders refuse to make them
// too often (libwebrtc at most one every 300 ms): when several people join
// at once, all but the first would wait. So each video layer keeps the
// packets since its last keyframe for a short while, and a subscriber that
// starts on the layer then gets them at once, the earlier frames stamped
// one clock tick apart so the decoder shows them straight away and the
// live frames that follow play on time, not 300 ms late.

// fastStartPackets bounds what is kept (and so the burst a starting
// subscriber gets): 300 ms of a 2.5 Mbit/s layer.
const fastStartPackets = 96

// fastStartAge is how long after a keyframe the layer's packets are kept,
// in nanoseconds. At least the encoders' least time between two
// keyframes; and a subscriber's keyframe is asked for when its track
// binds (prime), so it must also outlast the subscriber's ICE and DTLS:
// 100–500 ms for a browser on a busy machine. The size limit keeps a fast
// layer's cache shorter. Tests on a slow machine set it longer.
var fastStartAge atomic.Int64

func init() { fastStartAge.Store(int64(time.Second)) }

// startCache is one video layer's packets since its last keyframe. The
// layer's read loop adds to it and replays it (downTrack.write runs
// there); mu is for the forwarding benchmarks, which forward from their
// own goroutine too, and costs an uncontended lock per packet. keyAt is
// read without it by start.
type startCache struct {
	mu    sync.Mutex
	keyAt atomic.Int64 // unix nanos of the keyframe kept, 0 when nothing usable is kept
	keyTS uint32       // its RTP timestamp: the packets of one frame share it
	next  uint16       // the sequence number the next packet must have
	pkts  []cachedPacket
	n     int // pkts[:n] are in use; the rest keep their buffers for reuse
}

// emitter writes one packet to a subscriber (downTrack does); an
// interface, not a func, so no closure is made for each packet that asks.
type emitter interface {
	emit(h *rtp.Header, payload []byte)
}

type cachedPacket struct {
	hdr     rtp.Header // without CSRC and extensions: they are not forwarded
	payload []byte
}

// add keeps pkt if it starts a keyframe or continues the one kept. A gap
// in the sequence numbers, the age limit or the size limit drops what is
// kept until the next keyframe.
func (c *startCache) add(pkt *rtp.Packet, key bool, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keyAt := c.keyAt.Load()
	switch {
	case key && (keyAt == 0 || pkt.Timestamp != c.keyTS):
		c.n = 0
		keyAt, c.keyTS = now, pkt.Timestamp
		c.keyAt.Store(now)
	case keyAt == 0:
		return
	case pkt.SequenceNumber != c.next || now-keyAt > fastStartAge.Load() || c.n == fastStartPackets:
		c.drop()
		return
	}
	if c.n == len(c.pkts) {
		c.pkts = append(c.pkts, cachedPacket{})
	}
	p := &c.pkts[c.n]
	p.hdr = pkt.Header
	p.hdr.CSRC, p.hdr.Extension, p.hdr.Extensions = nil, false, nil
	p.payload = append(p.payload[:0], pkt.Payload...)
	c.n++
	c.next = pkt.SequenceNumber + 1
}

func (c *startCache) drop() {
	c.keyAt.Store(0)
	c.n = 0
}

// fresh reports whether a subscriber starting now would be served from the
// cache, so asking the publisher for a keyframe is not needed.
func (c *startCache) fresh(now int64) bool {
	at := c.keyAt.Load()
	return at != 0 && now-at <= fastStartAge.Load()
}

// replay hands emit the packets kept, which must end with pkt (the packet
// being forwarded), and reports whether it did.
func (c *startCache) replay(pkt *rtp.Packet, now int64, out emitter) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 || c.pkts[c.n-1].hdr.SequenceNumber != pkt.SequenceNumber {
		return false
	}
	_, ok := c.replayLocked(now, out)
	return ok
}

// replayAll hands emit the packets kept, whatever the layer's read loop
// is forwarding, and reports the last one's sequence number: packets up
// to it are the subscriber's already.
func (c *startCache) replayAll(now int64, out emitter) (last uint16, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.replayLocked(now, out)
}

// replayLocked emits what is kept if it is fresh. Every frame but the
// last gets a timestamp one tick after the one before, ending one tick
// before the last frame's, which keeps its own: the live packets that
// follow need no new offset. c.mu is held.
func (c *startCache) replayLocked(now int64, out emitter) (last uint16, ok bool) {
	if !c.fresh(now) || c.n == 0 {
		return 0, false
	}
	frames := 1
	for i := 1; i < c.n; i++ {
		if c.pkts[i].hdr.Timestamp != c.pkts[i-1].hdr.Timestamp {
			frames++
		}
	}
	lastTS := c.pkts[c.n-1].hdr.Timestamp
	frame := 0
	for i := range c.n {
		p := &c.pkts[i]
		if i > 0 && p.hdr.Timestamp != c.pkts[i-1].hdr.Timestamp {
			frame++
		}
		h := p.hdr
		h.Timestamp = lastTS - uint32(frames-1-frame)
		out.emit(&h, p.payload)
	}
	return c.pkts[c.n-1].hdr.SequenceNumber, true
}

// prime asks for a keyframe of the layer a subscriber will start on when
// its track binds, before its connection is up, unless the layer's start
// cache holds a fresh one. The keyframe then comes while the subscriber's
// ICE and DTLS are being done and waits in the start cache, where start
// finds it once the connection is up: the first picture does not wait
// for a round trip to the publisher and its encoder after DTLS.
func (d *downTrack) prime() {
	if !d.track.fastStart {
		return
	}
	want := d.track.bestLayer(d.maxLayerNow())
	if want < 0 {
		return
	}
	if l := d.track.layer(want); l != nil && l.start.fresh(time.Now().UnixNano()) {
		return
	}
	d.track.requestKeyframe(want)
}
