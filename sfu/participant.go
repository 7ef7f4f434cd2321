package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/webrtc/v4"
)

// Target says which of a participant's two connections SDP or a candidate
// belongs to.
type Target string

const (
	Up   Target = "up"   // the client publishes; the client offers
	Down Target = "down" // the client receives; the server offers
)

// Signal is how the SFU speaks to a participant's client (the layer above
// carries it over the websocket). Its methods must not block.
type Signal interface {
	// Offer is a new offer for the down connection; the client answers
	// with Participant.Answer.
	Offer(sdp webrtc.SessionDescription)
	// Candidate is a local ICE candidate for the client.
	Candidate(t Target, c webrtc.ICECandidateInit)
}

// Participant is one client in a room.
type Participant struct {
	id   string
	room *Room
	sig  Signal
	log  *slog.Logger
	up   *webrtc.PeerConnection // nil for receive-only participants
	down *webrtc.PeerConnection

	mu          sync.Mutex
	published   map[string]*Track
	subs        map[*Track]*downTrack
	negotiating bool // a down offer is out, waiting for its answer
	again       bool // something changed meanwhile: offer again after the answer
	closed      bool
}

func newParticipant(r *Room, id string, sig Signal, opt JoinOptions) (*Participant, error) {
	p := &Participant{id: id, room: r, sig: sig, log: r.log.With("participant", id),
		published: map[string]*Track{}, subs: map[*Track]*downTrack{}}
	var err error
	if p.down, err = p.newPC(Down); err != nil {
		return nil, err
	}
	if !opt.ReceiveOnly {
		if p.up, err = p.newPC(Up); err != nil {
			p.down.Close()
			return nil, err
		}
		p.up.OnTrack(p.onTrack)
	}
	return p, nil
}

func (p *Participant) newPC(t Target) (*webrtc.PeerConnection, error) {
	api, err := p.room.sfu.newAPI()
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("sfu: %s connection: %w", t, err)
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			p.sig.Candidate(t, c.ToJSON())
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.log.Debug("connection state", "target", t, "state", s.String())
	})
	return pc, nil
}

// ID is the participant's id in its room.
func (p *Participant) ID() string { return p.id }

// Publish takes the client's offer for the up connection and returns the
// answer. Tracks arrive as the media starts.
func (p *Participant) Publish(offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if p.up == nil {
		return webrtc.SessionDescription{}, errors.New("sfu: this participant only receives")
	}
	if err := p.up.SetRemoteDescription(offer); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: up offer: %w", err)
	}
	answer, err := p.up.CreateAnswer(nil)
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: up answer: %w", err)
	}
	if err := p.up.SetLocalDescription(answer); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: up answer: %w", err)
	}
	return *p.up.LocalDescription(), nil
}

// Answer takes the client's answer to the last down offer.
func (p *Participant) Answer(answer webrtc.SessionDescription) error {
	if err := p.down.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("sfu: down answer: %w", err)
	}
	p.mu.Lock()
	p.negotiating = false
	again := p.again
	p.again = false
	p.mu.Unlock()
	if again {
		p.negotiate()
	}
	return nil
}

// AddCandidate adds a remote ICE candidate of the client.
func (p *Participant) AddCandidate(t Target, c webrtc.ICECandidateInit) error {
	pc := p.down
	if t == Up {
		pc = p.up
	}
	if pc == nil {
		return errors.New("sfu: no such connection")
	}
	return pc.AddICECandidate(c)
}

// negotiate offers the down connection's current tracks to the client, or
// notes that it must once the offer out now is answered.
func (p *Participant) negotiate() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if p.negotiating {
		p.again = true
		p.mu.Unlock()
		return
	}
	if len(p.down.GetTransceivers()) == 0 {
		p.mu.Unlock() // nothing to receive yet: an offer would carry no media
		return
	}
	p.negotiating = true
	p.mu.Unlock()
	offer, err := p.down.CreateOffer(nil)
	if err == nil {
		err = p.down.SetLocalDescription(offer)
	}
	if err != nil {
		p.log.Warn("down offer", "err", err)
		p.mu.Lock()
		p.negotiating = false
		p.mu.Unlock()
		return
	}
	p.sig.Offer(*p.down.LocalDescription())
}

// onTrack is a new remote track (or a new simulcast layer of one).
func (p *Participant) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	p.mu.Lock()
	t, ok := p.published[remote.ID()]
	if !ok {
		t = newTrack(p, remote)
		p.published[remote.ID()] = t
	}
	p.mu.Unlock()
	first := t.addLayer(remote, recv)
	if first {
		p.room.publish(t)
	}
}

// trackEnded is called when every layer of t has stopped.
func (p *Participant) trackEnded(t *Track) {
	p.mu.Lock()
	if p.published[t.id] == t {
		delete(p.published, t.id)
	}
	p.mu.Unlock()
	p.room.unpublish(t)
}

// subscribe adds t to the down connection (negotiate afterwards).
func (p *Participant) subscribe(t *Track) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.subs[t] != nil {
		return
	}
	d := newDownTrack(t, p)
	sender, err := p.down.AddTrack(d)
	if err != nil {
		p.log.Warn("subscribe", "track", t.id, "err", err)
		return
	}
	d.sender = sender
	p.subs[t] = d
	t.addSubscriber(d)
	go d.readRTCP()
}

// unsubscribe removes t; it reports whether t was there.
func (p *Participant) unsubscribe(t *Track) bool {
	p.mu.Lock()
	d := p.subs[t]
	delete(p.subs, t)
	closed := p.closed
	p.mu.Unlock()
	if d == nil {
		return false
	}
	t.removeSubscriber(d)
	if !closed {
		if err := p.down.RemoveTrack(d.sender); err != nil {
			p.log.Debug("unsubscribe", "err", err)
		}
	}
	return true
}

// Subscriptions counts the tracks the participant receives.
func (p *Participant) Subscriptions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.subs)
}

// SetMaxLayer limits the simulcast layer p receives of t's publisher's
// tracks (0 low, 1 medium, 2 high), e.g. for a small tile.
func (p *Participant) SetMaxLayer(trackID string, layer int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, d := range p.subs {
		if t.id == trackID {
			d.setMaxLayer(layer)
		}
	}
}

// Leave closes the participant's connections; its tracks end for
// everyone.
func (p *Participant) Leave() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	subs := make([]*Track, 0, len(p.subs))
	for t := range p.subs {
		subs = append(subs, t)
	}
	published := make([]*Track, 0, len(p.published))
	for _, t := range p.published {
		published = append(published, t)
	}
	p.mu.Unlock()
	p.room.remove(p)
	for _, t := range subs {
		p.unsubscribe(t)
	}
	p.close()
	for _, t := range published {
		p.trackEnded(t)
	}
}

func (p *Participant) close() {
	if p.up != nil {
		p.up.Close()
	}
	p.down.Close()
}
