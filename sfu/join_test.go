package sfu_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"parley/sfu"
)

// keyOnRequest publishes a VP8 track that, like a browser's encoder, sends
// a keyframe only when asked (PLI or FIR), and then at most once every
// minGap: delta frames of three packets every 10 ms otherwise. It returns
// how many keyframes it has sent.
func keyOnRequest(t *testing.T, pub *peer, stop chan struct{}, minGap time.Duration) *atomic.Int64 {
	t.Helper()
	track := vp8Track(t, "cam")
	sender, err := pub.up.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Bool
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					asked.Store(true)
				}
			}
		}
	}()
	pub.offerUp(t)
	keys := &atomic.Int64{}
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var last time.Time
		seq := uint16(0)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			key := false
			if time.Since(last) >= minGap && asked.Swap(false) {
				key, last = true, time.Now()
				keys.Add(1)
			}
			for j := range 3 { // a frame: the first packet starts it
				pkt := vp8(seq, uint32(i*900), key)
				if j > 0 {
					pkt.Payload[0] &^= 0x10 // S=0: a continuation
				}
				pkt.Marker = j == 2
				track.WriteRTP(pkt) //nolint:errcheck
				seq++
			}
		}
	}()
	eventually(t, "the track is published", func() bool { return len(pub.participant().Tracks()) == 1 })
	return keys
}

// A subscriber's first picture: the SFU asks for a keyframe once the
// subscriber's connection can carry it (SRTP is keyed only when ICE and
// DTLS are done; what is written before is dropped), and starts the
// subscriber on that keyframe, never on a delta frame it cannot decode.
func TestASubscriberStartsAtAKeyframeAskedForOnceItsConnectionIsUp(t *testing.T) {
	s := newSFU(t)
	room := s.Room("join")
	pub := newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	stop := make(chan struct{})
	defer close(stop)
	keys := keyOnRequest(t, pub, stop, 0)

	sub := newPeer(t)
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the subscriber receives video", func() bool { return sub.received.Load() > 30 })
	if got := sub.firstKey.Load(); got != 1 {
		t.Errorf("the first packet received was not a keyframe's")
	}
	if keys.Load() == 0 {
		t.Errorf("no keyframe was asked for")
	}
	for _, c := range []*peer{sub, pub} {
		c.closing.Store(true)
		c.participant().Leave()
	}
}
