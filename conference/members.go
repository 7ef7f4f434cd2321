package conference

import (
	"context"
	"errors"
	"sort"

	"parley/auth"
	"parley/sfu"
)

// Member is one participant (one connection) in a room.
type Member struct {
	id          string
	name        string
	kind        string
	receiveOnly bool
	principal   auth.Principal
	roomID      string
	part        *sfu.Participant
	svc         *Service
	hidden      bool   // a supervisor watching a conversation: customers do not see it
	left        bool   // guarded by the Live that holds the member
	onGone      func() // called once when the room or the media server removes the member
	moved       string // why the member was removed to join again elsewhere (set before onGone)
}

// Moved is, once the member is gone, why it should join the room again
// on another node (MovedHostStopping), or "" when it should not.
func (m *Member) Moved() string { return m.moved }

// subject is where the member's own events go: the room's, or only its
// staff's for a hidden member.
func (m *Member) subject() string {
	if m.hidden {
		return StaffSubject(m.roomID)
	}
	return Subject(m.roomID)
}

// ID is the member's participant id.
func (m *Member) ID() string { return m.id }

// RoomID is the member's room.
func (m *Member) RoomID() string { return m.roomID }

// ReceiveOnly reports whether the member only receives.
func (m *Member) ReceiveOnly() bool { return m.receiveOnly }

// ParticipantView is a participant as the others see it.
type ParticipantView struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Kind        string      `json:"kind"`
	ReceiveOnly bool        `json:"receive_only"`
	Tracks      []TrackView `json:"tracks"`
}

// TrackView is a published track as the others see it.
type TrackView struct {
	TrackID string `json:"track_id"`
	Kind    string `json:"kind"`
	Source  string `json:"source"`
	Muted   bool   `json:"muted"`
}

func trackView(t *sfu.Track) TrackView {
	return TrackView{TrackID: t.ID(), Kind: t.Kind().String(), Source: t.Source(), Muted: t.Muted()}
}

func (m *Member) view() ParticipantView {
	v := ParticipantView{ID: m.id, Name: m.name, Kind: m.kind, ReceiveOnly: m.receiveOnly, Tracks: []TrackView{}}
	for _, t := range m.part.Tracks() {
		v.Tracks = append(v.Tracks, trackView(t))
	}
	sort.Slice(v.Tracks, func(i, j int) bool { return v.Tracks[i].TrackID < v.Tracks[j].TrackID })
	return v
}

// JoinOptions of a member.
type JoinOptions struct {
	// Name shows the member to the others (a customer sees an agent by
	// the queue's alias when the queue hides names).
	Name string
	// ReceiveOnly members publish nothing (a supervisor watching).
	ReceiveOnly bool
	// Hidden members are seen only by members who see hidden ones:
	// their joining and leaving go to StaffSubject.
	Hidden bool
	// SeesHidden members are shown the hidden members already there.
	SeesHidden bool
	// MayEnd says the member may end the room for everyone (told to the
	// client with the join).
	MayEnd bool
	// OnGone is called once if the member is removed other than by Leave:
	// the room ended, or its media was gone too long.
	OnGone func()
}

// Joined is what a member needs to connect.
type Joined struct {
	Room          Room              `json:"room"`
	ParticipantID string            `json:"participant_id"`
	ReceiveOnly   bool              `json:"receive_only"`
	MayEnd        bool              `json:"may_end"`
	ICEServers    []ICEServer       `json:"ice_servers"`
	Participants  []ParticipantView `json:"participants"`
}

