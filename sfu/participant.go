package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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
	info        map[string]TrackInfo // what the publisher said of its tracks, by track id
	early       map[Target][]webrtc.ICECandidateInit
	subs        map[*Track]*downTrack
	negotiating bool // a down offer is out, waiting for its answer
	again       bool // something changed meanwhile: offer again after the answer
	restart     bool // the next down offer restarts ICE
	closed      bool

	// media watch: the state of each connection that has started, and
	// the timer that removes the participant when its media is gone.
	state   map[Target]webrtc.PeerConnectionState
	gone    *time.Timer
	timeout time.Duration

	// bandwidth estimation: the down connection's estimator, set while
	// the connection is built (bwe.go).
	bwe *estimator
	// out is the down connection's last interceptor, which answers NACKs
	// from its history (writer.go); set while the connection is built.
	out *downWriter

	// downReady is set once the down connection has connected (ICE and
	// DTLS, so SRTP keys exist). Pion drops what is written before then,
	// so tracks start forwarding, at a keyframe, only after it.
	downReady atomic.Bool
}

// TrackInfo is what a publisher says of one of its tracks.
type TrackInfo struct {
	Source string
	Muted  bool
}

func newParticipant(r *Room, id string, sig Signal, opt JoinOptions) (*Participant, error) {
	p := &Participant{id: id, room: r, sig: sig, log: r.log.With("participant", id),
		published: map[string]*Track{}, info: map[string]TrackInfo{}, early: map[Target][]webrtc.ICECandidateInit{}, subs: map[*Track]*downTrack{},
		state: map[Target]webrtc.PeerConnectionState{}, timeout: r.sfu.cfg.MediaTimeout}
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
	api, err := p.room.sfu.newAPI(t, p)
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
		if t == Down && s == webrtc.PeerConnectionStateConnected && !p.downReady.Load() {
			// Pion says "connected" as DTLS ends, a moment before it keys
			// SRTP, and drops what is written before that. The DTLS
			// transport holds its lock until SRTP is keyed: State waits
			// for it, so the start caches replayed next are not lost.
			pc.SCTP().Transport().State()
			if !p.downReady.Swap(true) {
				p.startForwarding()
			}
		}
		p.watch(t, s)
	})
	return pc, nil
}

// ID is the participant's id in its room.
func (p *Participant) ID() string { return p.id }

// Room is the participant's room.
func (p *Participant) Room() *Room { return p.room }

// ReceiveOnly reports whether the participant may not publish.
func (p *Participant) ReceiveOnly() bool { return p.up == nil }

// Tracks lists the participant's published tracks.
func (p *Participant) Tracks() []*Track {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Track, 0, len(p.published))
	for _, t := range p.published {
		out = append(out, t)
	}
	return out
}

// SetTrackInfo records the source and mute state of a track the
// participant publishes or is about to (its id is the SDP's msid track
// id). It returns the track when it is already published.
func (p *Participant) SetTrackInfo(trackID string, info TrackInfo) *Track {
	p.mu.Lock()
	p.info[trackID] = info
	t := p.published[trackID]
	p.mu.Unlock()
	if t != nil {
		t.setInfo(info)
	}
	return t
}

// watch removes the participant once its media has been gone for the
// media timeout: a connection that had started is disconnected or failed
// and has not come back (an ICE restart brings it back).
func (p *Participant) watch(t Target, s webrtc.PeerConnectionState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.state[t] = s
	bad := false
	for _, st := range p.state {
		// Closed too: a client that hangs up closes ours by DTLS.
		if st == webrtc.PeerConnectionStateDisconnected || st == webrtc.PeerConnectionStateFailed ||
			st == webrtc.PeerConnectionStateClosed {
			bad = true
		}
	}
	switch {
	case bad && p.gone == nil:
		p.gone = time.AfterFunc(p.timeout, func() {
			p.log.Info("media gone: removing the participant", "after", p.timeout)
			if p.Leave() {
				p.room.emit(Event{Kind: MediaTimeout, Participant: p})
			}
		})
	case !bad && p.gone != nil:
		p.gone.Stop()
		p.gone = nil
	}
}

// Restart makes the next down offer restart ICE, and sends it now unless
// one is out (then it follows the answer). The client restarts its up
// connection itself, with an ICE-restarting offer to Publish.
func (p *Participant) Restart() {
	p.mu.Lock()
	p.restart = true
	p.mu.Unlock()
	p.negotiate()
}

