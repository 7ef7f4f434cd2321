package sfu_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"parley/sfu"
)

// A subscriber's keyframe is asked for when its track binds, while its
// connection is still coming up, and waits in the start cache: once the
// connection is up the subscriber starts from it at once, without a
// second request and the publisher's round trip.
func TestASubscribersKeyframeIsAskedForBeforeItsConnectionIsUp(t *testing.T) {
	sfu.SetFastStartAge(t, time.Minute) // a loaded machine's slow DTLS
	s := newSFU(t)
	room := s.Room("prime")
	pub := newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})

	// The publisher sends a keyframe when asked, once only (as an encoder
	// that will not make another soon), and notes whether the
	// subscriber's connection was up when the first request came.
	track := vp8Track(t, "cam")
	sender, err := pub.up.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	var sub atomic.Pointer[peer]
	var asked, sent atomic.Bool
	var askedWhenUp atomic.Int32 // 0: not asked yet; 1: before the connection was up; 2: after
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					if c := sub.Load(); c != nil && askedWhenUp.Load() == 0 {
						if sfu.DownReady(c.participant()) {
							askedWhenUp.Store(2)
						} else {
							askedWhenUp.Store(1)
						}
					}
					asked.Store(true)
				}
			}
		}
	}()
	pub.offerUp(t)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		seq := uint16(0)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			key := askedWhenUp.Load() != 0 && asked.Load() && !sent.Swap(true)
			track.WriteRTP(vp8(seq, uint32(i*900), key)) //nolint:errcheck
			seq++
		}
	}()
	eventually(t, "the track is published", func() bool { return len(pub.participant().Tracks()) == 1 })
	asked.Store(false) // what the publisher's own connection asked for is not the subscriber's

	c := newPeer(t)
	sub.Store(c)
	c.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the subscriber receives video", func() bool { return c.received.Load() > 10 })
	if got := askedWhenUp.Load(); got != 1 {
		t.Errorf("the subscriber's keyframe was asked for after its connection was up (%d), want before", got)
	}
	if got := c.firstKey.Load(); got != 1 {
		t.Errorf("the subscriber's first packet was not the keyframe's")
	}
	for _, p := range []*peer{c, pub} {
		p.closing.Store(true)
		p.participant().Leave()
	}
}

// A publisher that sends the keyframe asked for at the subscriber's bind
// and then nothing more: the subscriber gets it, and what followed it,
// from the start cache as its connection comes up, not at the layer's
// next packet (which here never comes).
func TestTheKeptKeyframeReachesASubscriberAsItsConnectionComesUp(t *testing.T) {
	sfu.SetFastStartAge(t, time.Minute) // a loaded machine's slow DTLS
	s := newSFU(t)
	room := s.Room("replay")
	pub := newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	track := vp8Track(t, "cam")
	sender, err := pub.up.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	var subscribing atomic.Bool
	asked := make(chan struct{}, 1)
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					if subscribing.Load() {
						select {
						case asked <- struct{}{}:
						default:
						}
					}
				}
			}
		}
	}()
	pub.offerUp(t)
	stop := make(chan struct{})
	defer close(stop)
	const after = 3 // delta packets sent after the keyframe, before silence
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		seq := uint16(0)
		ts := func() uint32 { return uint32(seq) * 900 }
		// Delta frames until the subscriber's keyframe is asked for.
		for {
			select {
			case <-stop:
				return
			case <-asked:
				track.WriteRTP(vp8(seq, ts(), true)) //nolint:errcheck
				seq++
				for range after {
					<-tick.C
					track.WriteRTP(vp8(seq, ts(), false)) //nolint:errcheck
					seq++
				}
				return
			case <-tick.C:
				track.WriteRTP(vp8(seq, ts(), false)) //nolint:errcheck
				seq++
			}
		}
	}()
	eventually(t, "the track is published", func() bool { return len(pub.participant().Tracks()) == 1 })

	c := newPeer(t)
	subscribing.Store(true)
	c.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the subscriber receives the keyframe and what followed it", func() bool { return c.received.Load() == 1+after })
	if got := c.firstKey.Load(); got != 1 {
		t.Errorf("the subscriber's first packet was not the keyframe's")
	}
	for _, p := range []*peer{c, pub} {
		p.closing.Store(true)
		p.participant().Leave()
	}
}
