package sfu_test

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"parley/sfu"
)

// silentSignal is a client that never answers: enough to be in a room and
// so to hold TURN credentials.
type silentSignal struct{}

func (silentSignal) Offer(webrtc.SessionDescription)               {}
func (silentSignal) Candidate(sfu.Target, webrtc.ICECandidateInit) {}

func joinSilent(t *testing.T, r *sfu.Room, id string) *sfu.Participant {
	t.Helper()
	p, err := r.Join(id, silentSignal{}, sfu.JoinOptions{ReceiveOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Leave() })
	return p
}

// turnCreds are the credentials the SFU hands to participant user.
func turnCreds(t *testing.T, s *sfu.SFU, user string) (string, string) {
	t.Helper()
	servers, err := s.ICEServers(user)
	if err != nil {
		t.Fatal(err)
	}
	return servers[0].Username, servers[0].Credential.(string)
}

// turnClient is a TURN client of s on loopback (s may listen on every
// address).
func turnClient(t *testing.T, s *sfu.SFU, user, pass string) *turn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	off := logging.NewDefaultLoggerFactory()
	off.DefaultLogLevel = logging.LogLevelDisabled
	server := (&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.TURNAddr().(*net.UDPAddr).Port}).String()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server,
		Username: user, Password: pass, Conn: conn, LoggerFactory: off,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return c
}

func turnCode(err error) stun.ErrorCode {
	var te *stun.TurnError
	if errors.As(err, &te) {
		return te.ErrorCodeAttr.Code
	}
	return 0
}

// refused says whether err is the TURN server refusing credentials
// (Pion answers a bad password or an unknown user 400, not 401).
func refused(err error) bool {
	code := turnCode(err)
	return code == stun.CodeUnauthorized || code == stun.CodeBadRequest
}

// mediaAt is the SFU's media UDP port at ip.
func mediaAt(s *sfu.SFU, ip net.IP) *net.UDPAddr {
	return &net.UDPAddr{IP: ip, Port: s.UDPAddr().(*net.UDPAddr).Port}
}

// Only credentials signed with the SFU's secret, not expired, and of a
// participant in a room get an allocation.
func TestTURNAllocatesOnlyWithValidCredentials(t *testing.T) {
	const secret = "the-turn-secret"
	s := newTURNSFU(t, sfu.Config{TURNPort: 0, TURNSecret: secret})
	joinSilent(t, s.Room("r"), "someone")
	creds := func(secret, user string, life time.Duration) (string, string) {
		name, pass, err := turn.GenerateLongTermTURNRESTCredentials(secret, user, life)
		if err != nil {
			t.Fatal(err)
		}
		return name, pass
	}
	user, pass := creds(secret, "someone", time.Hour)
	otherUser, otherPass := creds("another secret", "someone", time.Hour)
	oldUser, oldPass := creds(secret, "someone", -time.Minute)
	strangerUser, strangerPass := creds(secret, "stranger", time.Hour)
	for _, tc := range []struct {
		name       string
		user, pass string
		ok         bool
	}{
		{"as handed out", user, pass, true},
		{"a wrong password", user, "wrong", false},
		{"signed with another secret", otherUser, otherPass, false},
		{"expired", oldUser, oldPass, false},
		{"of a participant in no room", strangerUser, strangerPass, false},
		{"with no expiry", "someone", pass, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay, err := turnClient(t, s, tc.user, tc.pass).Allocate()
			if relay != nil {
				relay.Close()
			}
			switch {
			case tc.ok && err != nil:
				t.Fatalf("allocate: %v", err)
			case !tc.ok && !refused(err):
				t.Fatalf("allocate: %v, want it refused (401 or 400)", err)
			}
		})
	}

	// A browser given a wrong password gathers no relay candidate, so a
	// relay-only client cannot connect.
	cfg := relayOnly(t, s, "someone")
	cfg.ICEServers[0].Credential = "wrong"
	pc, err := webrtc.NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("gathering did not complete within 10s")
	}
	if sdp := pc.LocalDescription().SDP; strings.Contains(sdp, "a=candidate") {
		t.Fatalf("a wrong password gathered candidates:\n%s", sdp)
	}
}

