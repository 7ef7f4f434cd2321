package sfu

import (
	"net"
	"testing"
	"time"
)

// The relay sends to, and takes from, the media UDP port at the SFU's
// own addresses, and nowhere else.
func TestRelayReachesOnlyTheMediaPort(t *testing.T) {
	const media = 7882
	ts := &turnServer{mediaPort: media, own: mediaIPs(Config{ListenIP: "127.0.0.1", PublicIPs: []string{"203.0.113.7"}})}
	udp := func(ip string, port int) net.Addr { return &net.UDPAddr{IP: net.ParseIP(ip), Port: port} }
	for _, tc := range []struct {
		name string
		addr net.Addr
		ok   bool
	}{
		{"the media port", udp("127.0.0.1", media), true},
		{"the media port at the public IP", udp("203.0.113.7", media), true},
		{"the media port, IPv4 in IPv6", udp("::ffff:127.0.0.1", media), true},
		{"another port", udp("127.0.0.1", 25999), false},
		{"the TURN port", udp("127.0.0.1", 3478), false},
		{"the HTTP port", udp("127.0.0.1", 8080), false},
		{"the TCP media port over TCP", &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 7881}, false},
		{"the media port over TCP", &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: media}, false},
		{"the media port at an address not listened at", udp("127.0.0.2", media), false},
		{"the media port at IPv6 loopback", udp("::1", media), false},
		{"the media port at 0.0.0.0", udp("0.0.0.0", media), false},
		{"the media port at ::", udp("::", media), false},
		{"the media port at broadcast", udp("255.255.255.255", media), false},
		{"the media port at another host", udp("192.0.2.1", media), false},
	} {
		if got := ts.mayRelay(tc.addr); got != tc.ok {
			t.Errorf("%s (%v): relay %v, want %v", tc.name, tc.addr, got, tc.ok)
		}
	}
}

// A relay's socket sends only to the media port, and what arrives from
// elsewhere is dropped before Pion sees it.
func TestRelayConnDropsWhatIsNotTheMediaPort(t *testing.T) {
	listen := func() net.PacketConn {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	sock, media, stranger := listen(), listen(), listen()
	ts := &turnServer{mediaPort: media.LocalAddr().(*net.UDPAddr).Port, own: []net.IP{net.IPv4(127, 0, 0, 1).To4()},
		relays: map[string]map[*relayConn]struct{}{}}
	rc := &relayConn{PacketConn: sock, t: ts, user: "u"}

	if _, err := rc.WriteTo([]byte("no"), stranger.LocalAddr()); err == nil {
		t.Error("the relay wrote to a port that is not the media port")
	}
	if _, err := rc.WriteTo([]byte("yes"), media.LocalAddr()); err != nil {
		t.Fatalf("to the media port: %v", err)
	}
	// Loopback delivers in order: the stranger's datagram is in the
	// buffer before the media port's.
	for _, from := range []net.PacketConn{stranger, media} {
		if _, err := from.WriteTo([]byte(from.LocalAddr().String()), sock.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	rc.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	buf := make([]byte, 100)
	n, from, err := rc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if from.String() != media.LocalAddr().String() {
		t.Fatalf("read %q from %v, want only what the media port sent", buf[:n], from)
	}
}
