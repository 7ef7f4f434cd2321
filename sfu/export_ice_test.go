package sfu

import "github.com/pion/webrtc/v4"

// DownICE is the ICE state of p's down connection, on the server's side.
func DownICE(p *Participant) webrtc.ICEConnectionState { return p.down.ICEConnectionState() }

// OffersLoopback says whether a server bound to every address on this
// host announces its loopback candidates: only on a host with no other.
func OffersLoopback() bool { return loopbackOnly(nil, hostIPs()) }
