package sfu

import (
	"errors"
	"log/slog"
	"sync"
)

// ErrClosed is returned by a closed room or participant.
var ErrClosed = errors.New("sfu: closed")

// ErrExists is returned when a participant id is already in the room.
var ErrExists = errors.New("sfu: participant already in the room")

// Room is a set of participants that receive each other's tracks.
type Room struct {
	sfu *SFU
	id  string
	log *slog.Logger

	mu      sync.Mutex
	parts   map[string]*Participant
	tracks  map[*Track]struct{}
	closed  bool
	onEvent func(Event)
}

// EventKind says what happened in a room.
type EventKind int

const (
	// TrackPublished: a participant's track started (Event.Track).
	TrackPublished EventKind = iota + 1
	// TrackEnded: a participant's track stopped (Event.Track).
	TrackEnded
	// MediaTimeout: a participant's media was gone for Config.MediaTimeout
	// and it was removed.
	MediaTimeout
)

// Event is something that happened in a room, for the layer above.
type Event struct {
	Kind        EventKind
	Participant *Participant
	Track       *Track
}

// OnEvent sets the function told of the room's events. It is called on
// the SFU's goroutines and must not block.
func (r *Room) OnEvent(f func(Event)) {
	r.mu.Lock()
	r.onEvent = f
	r.mu.Unlock()
}

func (r *Room) emit(e Event) {
	r.mu.Lock()
	f := r.onEvent
	r.mu.Unlock()
	if f != nil {
		f(e)
	}
}

func newRoom(s *SFU, id string) *Room {
	return &Room{sfu: s, id: id, log: s.log.With("room", id), parts: map[string]*Participant{}, tracks: map[*Track]struct{}{}}
}

// ID is the room's name.
func (r *Room) ID() string { return r.id }

// JoinOptions of a participant.
type JoinOptions struct {
	// ReceiveOnly participants (a supervisor watching) publish nothing.
	ReceiveOnly bool
}

// Join adds a participant that talks to its client through sig. It is
// subscribed at once to every track already published.
func (r *Room) Join(id string, sig Signal, opt JoinOptions) (*Participant, error) {
	p, err := newParticipant(r, id, sig, opt)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		p.close()
		return nil, ErrClosed
	}
	if _, dup := r.parts[id]; dup {
		r.mu.Unlock()
		p.close()
		return nil, ErrExists
	}
	r.parts[id] = p
	tracks := r.tracksLocked()
	r.mu.Unlock()
	for _, t := range tracks {
		if t.publisher != p {
			p.subscribe(t)
		}
	}
	p.negotiate()
	return p, nil
}

// Participants lists who is in the room.
func (r *Room) Participants() []*Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Participant, 0, len(r.parts))
	for _, p := range r.parts {
		out = append(out, p)
	}
	return out
}

// tracksLocked copies the published tracks; r.mu is held.
func (r *Room) tracksLocked() []*Track {
	out := make([]*Track, 0, len(r.tracks))
	for t := range r.tracks {
		out = append(out, t)
	}
	return out
}

// Tracks lists the published tracks.
func (r *Room) Tracks() []*Track {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tracksLocked()
}

// publish makes a new track available to every other participant.
func (r *Room) publish(t *Track) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.tracks[t] = struct{}{}
	others := make([]*Participant, 0, len(r.parts))
	for _, p := range r.parts {
		if p != t.publisher {
			others = append(others, p)
		}
	}
	r.mu.Unlock()
	r.log.Info("track published", "participant", t.publisher.id, "track", t.id, "kind", t.kind.String())
	r.emit(Event{Kind: TrackPublished, Participant: t.publisher, Track: t})
	for _, p := range others {
		p.subscribe(t)
		p.negotiate()
	}
}

// unpublish removes a track from every subscriber.
func (r *Room) unpublish(t *Track) {
	r.mu.Lock()
	_, ok := r.tracks[t]
	delete(r.tracks, t)
	others := make([]*Participant, 0, len(r.parts))
	for _, p := range r.parts {
		others = append(others, p)
	}
	r.mu.Unlock()
	if !ok {
		return
	}
	r.emit(Event{Kind: TrackEnded, Participant: t.publisher, Track: t})
	for _, p := range others {
		if p.unsubscribe(t) {
			p.negotiate()
		}
	}
}

func (r *Room) remove(p *Participant) {
	r.mu.Lock()
	if r.parts[p.id] == p {
		delete(r.parts, p.id)
	}
	r.mu.Unlock()
}

// Close makes every participant leave and forgets the room.
func (r *Room) Close() {
	r.mu.Lock()
	r.closed = true
	parts := make([]*Participant, 0, len(r.parts))
	for _, p := range r.parts {
		parts = append(parts, p)
	}
	r.mu.Unlock()
	for _, p := range parts {
		p.Leave()
	}
	r.sfu.forget(r)
}
