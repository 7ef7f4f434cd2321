package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Synthetic media: no encoder, only RTP whose payloads look enough like
// VP8 and Opus for the SFU (keyframe detection reads the VP8 payload
// descriptor and header) and carry a stamp the receivers read.
//
// A stamp sits at a fixed place in every payload: after the VP8 payload
// descriptor and 10 bytes of VP8 payload header (filler on packets that
// continue a frame), or after Opus's TOC byte.
//
//	0  'P' 'L'          magic
//	2  layer            simulcast layer index (0 for single streams)
//	3  reserved
//	4  send time        int64, Unix nanoseconds (same process, same clock)
const (
	stampSize    = 12
	vp8DescSize  = 4 // X=1, I=1 with a 15-bit picture id
	vp8HdrSize   = 10
	vp8StampAt   = vp8DescSize + vp8HdrSize
	opusStampAt  = 1
	maxRTPBytes  = 1200 // payload bytes of one packet
	keyInterval  = 3 * time.Second
	pliMinGap    = 100 * time.Millisecond // a keyframe on PLI at most this often, per layer
	audioPTime   = 20 * time.Millisecond
	audioBitrate = 30_000
)

// videoLayer is one simulcast encoding's shape.
type videoLayer struct {
	rid     string
	bitrate int // bits/s
	fps     int
}

// The three layers a browser sends for a 720p camera.
var simulcastLayers = []videoLayer{
	{"l", 150_000, 15},
	{"m", 600_000, 20},
	{"h", 2_000_000, 30},
}

// screenLayer is a screen share: one encoding, few frames.
var screenLayer = videoLayer{"", 1_000_000, 10}

// sendCounter counts what the publishers of a run sent.
type sendCounter struct {
	packets atomic.Int64
	bytes   atomic.Int64
	keys    atomic.Int64 // keyframes sent
	pliKeys atomic.Int64 // of which answered a PLI or FIR
}

// localTrack is one published track: the Pion track(s) and how to feed them.
type localTrack struct {
	id     string
	source string
	kind   webrtc.RTPCodecType
	layers []videoLayer
	tracks []*webrtc.TrackLocalStaticRTP // one per layer (audio: one)
	sender *webrtc.RTPSender
}

// addVideo adds a VP8 track with layers (simulcast when more than one) to pc.
func addVideo(pc *webrtc.PeerConnection, stream, id, source string, layers []videoLayer) (*localTrack, error) {
	lt := &localTrack{id: id, source: source, kind: webrtc.RTPCodecTypeVideo, layers: layers}
	for _, l := range layers {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if l.rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(l.rid))
		}
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, id, stream, opts...)
		if err != nil {
			return nil, err
		}
		lt.tracks = append(lt.tracks, tr)
	}
	s, err := pc.AddTrack(lt.tracks[0])
	if err != nil {
		return nil, err
	}
	for _, tr := range lt.tracks[1:] {
		if err := s.AddEncoding(tr); err != nil {
			return nil, err
		}
	}
	lt.sender = s
	return lt, nil
}

// addAudio adds an Opus track to pc.
func addAudio(pc *webrtc.PeerConnection, stream, id string) (*localTrack, error) {
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, id, stream)
	if err != nil {
		return nil, err
	}
	s, err := pc.AddTrack(tr)
	if err != nil {
		return nil, err
	}
	return &localTrack{id: id, source: "microphone", kind: webrtc.RTPCodecTypeAudio, tracks: []*webrtc.TrackLocalStaticRTP{tr}, sender: s}, nil
}

// simulcastIDs are the negotiated header extension ids and the mid a
// simulcast sender must tag its packets with: Pion's static track does not,
// a browser does, and the SFU tells the layers apart by them.
type simulcastIDs struct {
	midID, ridID uint8
	mid          string
}

func (lt *localTrack) simulcastIDs(pc *webrtc.PeerConnection) (simulcastIDs, error) {
	var ids simulcastIDs
	for _, e := range lt.sender.GetParameters().HeaderExtensions {
		switch e.URI {
		case "urn:ietf:params:rtp-hdrext:sdes:mid":
			ids.midID = uint8(e.ID)
		case "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id":
			ids.ridID = uint8(e.ID)
		}
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Sender() == lt.sender {
			ids.mid = tr.Mid()
		}
	}
	if ids.midID == 0 || ids.ridID == 0 || ids.mid == "" {
		return ids, fmt.Errorf("track %s: mid and rid header extensions were not negotiated", lt.id)
	}
	return ids, nil
}

// run feeds the track until ctx ends (after SetRemoteDescription on up).
// wg is done when every goroutine of the track has returned.
func (lt *localTrack) run(ctx context.Context, pc *webrtc.PeerConnection, sent *sendCounter, wg *sync.WaitGroup) error {
	if lt.kind == webrtc.RTPCodecTypeAudio {
		wg.Add(2)
		go func() { defer wg.Done(); drainRTCP(lt.sender) }()
		go func() { defer wg.Done(); sendAudio(ctx, lt.tracks[0], sent) }()
		return nil
	}
	var ids simulcastIDs
	if len(lt.layers) > 1 {
		var err error
		if ids, err = lt.simulcastIDs(pc); err != nil {
			return err
		}
	}
	plis := make([]atomic.Bool, len(lt.layers))
	for i, l := range lt.layers {
		wg.Add(2)
		go func() { defer wg.Done(); readPLI(lt.sender, l.rid, &plis[i]) }()
		go func() { defer wg.Done(); sendVideo(ctx, lt.tracks[i], l, byte(i), ids, &plis[i], sent) }()
	}
	return nil
}

