package rooms

import (
	"fmt"

	"parley/conference"
)

// The rtc.* requests: each goes to c's member of the room through
// conference.Media.

// maxTracks is the most tracks one participant publishes at once: camera,
// microphone, screen and its audio, with room to spare.
const maxTracks = 8

// media is c's member of a room, as its client speaks to it.
func (s *Service) media(c Client, roomID string) (conference.Media, error) {
	m, err := s.member(c, roomID)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// PublishInput is rtc.offer's data: the up connection's offer and what
// the client says of its tracks.
type PublishInput struct {
	RoomRef
	SDP    string                 `json:"sdp"`
	Tracks []conference.TrackInfo `json:"tracks"`
}

// SDP answers rtc.offer.
type SDP struct {
	SDP string `json:"sdp"`
}

func (in PublishInput) check() error {
	if err := in.RoomRef.check(); err != nil {
		return err
	}
	if in.SDP == "" {
		return bad(`"sdp" is required`)
	}
	if len(in.Tracks) > maxTracks {
		return bad(fmt.Sprintf(`"tracks": at most %d`, maxTracks))
	}
	for _, t := range in.Tracks {
		if t.TrackID == "" || len(t.TrackID) > 128 {
			return bad(`"tracks": each needs a "track_id" of at most 128 characters`)
		}
		if !conference.ValidSource(t.Source) {
			return bad(`"tracks": "source" is camera, microphone, screen or screen-audio`)
		}
	}
	return nil
}

// Publish takes c's offer for its up connection and answers it.
func (s *Service) Publish(c Client, in PublishInput) (SDP, error) {
	if err := in.check(); err != nil {
		return SDP{}, err
	}
	m, err := s.member(c, in.RoomID)
	if err != nil {
		return SDP{}, err
	}
	if err := mayPublish(m.ReceiveOnly()); err != nil {
		return SDP{}, err
	}
	answer, err := m.Publish(in.SDP, in.Tracks)
	return SDP{answer}, err
}

// AnswerInput is rtc.answer's data: the answer to the last down offer.
type AnswerInput struct {
	RoomRef
	SDP string `json:"sdp"`
}

// Answer takes c's answer to its down connection's offer.
func (s *Service) Answer(c Client, in AnswerInput) error {
	if err := in.check(); err != nil {
		return err
	}
	if in.SDP == "" {
		return bad(`"sdp" is required`)
	}
	m, err := s.media(c, in.RoomID)
	if err != nil {
		return err
	}
	return m.Answer(in.SDP)
}

// CandidateInput is rtc.candidate's data.
type CandidateInput struct {
	RoomRef
	Target    conference.Target     `json:"target"`
	Candidate *conference.Candidate `json:"candidate"`
}

// Candidate adds one of c's ICE candidates.
func (s *Service) Candidate(c Client, in CandidateInput) error {
	if err := in.check(); err != nil {
		return err
	}
	if !in.Target.Valid() {
		return bad(`"target" is "up" or "down"`)
	}
	if in.Candidate == nil {
		return bad(`"candidate" is required`)
	}
	m, err := s.media(c, in.RoomID)
	if err != nil {
		return err
	}
	return m.AddCandidate(in.Target, *in.Candidate)
}

// TrackInput is rtc.track's data.
type TrackInput struct {
	RoomRef
	conference.TrackInfo
}

// Track records the source and mute state of one of c's tracks.
func (s *Service) Track(c Client, in TrackInput) error {
	if err := in.check(); err != nil {
		return err
	}
	if in.TrackID == "" {
		return bad(`"track_id" is required`)
	}
	m, err := s.media(c, in.RoomID)
	if err != nil {
		return err
	}
	return m.SetTrack(in.TrackInfo)
}

// LayerInput is rtc.layer's data.
type LayerInput struct {
	RoomRef
	TrackID  string `json:"track_id"`
	MaxLayer *int   `json:"max_layer"`
}

// Layer limits the simulcast layer c receives of a track.
func (s *Service) Layer(c Client, in LayerInput) error {
	if err := in.check(); err != nil {
		return err
	}
	if in.TrackID == "" {
		return bad(`"track_id" is required`)
	}
	if in.MaxLayer == nil || *in.MaxLayer < 0 || *in.MaxLayer > 2 {
		return bad(`"max_layer" is 0, 1 or 2`)
	}
	m, err := s.media(c, in.RoomID)
	if err != nil {
		return err
	}
	m.SetMaxLayer(in.TrackID, *in.MaxLayer)
	return nil
}

// Restart makes c's next down offer restart ICE.
func (s *Service) Restart(c Client, in RoomRef) error {
	if err := in.check(); err != nil {
		return err
	}
	m, err := s.media(c, in.RoomID)
	if err != nil {
		return err
	}
	m.Restart()
	return nil
}
