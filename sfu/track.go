package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Layers of a simulcast track, by the rid the client gives each encoding
// ("l", "m", "h"; also "q", "h", "f" as Chrome's examples use). A track
// without simulcast has one layer, 0.
const maxLayers = 3

func layerOf(rid string, hasF bool) int {
	switch rid {
	case "m", "1":
		return 1
	case "h":
		if hasF {
			return 1
		}
		return 2
	case "f", "2":
		return 2
	default: // "", "l", "q", "0"
		return 0
	}
}

// Track is one published track with its layers. One goroutine per layer
// reads it; every subscriber is written to from there.
type Track struct {
	id        string
	kind      webrtc.RTPCodecType
	codec     webrtc.RTPCodecCapability
	publisher *Participant
	// out is the media socket, whose sends a forwarding pass batches
	// (batchconn.go); nil without one.
	out *batchConn
	// keyframe says whether a payload starts a keyframe, chosen once by
	// codec: the forwarding path must not look at the codec's name.
	keyframe func(payload []byte) bool
	// fastStart is set for the codecs whose subscribers start at a
	// keyframe: their layers keep a start cache (faststart.go).
	fastStart bool

	// muted tracks are not forwarded (the publisher sends silence or
	// black frames); read on every packet.
	muted atomic.Bool

	mu     sync.Mutex
	source string
	layers [maxLayers]*layer
	live   int
	// present has bit i set while layer i runs: read on every packet,
	// so it is an atomic, not t.mu.
	present atomic.Uint32

	subs atomic.Pointer[[]*downTrack] // copy on write: the read loop takes no lock
}

type layer struct {
	index  int
	remote *webrtc.TrackRemote
	bytes  atomic.Uint64
	lastKF atomic.Int64 // unix nanos of the last keyframe request
	// retryKF is set while a request refused as too soon waits to be sent.
	retryKF atomic.Bool
	rate    layerRate // bytes as a smoothed bitrate, for the allocators (bwe.go)
	start   startCache
}

func newTrack(p *Participant, remote *webrtc.TrackRemote) *Track {
	t := &Track{id: remote.ID(), kind: remote.Kind(), codec: remote.Codec().RTPCodecCapability, publisher: p,
		out: p.room.sfu.out}
	t.keyframe, t.fastStart = keyframeTest(t.kind, t.codec.MimeType)
	t.subs.Store(&[]*downTrack{})
	return t
}

// ID is the publisher's track id (its msid).
func (t *Track) ID() string { return t.id }

// Kind is audio or video.
func (t *Track) Kind() webrtc.RTPCodecType { return t.kind }

// Publisher is the participant that sends the track.
func (t *Track) Publisher() *Participant { return t.publisher }

// Sources of tracks.
const (
	SourceCamera      = "camera"
	SourceMicrophone  = "microphone"
	SourceScreen      = "screen"
	SourceScreenAudio = "screen-audio"
)

// ValidSource reports whether s is one of the sources above.
func ValidSource(s string) bool {
	switch s {
	case SourceCamera, SourceMicrophone, SourceScreen, SourceScreenAudio:
		return true
	}
	return false
}

// Source is what the track shows: camera, microphone, screen or
// screen-audio, as its publisher said.
func (t *Track) Source() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.source
}

// Muted reports whether the publisher muted the track.
func (t *Track) Muted() bool { return t.muted.Load() }

// setInfo applies what the publisher says of the track. Unmuting makes
// every subscriber start again at a keyframe, so the picture resumes
// without waiting for one.
func (t *Track) setInfo(info TrackInfo) {
	t.mu.Lock()
	if info.Source != "" {
		t.source = info.Source
	}
	t.mu.Unlock()
	if t.muted.Swap(info.Muted) && !info.Muted {
		for _, d := range *t.subs.Load() {
			d.mu.Lock()
			d.current = -1
			d.mu.Unlock()
			t.requestKeyframe(t.bestLayer(d.maxLayerNow()))
		}
	}
}

// Layers lists the simulcast layers that have started.
func (t *Track) Layers() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int
	for i, l := range t.layers {
		if l != nil {
			out = append(out, i)
		}
	}
	return out
}