// The relay reaches the SFU's media UDP port and nothing else on the
// host: not another UDP port on loopback or on another interface, and no
// TCP port at all (TCP allocations are refused). Permissions go only to
// the host's own addresses.
func TestTURNRelaysOnlyToTheMediaPort(t *testing.T) {
	// Listening on every address, as in production: every interface
	// address is the SFU's.
	s, err := sfu.New(sfu.Config{TCPPort: 0, TURNPort: 0, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	joinSilent(t, s.Room("r"), "someone")
	user, pass := turnCreds(t, s, "someone")
	c := turnClient(t, s, user, pass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	loopback := net.IPv4(127, 0, 0, 1)
	if err := c.CreatePermission(mediaAt(s, loopback)); err != nil {
		t.Fatalf("permission to the media port: %v", err)
	}

	// Each listener is a UDP port of this host that is not the media
	// port. The relay is asked to send to it, then the client makes a
	// request: the TURN server handles a client's messages in order, so
	// once the answer is back, a datagram it relayed is already in the
	// listener's buffer.
	ips := []net.IP{loopback}
	if ip := otherIPv4(); ip != nil {
		ips = append(ips, ip)
	}
	for _, ip := range ips {
		l, err := net.ListenPacket("udp4", net.JoinHostPort(ip.String(), "0"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if _, err := relay.WriteTo([]byte("hello"), l.LocalAddr()); err != nil {
			t.Fatalf("send to %v: %v", l.LocalAddr(), err)
		}
		if err := c.CreatePermission(mediaAt(s, loopback)); err != nil {
			t.Fatalf("permission to the media port: %v", err)
		}
		if n := queued(t, l); n > 0 {
			t.Fatalf("the relay sent %d bytes to %v, not the media port", n, l.LocalAddr())
		}
	}

	for _, peer := range []net.IP{net.IPv4(192, 0, 2, 1), net.IPv4zero, net.IPv4bcast, net.IPv4(224, 0, 0, 1)} {
		err := c.CreatePermission(&net.UDPAddr{IP: peer, Port: 9})
		if turnCode(err) != stun.CodeForbidden {
			t.Errorf("permission to %v: %v, want 403 Forbidden", peer, err)
		}
	}
	if err := c.CreatePermission(&net.UDPAddr{IP: net.IPv6loopback, Port: 9}); err == nil {
		t.Error("permission to ::1 granted")
	}

	// TCP: no allocation, so no Connect to the TCP listener or to the
	// SFU's own TCP media port.
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tc := turnClient(t, s, user, pass)
	alloc, err := tc.AllocateTCP()
	if err == nil {
		defer alloc.Close()
		for _, peer := range []net.Addr{l.Addr(), s.TCPAddr()} {
			if _, err := alloc.Connect(peer); err == nil {
				t.Errorf("Connect to %v through the relay succeeded", peer)
			}
		}
		t.Fatal("a TCP allocation was granted")
	}
	if code := turnCode(err); code != stun.CodeInsufficientCapacity {
		t.Fatalf("TCP allocation: %v, want 508 Insufficient Capacity", err)
	}
}

// queued reads what has arrived at l without waiting: the size of the
// first datagram, or 0 if none is there.
func queued(t *testing.T, l net.PacketConn) int {
	t.Helper()
	raw, err := l.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	n, buf := 0, make([]byte, 1500)
	err = raw.Read(func(fd uintptr) bool {
		got, _, rerr := syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
		if rerr == nil {
			n = got
		}
		return true // never wait for a datagram
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// otherIPv4 is an IPv4 address of this host that is not loopback; nil if
// it has none.
func otherIPv4() net.IP {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.To4()
		}
	}
	return nil
}

// A participant's TURN credentials die with it: when it leaves, or its
// room ends, its allocations end and its credentials are refused, while
// another participant's relay goes on.
func TestTURNCredentialsDieWithTheParticipant(t *testing.T) {
	for _, how := range []string{"leaves", "the room ends"} {
		t.Run(how, func(t *testing.T) {
			s := newTURNSFU(t, sfu.Config{TURNPort: 0})
			room, other := s.Room("r"), s.Room("other")
			p := joinSilent(t, room, "p1")
			joinSilent(t, other, "p2")
			user, pass := turnCreds(t, s, "p1")
			otherUser, otherPass := turnCreds(t, s, "p2")
			media := mediaAt(s, net.IPv4(127, 0, 0, 1))
			c, oc := turnClient(t, s, user, pass), turnClient(t, s, otherUser, otherPass)
			for _, c := range []*turn.Client{c, oc} {
				relay, err := c.Allocate()
				if err != nil {
					t.Fatal(err)
				}
				defer relay.Close()
				if err := c.CreatePermission(media); err != nil {
					t.Fatal(err)
				}
			}
			if n := sfu.TURNAllocations(s); n != 2 {
				t.Fatalf("%d allocations, want 2", n)
			}

			if how == "leaves" {
				p.Leave()
			} else {
				room.Close()
			}
			eventually(t, "p1's allocation ends", func() bool { return sfu.TURNAllocations(s) == 1 })
			if err := c.CreatePermission(media); err == nil {
				t.Error("p1's old allocation still takes requests")
			}
			if relay, err := turnClient(t, s, user, pass).Allocate(); !refused(err) {
				if relay != nil {
					relay.Close()
				}
				t.Errorf("a new allocation with p1's credentials: %v, want it refused", err)
			}
			if err := oc.CreatePermission(media); err != nil {
				t.Errorf("p2's relay: %v", err)
			}
		})
	}
}

// One participant holds at most 20 relays at once: one more is refused
// with 486 Allocation Quota Reached until one of them is released.
func TestTURNLimitsTheRelaysOfAParticipant(t *testing.T) {
	s := newTURNSFU(t, sfu.Config{TURNPort: 0})
	joinSilent(t, s.Room("r"), "p1")
	user, pass := turnCreds(t, s, "p1")
	var relays []net.PacketConn
	for range 20 {
		relay, err := turnClient(t, s, user, pass).Allocate()
		if err != nil {
			t.Fatalf("relay %d: %v", len(relays)+1, err)
		}
		relays = append(relays, relay)
	}
	if _, err := turnClient(t, s, user, pass).Allocate(); turnCode(err) != stun.CodeAllocQuotaReached {
		t.Fatalf("relay 21: %v, want 486 Allocation Quota Reached", err)
	}
	relays[0].Close() // releases the allocation (a Refresh with lifetime 0)
	eventually(t, "the released relay is gone", func() bool { return sfu.TURNAllocations(s) == 19 })
	relay, err := turnClient(t, s, user, pass).Allocate()
	if err != nil {
		t.Fatalf("a relay after one was released: %v", err)
	}
	relay.Close()
	for _, r := range relays[1:] {
		r.Close()
	}
}
