package sfu

import "github.com/pion/webrtc/v4"

// DownICE is the ICE state of p's down connection, on the server's side.
func DownICE(p *Participant) webrtc.ICEConnectionState { return p.down.ICEConnectionState() }
