package sfu

import (
	"net"
	"testing"
)

func TestLoopbackCandidatesOnlyWhereTheyAreAllTheServerHas(t *testing.T) {
	ips := func(s ...string) []net.IP {
		out := make([]net.IP, len(s))
		for i, a := range s {
			out[i] = net.ParseIP(a)
		}
		return out
	}
	lan := ips("127.0.0.1", "::1", "192.0.2.2", "fe80::1")
	for _, c := range []struct {
		bound string // the socket's address, as it reads it back
		host  []net.IP
		want  bool
	}{
		{"::", lan, false},                                   // every address, and the host has a LAN one
		{"0.0.0.0", lan, false},                              // the same, on IPv4 only
		{"::", ips("::1", "fd00::2"), false},                 // an IPv6 one counts as well
		{"127.0.0.1", lan, true},                             // bound to loopback: all there is
		{"::1", lan, true},                                   // the same on IPv6
		{"192.0.2.2", lan, false},                            // one LAN address
		{"::", ips("127.0.0.1", "::1"), true},                // a host with nothing but loopback
		{"::", ips("127.0.0.1", "fe80::fc:ff:fe00:1"), true}, // link-local is not gathered either
		{"::", nil, true},                                    // interfaces unreadable: keep them
	} {
		if got := loopbackOnly(net.ParseIP(c.bound), c.host); got != c.want {
			t.Errorf("bound to %s with %v: loopback candidates %v, want %v", c.bound, c.host, got, c.want)
		}
	}
}
