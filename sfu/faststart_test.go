package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

func cachePkt(seq uint16, ts uint32, b byte) *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts,
		CSRC: []uint32{7}, Extension: true, Extensions: make([]rtp.Extension, 1)}, Payload: []byte{b}}
}

type replayed struct {
	seq     uint16
	ts      uint32
	payload byte
}

// recorder is a subscriber that notes what it is sent.
type recorder []replayed

func (r *recorder) emit(h *rtp.Header, p []byte) {
	if h.CSRC != nil || h.Extension || h.Extensions != nil {
		panic("a kept header still has the publisher's CSRC or extensions")
	}
	*r = append(*r, replayed{h.SequenceNumber, h.Timestamp, p[0]})
}

func replayAll(c *startCache, last *rtp.Packet, now int64) ([]replayed, bool) {
	var got recorder
	ok := c.replay(last, now, &got)
	return got, ok
}

func TestTheStartCacheReplaysTheKeyframeAndWhatFollowedOneTickApart(t *testing.T) {
	var c startCache
	now := time.Now().UnixNano()
	// A keyframe in two packets (the second, an H.264 IDR after its SPS,
	// tests as a keyframe too), then two delta frames.
	c.add(cachePkt(10, 1000, 'k'), true, now)
	c.add(cachePkt(11, 1000, 'K'), true, now)
	c.add(cachePkt(12, 4000, 'a'), false, now)
	c.add(cachePkt(13, 7000, 'b'), false, now)
	last := cachePkt(14, 7000, 'c')
	c.add(last, false, now)
	got, ok := replayAll(&c, last, now)
	want := []replayed{{10, 6998, 'k'}, {11, 6998, 'K'}, {12, 6999, 'a'}, {13, 7000, 'b'}, {14, 7000, 'c'}}
	if !ok || len(got) != len(want) {
		t.Fatalf("replayed %v (%v), want %v", got, ok, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("packet %d: %v, want %v", i, got[i], want[i])
		}
	}
	// The payload was copied: the read loop reuses its buffer.
	last.Payload[0] = 'x'
	if got, _ := replayAll(&c, last, now); got[4].payload != 'c' {
		t.Errorf("the kept payload changed with the read buffer")
	}
	// Only a replay that ends with the packet being forwarded.
	if _, ok := replayAll(&c, cachePkt(13, 7000, 'b'), now); ok {
		t.Errorf("replayed for a packet that is not the last kept")
	}
}

func TestTheStartCacheKeepsNothingAfterAGapTheAgeOrTheSizeLimit(t *testing.T) {
	now := time.Now().UnixNano()
	cases := map[string]func(c *startCache) *rtp.Packet{
		"a gap": func(c *startCache) *rtp.Packet {
			c.add(cachePkt(10, 1000, 'k'), true, now)
			p := cachePkt(12, 4000, 'a')
			c.add(p, false, now)
			return p
		},
		"too old": func(c *startCache) *rtp.Packet {
			c.add(cachePkt(10, 1000, 'k'), true, now)
			p := cachePkt(11, 4000, 'a')
			c.add(p, false, now+fastStartAge.Load()+1)
			return p
		},
		"too many": func(c *startCache) *rtp.Packet {
			c.add(cachePkt(0, 1000, 'k'), true, now)
			var p *rtp.Packet
			for i := 1; i <= fastStartPackets; i++ {
				p = cachePkt(uint16(i), uint32(1000+i*3000), 'd')
				c.add(p, false, now)
			}
			return p
		},
		"no keyframe yet": func(c *startCache) *rtp.Packet {
			p := cachePkt(11, 4000, 'a')
			c.add(p, false, now)
			return p
		},
	}
	for name, fill := range cases {
		t.Run(name, func(t *testing.T) {
			var c startCache
			last := fill(&c)
			if got, ok := replayAll(&c, last, now); ok {
				t.Errorf("replayed %v", got)
			}
			if c.fresh(now) {
				t.Errorf("fresh, want stale")
			}
			// The next keyframe starts a new cache.
			k := cachePkt(last.SequenceNumber+1, last.Timestamp+3000, 'k')
			c.add(k, true, now)
			if got, ok := replayAll(&c, k, now); !ok || len(got) != 1 {
				t.Errorf("after a new keyframe: replayed %v (%v), want the keyframe", got, ok)
			}
		})
	}
}

func TestKeepingAPacketAllocatesNothingOnceTheCacheHasGrown(t *testing.T) {
	var c startCache
	now := time.Now().UnixNano()
	key, delta := cachePkt(0, 0, 'k'), cachePkt(1, 3000, 'd')
	delta.Payload = make([]byte, 1200)
	fill := func() {
		key.SequenceNumber, key.Timestamp = delta.SequenceNumber+1, delta.Timestamp+3000
		c.add(key, true, now)
		for range 20 {
			delta.SequenceNumber, delta.Timestamp = c.next, delta.Timestamp+3000
			c.add(delta, false, now)
		}
	}
	fill()
	if n := testing.AllocsPerRun(50, fill); n != 0 {
		t.Errorf("%.1f allocations per keyframe and 20 packets, want 0", n)
	}
}
