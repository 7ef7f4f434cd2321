package sfu_test

import (
	"net"
	"strings"
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

// The server's answer on the up connection and its offer on the down one
// carry every candidate it has, not only the trickle after them: the
// first check selects its pair, and the server's DTLS may come from any
// of its addresses before a trickled candidate names it; a client drops
// a packet from an address it has not heard of.
func TestTheServersDescriptionsCarryItsCandidates(t *testing.T) {
	pub, sub := publishing(t, newSFU(t).Room("candidates"))
	eventually(t, "the subscriber has the server's offer", func() bool { return sub.down.RemoteDescription() != nil })
	for _, c := range []struct {
		what string
		sdp  string
	}{
		{"the up answer", pub.up.RemoteDescription().SDP},
		{"the down offer", sub.down.RemoteDescription().SDP},
	} {
		if n := strings.Count(c.sdp, "a=candidate:"); n == 0 || !strings.Contains(c.sdp, "a=end-of-candidates") {
			t.Errorf("%s has %d candidates, end-of-candidates %v:\n%s", c.what, n, strings.Contains(c.sdp, "a=end-of-candidates"), c.sdp)
		}
	}
}

// A server on every address offers no loopback candidate where the host
// has another: from its one socket on every address a check to 127.0.0.1
// from a LAN address is answered from the LAN address and never matches,
// a dead pair Chromium may spend its first check on. The client still
// connects, on the other addresses, and gets the media.
func TestAServerOnEveryAddressOffersNoLoopbackCandidate(t *testing.T) {
	if sfu.OffersLoopback() {
		t.Skip("this host has no address but loopback (and link-local): loopback is all the server can offer")
	}
	s, err := sfu.New(sfu.Config{TCPPort: 0, TURNPort: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	pub, sub := publishing(t, s.Room("every-address"))
	eventually(t, "the subscriber receives the camera", func() bool { return sub.received.Load() > 0 })
	for _, c := range []struct {
		what string
		sdp  string
	}{
		{"the up answer", pub.up.RemoteDescription().SDP},
		{"the down offer", sub.down.RemoteDescription().SDP},
	} {
		ips := candidateIPs(c.sdp)
		if len(ips) == 0 {
			t.Errorf("%s has no candidates:\n%s", c.what, c.sdp)
		}
		for _, ip := range ips {
			if ip.IsLoopback() {
				t.Errorf("%s offers a loopback candidate, %s:\n%s", c.what, ip, c.sdp)
			}
		}
	}
}

// A server bound to loopback by a name offers loopback, all it has: the
// rule reads the address its socket is bound to, not the name it was
// given (which would have left it with no candidate at all).
func TestAServerBoundToLoopbackByNameOffersLoopback(t *testing.T) {
	s, err := sfu.New(sfu.Config{ListenIP: "localhost", TCPPort: -1, TURNPort: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	pub := newPeer(t)
	pub.join(t, s.Room("by-name"), "pub", sfu.JoinOptions{})
	pub.publish(t, vp8Track(t, "cam"))
	ips := candidateIPs(pub.up.RemoteDescription().SDP)
	if len(ips) == 0 {
		t.Fatalf("the up answer has no candidates:\n%s", pub.up.RemoteDescription().SDP)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			t.Errorf("a server on localhost offers %s", ip)
		}
	}
}

// publishing joins a publisher and a receive-only subscriber to room; the
// publisher sends a VP8 camera until the test ends.
func publishing(t *testing.T, room *sfu.Room) (pub, sub *peer) {
	t.Helper()
	pub, sub = newPeer(t), newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	track := vp8Track(t, "cam")
	pub.publish(t, track)
	stop, sending := make(chan struct{}), make(chan struct{})
	go func() { rtcpeer.SendVP8(stop, 50, track); close(sending) }()
	t.Cleanup(func() { close(stop); <-sending })
	return pub, sub
}

// candidateIPs is the address of every a=candidate line of sdp.
func candidateIPs(sdp string) []net.IP {
	var ips []net.IP
	for _, line := range strings.Split(sdp, "\r\n") {
		if !strings.HasPrefix(line, "a=candidate:") {
			continue
		}
		// foundation component transport priority address port typ ...
		if f := strings.Fields(strings.TrimPrefix(line, "a=candidate:")); len(f) >= 5 {
			if ip := net.ParseIP(f[4]); ip != nil {
				ips = append(ips, ip)
			}
		}
	}
	return ips
}