// readPLI reads a layer's RTCP (as a browser must, or the interceptors
// stall) and notes picture loss. It ends when the sender stops.
func readPLI(s *webrtc.RTPSender, rid string, pli *atomic.Bool) {
	buf := make([]byte, 1500)
	for {
		var n int
		var err error
		if rid == "" {
			n, _, err = s.Read(buf)
		} else {
			n, _, err = s.ReadSimulcast(buf, rid)
		}
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				pli.Store(true)
			}
		}
	}
}

func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// sendVideo paces one layer: fps frames a second of bitrate/8/fps bytes,
// cut into packets of at most maxRTPBytes; a keyframe every keyInterval,
// and on picture loss at most every pliMinGap.
func sendVideo(ctx context.Context, tr *webrtc.TrackLocalStaticRTP, l videoLayer, layer byte, ids simulcastIDs, pli *atomic.Bool, sent *sendCounter) {
	frameBytes := l.bitrate / 8 / l.fps
	n := (frameBytes + maxRTPBytes - 1) / maxRTPBytes
	size := max(frameBytes/n, vp8StampAt+stampSize)
	tick := time.NewTicker(time.Second / time.Duration(l.fps))
	defer tick.Stop()
	var seq uint16
	var picture uint16
	var lastKey time.Time
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		key := lastKey.IsZero() || now.Sub(lastKey) >= keyInterval
		if !key && pli.Load() && now.Sub(lastKey) >= pliMinGap {
			key = true
			sent.pliKeys.Add(1)
		}
		if key {
			pli.Store(false)
			lastKey = now
			sent.keys.Add(1)
		}
		ts := uint32(now.Sub(start) * 90000 / time.Second)
		picture = (picture + 1) & 0x7fff
		for i := range n {
			p := make([]byte, size)
			p[0] = 0x80 // X
			if i == 0 {
				p[0] |= 0x10 // S, PID 0
			}
			p[1] = 0x80 // I
			binary.BigEndian.PutUint16(p[2:], picture|0x8000)
			if i == 0 {
				vp8Header(p[vp8DescSize:], key)
			}
			stamp(p[vp8StampAt:], layer)
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: i == n-1}, Payload: p}
			seq++
			if ids.midID != 0 {
				pkt.Header.SetExtension(ids.midID, []byte(ids.mid)) //nolint:errcheck // ids are valid
				pkt.Header.SetExtension(ids.ridID, []byte(l.rid))   //nolint:errcheck
			}
			if err := tr.WriteRTP(pkt); err != nil {
				return
			}
			sent.packets.Add(1)
			sent.bytes.Add(int64(size))
		}
	}
}

// vp8Header writes the first bytes of a VP8 frame (RFC 6386 9.1): the
// 3-byte frame tag (P clear on keyframes) and, on keyframes, the start
// code and a 1280×720 size.
func vp8Header(b []byte, key bool) {
	b[0], b[1], b[2] = 0x11, 0x00, 0x00 // version 0, show_frame, P=1
	if key {
		b[0] = 0x10
		b[3], b[4], b[5] = 0x9d, 0x01, 0x2a
		binary.LittleEndian.PutUint16(b[6:], 1280)
		binary.LittleEndian.PutUint16(b[8:], 720)
	}
}

// vp8Keyframe reports whether p, a payload sendVideo wrote, starts a
// keyframe: S set in the descriptor, P clear in the frame tag.
func vp8Keyframe(p []byte) bool {
	return len(p) > vp8DescSize && p[0]&0x10 != 0 && p[vp8DescSize]&0x01 == 0
}

func stamp(b []byte, layer byte) {
	b[0], b[1], b[2] = 'P', 'L', layer
	binary.BigEndian.PutUint64(b[4:], uint64(time.Now().UnixNano()))
}

// sendAudio sends an Opus-sized packet every audioPTime.
func sendAudio(ctx context.Context, tr *webrtc.TrackLocalStaticRTP, sent *sendCounter) {
	size := audioBitrate / 8 * int(audioPTime) / int(time.Second)
	tick := time.NewTicker(audioPTime)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p := make([]byte, size)
		p[0] = 0xfc // TOC: CELT FB 20 ms, stereo, one frame
		stamp(p[opusStampAt:], 0)
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: seq == 0}, Payload: p}
		seq++
		ts += 960
		if err := tr.WriteRTP(pkt); err != nil {
			return
		}
		sent.packets.Add(1)
		sent.bytes.Add(int64(size))
	}
}

// readStamp finds the stamp in a received payload.
func readStamp(kind webrtc.RTPCodecType, p []byte) (layer byte, sentAt int64, ok bool) {
	at := opusStampAt
	if kind == webrtc.RTPCodecTypeVideo {
		at = vp8StampAt
	}
	if len(p) < at+stampSize || p[at] != 'P' || p[at+1] != 'L' {
		return 0, 0, false
	}
	return p[at+2], int64(binary.BigEndian.Uint64(p[at+4:])), true
}
