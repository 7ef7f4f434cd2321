package sfu_test

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/sfu"
)

// The server selects the pair of the first check it answers, before the
// client nominates one: browsers nominate a lite server's pair with a
// later check, and their DTLS hello waited for it. Here the client is a
// Pion peer that nominates no host pair for its first five seconds; the
// server's side of the connection is up long before that.
func TestTheFirstCheckSelectsItsPairBeforeTheClientNominates(t *testing.T) {
	const nominateAfter = 5 * time.Second
	se := rtcpeer.Settings()
	se.SetHostAcceptanceMinWait(nominateAfter)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	room := newSFU(t).Room("first-check")
	pub := newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	track := vp8Track(t, "cam")
	pub.publish(t, track)
	stop, sending := make(chan struct{}), make(chan struct{})
	go func() { rtcpeer.SendVP8(stop, 50, track); close(sending) }()
	defer func() { close(stop); <-sending }()
	eventually(t, "the server has the track", func() bool { return len(pub.participant().Tracks()) > 0 })
	c := newClient(t, rtcpeer.Options{API: func() *webrtc.API { return api }})
	start := time.Now()
	c.join(t, room, "late", sfu.JoinOptions{ReceiveOnly: true})
	deadline := start.Add(nominateAfter - time.Second)
	for sfu.DownICE(c.participant()) != webrtc.ICEConnectionStateConnected {
		if time.Now().After(deadline) {
			t.Fatalf("the server's side is %s after %v, the client not nominating yet: want connected on the first check",
				sfu.DownICE(c.participant()), time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
	if s := c.down.ICEConnectionState(); s == webrtc.ICEConnectionStateConnected {
		t.Fatalf("the client is %s already: it nominated, and the test shows nothing", s)
	}
	t.Logf("server's side connected %v after the join, the client's %s", time.Since(start).Round(time.Millisecond), c.down.ICEConnectionState())
}