// addLayer starts reading a layer and reports whether it is the track's
// first (the track is then published).
func (t *Track) addLayer(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) bool {
	t.mu.Lock()
	hasF := false
	for _, e := range recv.Tracks() {
		if e.RID() == "f" {
			hasF = true
		}
	}
	l := &layer{index: layerOf(remote.RID(), hasF), remote: remote}
	if t.layers[l.index] != nil {
		t.mu.Unlock()
		return false
	}
	t.layers[l.index] = l
	t.live++
	t.present.Or(1 << l.index)
	first := t.live == 1
	t.mu.Unlock()
	go t.read(l)
	go drainRTCP(recv, remote.RID())
	return first
}

// drainRTCP reads the publisher's RTCP on one layer until the receiver
// stops. Pion passes RTCP through the interceptors only as it is read;
// the upReader underneath takes the sender reports from it, for the LSR
// and DLSR of our receiver reports, from which the publisher learns the
// round trip.
func drainRTCP(recv *webrtc.RTPReceiver, rid string) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := recv.ReadSimulcast(buf, rid); err != nil {
			return
		}
	}
}

// read forwards one layer until it ends. One buffer and one packet are
// reused for every packet: nothing is allocated per packet here.
// forward counts a packet of n bytes read from layer l and writes it to
// every subscriber, unless the track is muted. The copies go out together
// as the pass ends (batchconn.go).
func (t *Track) forward(l *layer, n int, pkt *rtp.Packet) {
	l.bytes.Add(uint64(n))
	if t.muted.Load() {
		return
	}
	if t.fastStart {
		l.start.add(pkt, t.keyframe(pkt.Payload), time.Now().UnixNano())
	}
	t.out.begin()
	for _, d := range *t.subs.Load() {
		d.write(l, pkt)
	}
	t.out.end()
}

func (t *Track) read(l *layer) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := l.remote.Read(buf)
		if err != nil {
			break
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		t.forward(l, n, &pkt)
	}
	t.mu.Lock()
	t.layers[l.index] = nil
	t.live--
	t.present.And(^uint32(1 << l.index))
	ended := t.live == 0
	t.mu.Unlock()
	if ended {
		t.publisher.trackEnded(t)
	}
}

func (t *Track) addSubscriber(d *downTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.subs.Load()
	next := make([]*downTrack, 0, len(old)+1)
	next = append(next, old...)
	next = append(next, d)
	t.subs.Store(&next)
}

func (t *Track) removeSubscriber(d *downTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.subs.Load()
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	t.subs.Store(&next)
}

// bestLayer is the highest running layer at or below max, else the
// lowest running one, else -1. It takes no lock.
func (t *Track) bestLayer(max int) int {
	present := t.present.Load()
	for i := min(max, maxLayers-1); i >= 0; i-- {
		if present&(1<<i) != 0 {
			return i
		}
	}
	for i := 0; i < maxLayers; i++ {
		if present&(1<<i) != 0 {
			return i
		}
	}
	return -1
}

// keyframeInterval is the least time between two keyframe requests of one
// layer: subscribers joining together cost the publisher one keyframe, and
// none waits much longer than this for its first picture (the load
// tester's W1 joins: 300 ms gave 212 ms p95 to the first frame, 100 ms
// gives 112 ms).
const keyframeInterval = 100 * time.Millisecond

// layer is layer i while it runs, else nil.
func (t *Track) layer(i int) *layer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.layers[i]
}

// requestKeyframe asks the publisher for a keyframe of a layer.
func (t *Track) requestKeyframe(index int) {
	if t.kind != webrtc.RTPCodecTypeVideo || index < 0 {
		return
	}
	t.mu.Lock()
	l := t.layers[index]
	t.mu.Unlock()
	if l == nil || t.publisher.up == nil {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastKF.Load()
	if wait := int64(keyframeInterval) - (now - last); wait > 0 {
		// Too soon: ask once more when the interval is up, so a
		// subscriber that came just after another does not wait for
		// the publisher's next periodic keyframe.
		if l.retryKF.CompareAndSwap(false, true) {
			time.AfterFunc(time.Duration(wait), func() {
				l.retryKF.Store(false)
				t.requestKeyframe(index)
			})
		}
		return
	}
	if !l.lastKF.CompareAndSwap(last, now) {
		return
	}
	t.publisher.up.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(l.remote.SSRC())}}) //nolint:errcheck
}
