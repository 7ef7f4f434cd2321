package sfu

import (
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
)

func TestTheFirstCheckSelectsOnceAndNotFromALinkLocalAddress(t *testing.T) {
	host := func(address string) ice.Candidate {
		t.Helper()
		c, err := ice.NewCandidateHost(&ice.CandidateHostConfig{Network: "udp", Address: address, Port: 5000, Component: 1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	check := func(nominate bool) *stun.Message {
		m := new(stun.Message)
		if nominate {
			m.Add(stun.AttrUseCandidate, nil)
		}
		return m
	}
	// step is a check from remote, nominating or not, and whether it
	// should select its pair.
	type step struct {
		remote   string
		nominate bool
		want     bool
	}
	local := host("192.0.2.1")
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"an ordinary first check selects, later ones do not", []step{{"192.0.2.7", false, true}, {"192.0.2.7", false, false}, {"2001:db8::7", false, false}}},
		{"link-local checks never select, and leave the first choice to the next one", []step{{"fe80::7", false, false}, {"169.254.0.7", false, false}, {"2001:db8::7", false, true}, {"192.0.2.7", false, false}}},
		{"a first check that nominates is selected by Pion already", []step{{"192.0.2.7", true, false}, {"192.0.2.8", false, false}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			selects := firstCheckSelects()
			for i, s := range c.steps {
				if got := selects(check(s.nominate), local, host(s.remote), nil); got != s.want {
					t.Errorf("check %d from %s (nominating %v): selects %v, want %v", i+1, s.remote, s.nominate, got, s.want)
				}
			}
		})
	}
}

func TestALinkLocalAddressIsKnownWithItsZone(t *testing.T) {
	for address, want := range map[string]bool{
		"fe80::fc:ff:fe00:1%eth0": true, "fe80::1": true, "169.254.3.4": true,
		"192.0.2.2": false, "fd00::2": false, "127.0.0.1": false, "host.local": false,
	} {
		if got := linkLocal(address); got != want {
			t.Errorf("linkLocal(%q) = %v, want %v", address, got, want)
		}
	}
}
