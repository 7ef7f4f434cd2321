package conference

import (
	"github.com/pion/webrtc/v4"

	"parley/sfu"
)

// A member's media signalling passes between its client and its media in
// two directions: what goes to the client through Signal, which the
// transport implements, and what comes from it through Media, which Member
// implements. Both speak plain wire types (SDP text, Candidate), so the
// transport never touches the media server, and a later transport can
// relay either direction to the node that holds the room.

// Target names one of a member's two connections: "up" (the client
// publishes and offers) or "down" (the client receives; the server
// offers).
type Target string

// The two targets.
const (
	Up   Target = "up"
	Down Target = "down"
)

// Valid reports whether t names a connection.
func (t Target) Valid() bool { return t == Up || t == Down }

// Candidate is an ICE candidate as the client's RTCIceCandidateInit
// spells it.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex"`
	UsernameFragment *string `json:"usernameFragment"`
}

// TrackInfo is what a publisher says of one of its tracks, by its msid
// track id: its source (camera, microphone, screen, screen-audio; empty
// keeps the one known) and whether it is muted.
type TrackInfo struct {
	TrackID string `json:"track_id"`
	Source  string `json:"source"`
	Muted   bool   `json:"muted"`
}

// ICEServer is a STUN or TURN server as the client's RTCIceServer spells
// it (and as Pion writes it: credentialType always, username and
// credential when set).
type ICEServer struct {
	Credential     any      `json:"credential,omitempty"`
	CredentialType string   `json:"credentialType"`
	URLs           []string `json:"urls"`
	Username       string   `json:"username,omitempty"`
}

func iceServers(in []webrtc.ICEServer) []ICEServer {
	out := make([]ICEServer, 0, len(in))
	for _, s := range in {
		out = append(out, ICEServer{Credential: s.Credential, CredentialType: s.CredentialType.String(), URLs: s.URLs,
			Username: s.Username})
	}
	return out
}

// ValidSource reports whether s names a track's source.
func ValidSource(s string) bool { return sfu.ValidSource(s) }

// Signal carries a member's media signalling to its client. Its methods
// must not block.
type Signal interface {
	// Offer is a new offer for the down connection; the client answers
	// it (Media.Answer).
	Offer(sdp string)
	// Candidate is one of the server's ICE candidates for the client.
	Candidate(t Target, c Candidate)
}

// Media is what a member's client sends to its media.
type Media interface {
	// Publish takes the client's offer for the up connection, with what
	// it says of its tracks, and returns the answer.
	Publish(offer string, tracks []TrackInfo) (answer string, err error)
	// Answer takes the client's answer to the last down offer.
	Answer(sdp string) error
	// AddCandidate adds one of the client's ICE candidates.
	AddCandidate(t Target, c Candidate) error
	// SetTrack records the source and mute state of one of its tracks.
	SetTrack(t TrackInfo) error
	// SetMaxLayer limits the simulcast layer it receives of a track (0
	// low, 1 medium, 2 high).
	SetMaxLayer(trackID string, layer int)
	// Restart makes the next down offer restart ICE.
	Restart()
}

var _ Media = (*Member)(nil)

// Publish implements Media. The media server refuses a receive-only
// member's offer.
func (m *Member) Publish(offer string, tracks []TrackInfo) (string, error) {
	for _, t := range tracks {
		if err := m.SetTrack(t); err != nil {
			return "", err
		}
	}
	answer, err := m.part.Publish(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer})
	if err != nil {
		return "", bad("sdp: %v", err)
	}
	return answer.SDP, nil
}

// Answer implements Media.
func (m *Member) Answer(sdp string) error {
	if err := m.part.Answer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return bad("sdp: %v", err)
	}
	return nil
}

// AddCandidate implements Media.
func (m *Member) AddCandidate(t Target, c Candidate) error {
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment}
	if err := m.part.AddCandidate(sfu.Target(t), init); err != nil {
		return bad("candidate: %v", err)
	}
	return nil
}

// SetTrack implements Media: others get room.track when the track is
// published already.
func (m *Member) SetTrack(t TrackInfo) error {
	return m.svc.SetTrack(m, t.TrackID, t.Source, t.Muted)
}

// SetMaxLayer implements Media.
func (m *Member) SetMaxLayer(trackID string, layer int) { m.part.SetMaxLayer(trackID, layer) }

// Restart implements Media.
func (m *Member) Restart() { m.part.Restart() }

// mediaSignal is Signal as the SFU calls it.
type mediaSignal struct{ to Signal }

var _ sfu.Signal = mediaSignal{}

func (s mediaSignal) Offer(d webrtc.SessionDescription) { s.to.Offer(d.SDP) }

func (s mediaSignal) Candidate(t sfu.Target, c webrtc.ICECandidateInit) {
	s.to.Candidate(Target(t), Candidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment})
}
