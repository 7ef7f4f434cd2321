package sfu_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

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

// A subscriber whose keyframe came while its connection was coming up
// gets it from the start cache as the connection comes up, not at the
// layer's next packet: here the publisher sends nothing more after the
// keyframe until the subscriber has it.
func TestASubscriberGetsTheKeptKeyframeAsItsConnectionComesUp(t *testing.T) {
	sfu.SetFastStartAge(t, time.Minute) // a loaded machine's slow DTLS
	s := newSFU(t)
	room := s.Room("replay")
	pub, track, asked, _ := keyframePublisher(t, room)

	// Delta frames every 10 ms; once the subscriber is there, a keyframe
	// on its request and then silence until resume.
	stop, resume := make(chan struct{}), make(chan struct{})
	defer close(stop)
	var subscribed, keySent atomic.Bool
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
			if keySent.Load() {
				select {
				case <-resume:
				default:
					continue
				}
			}
			key := subscribed.Load() && asked.Swap(false)
			track.WriteRTP(vp8(seq, uint32(i*900), key)) //nolint:errcheck
			seq++
			if key {
				keySent.Store(true)
			}
		}
	}()
	eventually(t, "the track is published", func() bool { return len(pub.participant().Tracks()) == 1 })

	// The subscriber's connection is held back (its DTLS waits for its
	// nomination) until the keyframe has been sent and kept.
	var held heldNominations
	sub := newNetPeer(t, webrtc.Configuration{}, held.settings(t))
	asked.Store(false)
	subscribed.Store(true)
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the publisher sends the keyframe asked for", keySent.Load)
	if sub.count("cam") != 0 {
		t.Fatal("the subscriber received video before its connection was up")
	}
	held.let.Store(true)
	eventually(t, "the subscriber receives the keyframe with the publisher silent", func() bool { return sub.count("cam") > 0 })
	close(resume)
	eventually(t, "the subscriber receives what follows", func() bool { return sub.count("cam") > 20 })
	got := sub.got("cam")
	if !got[0].key {
		t.Errorf("the first packet received was not the keyframe's")
	}
	for i := 1; i < len(got); i++ {
		if got[i].seq != got[i-1].seq+1 {
			t.Fatalf("packet %d: sequence %d after %d, want one more", i, got[i].seq, got[i-1].seq)
		}
	}
	sub.closing.Store(true)
	pub.closing.Store(true)
}

// A joining subscriber asks the publisher for one keyframe: at bind,
// while its connection comes up. The bandwidth allocation's first round,
// which caps the subscriber at the layer the publisher sends, the
// client's requests of a layer that change nothing and the connection
// coming up do not ask again while that keyframe is on its way or
// waiting in the start cache.
func TestAJoiningSubscriberAsksForOneKeyframe(t *testing.T) {
	sfu.SetFastStartAge(t, time.Minute) // a loaded machine's slow DTLS
	s := newSFU(t)
	room := s.Room("once")
	pub, track, asked, requests := keyframePublisher(t, room)
	var sent atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	// A packet every 30 ms: the start cache (96 packets) keeps the
	// keyframe for about 3 s, past the allocation's first round.
	go func() {
		tick := time.NewTicker(30 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			track.WriteRTP(vp8(uint16(i), uint32(i*900), asked.Swap(false))) //nolint:errcheck
			sent.Add(1)
		}
	}()
	eventually(t, "the track is published", func() bool { return len(pub.participant().Tracks()) == 1 })

	var held heldNominations
	sub := newNetPeer(t, webrtc.Configuration{}, held.settings(t))
	requests.Store(0)
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	// The allocation caps the subscriber at layer 0, the only one, while
	// its connection is held back.
	eventually(t, "the allocation caps the subscriber", func() bool { return sfu.Allowed(sub.participant(), "cam") == 0 })
	// The page asks for its tile's layer as it is laid out, before and
	// after the picture starts: the layer wanted stays the same.
	sub.participant().SetMaxLayer("cam", 1)
	held.let.Store(true)
	eventually(t, "the subscriber receives video", func() bool { return sub.count("cam") > 0 })
	sub.participant().SetMaxLayer("cam", 2)
	// A request refused as too soon goes out when its 100 ms are up: wait
	// 10 more packets (300 ms) before counting.
	n := sent.Load()
	eventually(t, "the publisher sends 10 more packets", func() bool { return sent.Load() > n+10 })
	if got := requests.Load(); got != 1 {
		t.Errorf("the publisher was asked for %d keyframes for one join, want 1", got)
	}
	sub.closing.Store(true)
	pub.closing.Store(true)
}