// Publish takes the client's offer for the up connection and returns the
// answer. Tracks arrive as the media starts.
func (p *Participant) Publish(offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if p.up == nil {
		return webrtc.SessionDescription{}, errors.New("sfu: this participant only receives")
	}
	if err := p.up.SetRemoteDescription(offer); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: up offer: %w", err)
	}
	p.addEarly(Up, p.up)
	answer, err := p.up.CreateAnswer(nil)
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: up answer: %w", err)
	}
	if err := setLocal(p.up, answer); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: up answer: %w", err)
	}
	return *p.up.LocalDescription(), nil
}

// setLocal sets pc's local description and waits until the server's
// candidates are gathered, so that the description sent carries all of
// them: the first connectivity
// check selects its pair (firstCheckSelects), and the server's DTLS may
// then come from any of its addresses (the media socket is bound to
// all of them, and the kernel picks the source), before the client has
// heard of that address by trickle: the client drops it and waits a
// second for the retransmission. Gathering is the UDP and TCP muxes'
// host addresses, at once; the bound is for a gatherer that hangs.
func setLocal(pc *webrtc.PeerConnection, d webrtc.SessionDescription) error {
	gathered := webrtc.GatheringCompletePromise(pc) // before: it may end at once
	if err := pc.SetLocalDescription(d); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-time.After(gatherWait):
	}
	return nil
}

// gatherWait bounds setLocal's wait.
const gatherWait = 2 * time.Second

// Answer takes the client's answer to the last down offer.
func (p *Participant) Answer(answer webrtc.SessionDescription) error {
	if err := p.down.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("sfu: down answer: %w", err)
	}
	p.addEarly(Down, p.down)
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
	// A client's candidate may overtake the description it belongs to
	// (both are trickled as they come): keep it until that is set.
	p.mu.Lock()
	if pc.RemoteDescription() == nil {
		if len(p.early[t]) >= maxEarlyCandidates {
			p.mu.Unlock()
			return errors.New("sfu: too many candidates before the description")
		}
		p.early[t] = append(p.early[t], c)
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	return pc.AddICECandidate(c)
}

// maxEarlyCandidates bounds the candidates kept for a connection whose
// remote description has not come yet.
const maxEarlyCandidates = 64

// addEarly adds the candidates that came before t's remote description,
// which has just been set.
func (p *Participant) addEarly(t Target, pc *webrtc.PeerConnection) {
	p.mu.Lock()
	early := p.early[t]
	delete(p.early, t)
	p.mu.Unlock()
	for _, c := range early {
		if err := pc.AddICECandidate(c); err != nil {
			p.log.Debug("early candidate", "target", t, "err", err)
		}
	}
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
	var opts *webrtc.OfferOptions
	if p.restart {
		opts = &webrtc.OfferOptions{ICERestart: true}
		p.restart = false
	}
	p.mu.Unlock()
	offer, err := p.down.CreateOffer(opts)
	if err == nil {
		err = setLocal(p.down, offer)
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
		info := p.info[remote.ID()]
		t.source = info.Source
		t.muted.Store(info.Muted)
		if t.source == "" && t.kind == webrtc.RTPCodecTypeAudio {
			t.source = SourceMicrophone
		} else if t.source == "" {
			t.source = SourceCamera
		}
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

// startForwarding starts, once the down connection is up, every track that
// has not started: from its layer's start cache when that holds a fresh
// keyframe (asked for at bind, prime), else by asking for one, so the
// first picture does not wait for the publisher's next periodic keyframe.
func (p *Participant) startForwarding() {
	p.mu.Lock()
	downs := make([]*downTrack, 0, len(p.subs))
	for _, d := range p.subs {
		downs = append(downs, d)
	}
	p.mu.Unlock()
	for _, d := range downs {
		d.start(true)
	}
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
// everyone. It reports whether this call made it leave.
func (p *Participant) Leave() bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	p.closed = true
	if p.gone != nil {
		p.gone.Stop()
		p.gone = nil
	}
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
	p.room.sfu.left(p.id) // its TURN credentials die with it
	for _, t := range subs {
		p.unsubscribe(t)
	}
	p.close()
	for _, t := range published {
		p.trackEnded(t)
	}
	return true
}

func (p *Participant) close() {
	p.mu.Lock()
	p.closed = true // a participant never added (a refused join) watches nothing
	p.mu.Unlock()
	if p.up != nil {
		p.up.Close()
	}
	p.down.Close()
}
