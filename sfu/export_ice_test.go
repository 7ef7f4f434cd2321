package sfu

import "github.com/pion/webrtc/v4"

// ICEState is the ICE state of p's connection t as the server sees it.
func ICEState(p *Participant, t Target) webrtc.ICEConnectionState {
	if t == Up {
		return p.up.ICEConnectionState()
	}
	return p.down.ICEConnectionState()
}