// A subscriber whose connection comes up while the track is muted gets
// nothing from the start cache: a muted track forwards nothing, and the
// subscriber starts at a keyframe once it is unmuted.
func TestASubscriberJoiningAMutedTrackGetsNothingUntilItIsUnmuted(t *testing.T) {
	sfu.SetFastStartAge(t, time.Minute) // the keyframe kept before muting stays fresh
	s := newSFU(t)
	room := s.Room("muted")
	pub := newNetPeer(t, webrtc.Configuration{}, nil)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	src := pub.publishMedia(t, vp8Track(t, "cam")).src[0]
	eventually(t, "the track is published", func() bool { return len(pub.participant().Tracks()) == 1 })
	src.pli.Store(true) // a keyframe the server reads and keeps, then muted
	waitSent(t, src, src.sent.Load()+10)
	pub.participant().SetTrackInfo("cam", sfu.TrackInfo{Muted: true})

	sub := newNetPeer(t, webrtc.Configuration{}, nil)
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the subscriber's connection is up", func() bool { return sfu.DownReady(sub.participant()) })
	waitSent(t, src, src.sent.Load()+30)
	if n := sub.count("cam"); n != 0 {
		t.Fatalf("%d packets arrived while muted", n)
	}
	pub.participant().SetTrackInfo("cam", sfu.TrackInfo{})
	eventually(t, "video comes once unmuted", func() bool { return sub.count("cam") > 10 })
	if !sub.got("cam")[0].key {
		t.Errorf("video started with a delta frame")
	}
	pub.closing.Store(true)
	sub.closing.Store(true)
}

// A subscriber whose keyframe came while its connection was coming up
// but was not kept until it was up (here a gap in the sequence numbers
// drops it from the start cache) asks again as its connection comes up:
// it does not wait out the time it gives a keyframe to come.
func TestASubscriberAsksAgainWhenItsKeyframeCameAndWent(t *testing.T) {
	sfu.SetFastStartAge(t, time.Minute)
	sfu.SetStartKeyWait(t, time.Minute) // it would wait that long to ask again
	s := newSFU(t)
	room := s.Room("again")
	pub, track, asked, requests := keyframePublisher(t, room)
	// A packet every 10 ms, a keyframe when asked; after the first
	// keyframe, one sequence number is skipped.
	stop := make(chan struct{})
	defer close(stop)
	var keys atomic.Int64
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		seq, gap := uint16(0), false
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			key := asked.Swap(false)
			if keys.Load() == 1 && !gap {
				seq, gap = seq+1, true
			}
			track.WriteRTP(vp8(seq, uint32(i*900), key)) //nolint:errcheck
			seq++
			if key {
				keys.Add(1)
			}
		}
	}()
	eventually(t, "the track is published", func() bool { return len(pub.participant().Tracks()) == 1 })

	var held heldNominations
	sub := newNetPeer(t, webrtc.Configuration{}, held.settings(t))
	requests.Store(0)
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the keyframe asked for at bind comes", func() bool { return keys.Load() >= 1 && requests.Load() == 1 })
	n := keys.Load()
	held.let.Store(true)
	eventually(t, "the subscriber receives video", func() bool { return sub.count("cam") > 0 })
	if !sub.got("cam")[0].key {
		t.Errorf("the first packet received was not a keyframe's")
	}
	if keys.Load() <= n {
		t.Errorf("the subscriber started without a new keyframe")
	}
	sub.closing.Store(true)
	pub.closing.Store(true)
}

// keyframePublisher joins a publisher "pub" to room with a camera track
// the test writes itself, and follows the keyframe requests that reach
// it: asked is set by each, requests counts them.
func keyframePublisher(t *testing.T, room *sfu.Room) (pub *peer, track *webrtc.TrackLocalStaticRTP, asked *atomic.Bool, requests *atomic.Int64) {
	t.Helper()
	pub = newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	track = vp8Track(t, "cam")
	sender, err := pub.up.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	asked, requests = new(atomic.Bool), new(atomic.Int64)
	go countPictureLoss(sender, asked, requests)
	pub.offerUp(t)
	return pub, track, asked, requests
}
