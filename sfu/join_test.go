package sfu_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

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
	go watchPictureLoss(sender, &asked)
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

// Subscribers who join one after another, while the publisher's encoder
// will not make another keyframe yet, all start at once from the layer's
// last keyframe and the frames since (the start cache): the earlier
// frames come stamped one tick apart, so they are shown at once, and the
// live frames follow on with the publisher's own spacing.
func TestSubscribersJoiningTogetherStartFromTheLastKeyframe(t *testing.T) {
	sfu.SetFastStartAge(t, time.Minute)
	s := newSFU(t)
	room := s.Room("join-together")
	pub := newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	stop := make(chan struct{})
	defer close(stop)
	keys := keyOnRequest(t, pub, stop, time.Hour) // one keyframe, never another

	first := newPeer(t)
	first.join(t, room, "first", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the first subscriber receives video", func() bool { return first.received.Load() > 0 })
	second := newPeer(t)
	second.join(t, room, "second", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the second subscriber receives video", func() bool { return second.received.Load() >= headHeaders })
	if keys.Load() != 1 {
		t.Fatalf("%d keyframes sent, want 1", keys.Load())
	}
	if got := second.firstKey.Load(); got != 1 {
		t.Fatalf("the second subscriber's first packet was not the keyframe's")
	}
	second.headMu.Lock()
	head := append([]rtp.Header(nil), second.head...)
	second.headMu.Unlock()
	// Replayed frames are one tick apart; then comes a gap of the
	// publisher's own spacing (900 per frame here) at the live edge.
	replayed, live := 0, 0
	for i := 1; i < len(head); i++ {
		if head[i].SequenceNumber != head[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, head[i].SequenceNumber, head[i-1].SequenceNumber)
		}
		switch d := head[i].Timestamp - head[i-1].Timestamp; d {
		case 0: // the same frame
		case 1:
			if live > 0 {
				t.Fatalf("packet %d: a replayed frame after the live ones", i)
			}
			replayed++
		case 900:
			live++
		default:
			t.Fatalf("packet %d: timestamp step %d, want 0, 1 or 900", i, d)
		}
	}
	if replayed == 0 || live == 0 {
		t.Errorf("%d replayed and %d live frame steps in the first %d packets, want both", replayed, live, len(head))
	}
	for _, c := range []*peer{first, second, pub} {
		c.closing.Store(true)
		c.participant().Leave()
	}
}