// Join adds p to room id through sig, which carries the media signalling
// to p's client. Who may join, and how, is decided before (parley/rooms);
// Join refuses only a room that has ended. Events of the room go to
// Subject(id): the caller's connection follows it before calling Join, so
// it misses nothing.
func (s *Service) Join(ctx context.Context, p auth.Principal, id string, opt JoinOptions, sig Signal) (*Member, Joined, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, Joined{}, err
	}
	if r.Ended() {
		return nil, Joined{}, ErrEnded
	}
	name := opt.Name
	if name == "" {
		name = p.Name
	}
	if s.sfu == nil {
		return nil, Joined{}, WithMessage(ErrUnavailable, "this node runs no media server")
	}
	m := &Member{id: newID("p", 6), name: name, kind: string(p.Role), receiveOnly: opt.ReceiveOnly,
		principal: p, roomID: r.ID, onGone: opt.OnGone, hidden: opt.Hidden, svc: s}
	ice, err := s.sfu.ICEServers(m.id)
	if err != nil {
		return nil, Joined{}, err
	}
	lr := s.open(r)
	part, err := lr.media.Join(m.id, mediaSignal{sig}, sfu.JoinOptions{ReceiveOnly: opt.ReceiveOnly})
	if errors.Is(err, sfu.ErrClosed) {
		return nil, Joined{}, ErrEnded
	}
	if err != nil {
		return nil, Joined{}, err
	}
	m.part = part
	members, ok := s.live.Add(lr, m)
	if !ok { // ended while joining
		part.Leave()
		return nil, Joined{}, ErrEnded
	}
	others := make([]ParticipantView, 0, len(members))
	for _, o := range members {
		if !o.hidden || opt.SeesHidden {
			others = append(others, o.view())
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].ID < others[j].ID })
	s.publish(m.subject(), "room.participant_joined", map[string]any{"room_id": r.ID, "participant": m.view()})
	s.activity(r, Activity{Kind: ActivityJoined, By: p, Name: name, Private: m.hidden})
	return m, Joined{Room: r, ParticipantID: m.id, ReceiveOnly: opt.ReceiveOnly, ICEServers: iceServers(ice),
		Participants: others}, nil
}

// Leave takes m out of its room (reason "left" or "disconnected").
func (s *Service) Leave(m *Member, reason string) {
	if s.remove(m, reason) {
		m.part.Leave()
	}
}

// remove forgets m and tells the room; false if it was gone already.
func (s *Service) remove(m *Member, reason string) bool {
	lr, ok := s.live.Remove(m)
	if !ok {
		return false
	}
	s.publish(m.subject(), "room.participant_left",
		map[string]any{"room_id": m.roomID, "participant_id": m.id, "reason": reason})
	if lr != nil {
		s.activity(lr.room, Activity{Kind: ActivityLeft, By: m.principal, Name: m.name, Private: m.hidden})
	}
	return true
}

// SetTrack records the source and mute state of one of m's tracks;
// others get room.track when the track is already published.
func (s *Service) SetTrack(m *Member, trackID, source string, muted bool) error {
	if source != "" && !sfu.ValidSource(source) {
		return bad("source: camera, microphone, screen or screen-audio")
	}
	var before TrackView
	for _, t := range m.part.Tracks() {
		if t.ID() == trackID {
			before = trackView(t)
		}
	}
	// An empty source keeps the track's own.
	t := m.part.SetTrackInfo(trackID, sfu.TrackInfo{Source: source, Muted: muted})
	if t == nil {
		return nil // not published yet: room.track comes when it is
	}
	// Every up offer restates every track: tell the room only of changes.
	if after := trackView(t); after != before {
		s.publish(Subject(m.roomID), "room.track",
			map[string]any{"room_id": m.roomID, "participant_id": m.id, "track": after})
	}
	return nil
}

// mediaEvent turns what the SFU saw into room events.
func (s *Service) mediaEvent(roomID string, e sfu.Event) {
	m, lr := s.live.Member(roomID, e.Participant.ID())
	if m == nil {
		return
	}
	r := lr.room
	switch e.Kind {
	case sfu.TrackPublished:
		s.publish(Subject(roomID), "room.track",
			map[string]any{"room_id": roomID, "participant_id": m.id, "track": trackView(e.Track)})
		if e.Track.Source() == sfu.SourceScreen {
			s.activity(r, Activity{Kind: ActivityScreenStarted, By: m.principal, Name: m.name})
		}
	case sfu.TrackEnded:
		s.publish(Subject(roomID), "room.track_ended",
			map[string]any{"room_id": roomID, "participant_id": m.id, "track_id": e.Track.ID()})
		if e.Track.Source() == sfu.SourceScreen {
			s.activity(r, Activity{Kind: ActivityScreenStopped, By: m.principal, Name: m.name})
		}
	case sfu.MediaTimeout:
		if s.remove(m, "media_timeout") && m.onGone != nil {
			m.onGone()
		}
	}
}
