// Package rtcpeer is a WebRTC client of Parley's rooms, as the room page
// is one: an up connection it offers and publishes on, a down connection
// the server offers and it answers, and candidates trickled both ways in
// the order the browser client keeps. It reaches the server through a
// Server: the SFU's participant in the same process (Direct) or the
// websocket protocol's rtc.* requests (Websocket). The sfu tests, the
// server's room tests and the load tester's media peers are all built on
// it.
package rtcpeer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/sfu"
)

// Server is the server's end of one participant's signalling.
type Server interface {
	// Publish sends the up connection's offer with what each track is,
	// and returns the server's answer.
	Publish(ctx context.Context, offer webrtc.SessionDescription, tracks []Track) (webrtc.SessionDescription, error)
	// Answer sends the answer to the server's down offer.
	Answer(ctx context.Context, answer webrtc.SessionDescription) error
	// Candidate sends a local candidate of the target connection.
	Candidate(ctx context.Context, target sfu.Target, c webrtc.ICECandidateInit) error
}

// Track is a published track as the server is told of it.
type Track struct {
	ID     string `json:"track_id"`
	Source string `json:"source"`
	Muted  bool   `json:"muted"`
}

// Options of a peer.
type Options struct {
	// Config configures both connections (ICE servers, relay only).
	Config webrtc.Configuration
	// API makes the API of each connection; nil uses DefaultAPI. It
	// is called once per connection, so each may have a network of its own.
	API func() *webrtc.API
	// OnTrack is called on its own goroutine for each track received on
	// the down connection; it reads the track until it ends.
	OnTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
	// OnOffer, when set, is told of each down offer before it is answered.
	// It must not block.
	OnOffer func(webrtc.SessionDescription)
	// OnError is told when answering a down offer fails, except once the
	// peer is closing.
	OnError func(error)
	// Timeout bounds each call to the server made from a callback (default
	// 20 s).
	Timeout time.Duration
}

// Peer is one participant's client. Its methods Offer and Candidate make
// it an sfu.Signal; the websocket's rtc.* events come to AnswerOffer and
// AddCandidate.
type Peer struct {
	server  Server
	opt     Options
	up      *webrtc.PeerConnection
	down    *webrtc.PeerConnection
	closing atomic.Bool
	wg      sync.WaitGroup // answers, candidates, RTCP readers

	// goMu orders starting a goroutine on wg against Close's Wait: a
	// server's signal may arrive as the peer closes (a subscriber's
	// renegotiation when a publisher leaves), and WaitGroup.Add racing
	// Wait is a data race.
	goMu   sync.Mutex
	closed bool

	// descMu keeps a server candidate from being added while a remote
	// description is being set: Pion makes the new description visible
	// before an ICE restart clears the agent's remote candidates, so a
	// candidate of the new description added in between is lost, and the
	// restarted connection has nothing to check.
	descMu sync.Mutex

	sigMu sync.Mutex
	hold  map[sfu.Target]bool
	local map[sfu.Target][]webrtc.ICECandidateInit // held until the server has the description
	early map[sfu.Target][]webrtc.ICECandidateInit // the server's, held until their description is set

	trackMu sync.Mutex
	tracks  []*webrtc.TrackRemote
	arrived chan struct{} // closed and replaced when a track arrives
}

var _ sfu.Signal = (*Peer)(nil)

// New makes a peer's two connections. Nothing is signalled until the
// server offers or the peer publishes.
func New(server Server, opt Options) (*Peer, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 20 * time.Second
	}
	p := &Peer{server: server, opt: opt, hold: map[sfu.Target]bool{},
		local: map[sfu.Target][]webrtc.ICECandidateInit{}, early: map[sfu.Target][]webrtc.ICECandidateInit{},
		arrived: make(chan struct{})}
	var err error
	if p.up, err = p.newPC(sfu.Up); err != nil {
		return nil, err
	}
	if p.down, err = p.newPC(sfu.Down); err != nil {
		p.up.Close() //nolint:errcheck
		return nil, err
	}
	p.down.OnTrack(func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
		p.trackMu.Lock()
		p.tracks = append(p.tracks, tr)
		close(p.arrived)
		p.arrived = make(chan struct{})
		p.trackMu.Unlock()
		if p.opt.OnTrack != nil {
			p.opt.OnTrack(tr, rcv)
		}
	})
	return p, nil
}

func (p *Peer) newPC(target sfu.Target) (*webrtc.PeerConnection, error) {
	api := DefaultAPI()
	if p.opt.API != nil {
		api = p.opt.API()
	}
	pc, err := api.NewPeerConnection(p.opt.Config)
	if err != nil {
		return nil, err
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		p.sigMu.Lock()
		defer p.sigMu.Unlock()
		if p.hold[target] {
			p.local[target] = append(p.local[target], cand.ToJSON())
			return
		}
		p.sendCandidate(target, cand.ToJSON())
	})
	return pc, nil
}

// Up is the connection the peer publishes on.
func (p *Peer) Up() *webrtc.PeerConnection { return p.up }

// Down is the connection the peer receives on.
func (p *Peer) Down() *webrtc.PeerConnection { return p.down }

// Conn is the connection of target.
func (p *Peer) Conn(target sfu.Target) *webrtc.PeerConnection {
	if target == sfu.Up {
		return p.up
	}
	return p.down
}

// sendCandidate sends a local candidate; p.sigMu is held, so candidates
// go in the order they were gathered.
func (p *Peer) sendCandidate(target sfu.Target, c webrtc.ICECandidateInit) {
	ctx, cancel := context.WithTimeout(context.Background(), p.opt.Timeout)
	defer cancel()
	p.server.Candidate(ctx, target, c) //nolint:errcheck // a lost candidate shows as missing media
}

// holdLocal keeps target's local candidates from the server until
// release: the server must have the description they belong to first.
func (p *Peer) holdLocal(target sfu.Target) {
	p.sigMu.Lock()
	p.hold[target] = true
	p.sigMu.Unlock()
}

// release sends target's held local candidates.
func (p *Peer) release(target sfu.Target) {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	p.hold[target] = false
	for _, c := range p.local[target] {
		p.sendCandidate(target, c)
	}
	p.local[target] = nil
}

// Offer answers the server's down offer on a goroutine of its own (an
// sfu.Signal must not block).
func (p *Peer) Offer(sdp webrtc.SessionDescription) {
	p.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), p.opt.Timeout)
		defer cancel()
		if err := p.AnswerOffer(ctx, sdp); err != nil && !p.closing.Load() && p.opt.OnError != nil {
			p.opt.OnError(err)
		}
	})
}

// spawn runs f on a goroutine Close waits for, unless the peer is closed
// (then what f would answer or read no longer matters).
func (p *Peer) spawn(f func()) {
	p.goMu.Lock()
	defer p.goMu.Unlock()
	if p.closed {
		return
	}
	p.wg.Add(1)
	go func() { defer p.wg.Done(); f() }()
}

// AnswerOffer answers the server's down offer and sends the answer.
func (p *Peer) AnswerOffer(ctx context.Context, sdp webrtc.SessionDescription) error {
	if p.opt.OnOffer != nil {
		p.opt.OnOffer(sdp)
	}
	p.holdLocal(sfu.Down)
	defer p.release(sfu.Down)
	if err := p.setRemote(sfu.Down, sdp); err != nil {
		return err
	}
	answer, err := p.down.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := p.down.SetLocalDescription(answer); err != nil {
		return err
	}
	return p.server.Answer(ctx, *p.down.LocalDescription())
}

// Candidate adds a server candidate on a goroutine of its own (an
// sfu.Signal must not block).
func (p *Peer) Candidate(target sfu.Target, c webrtc.ICECandidateInit) {
	p.sigMu.Lock()
	p.early[target] = append(p.early[target], c)
	p.sigMu.Unlock()
	p.spawn(func() { p.addEarly(target) })
}

// AddCandidate adds a server candidate now if the description it belongs
// to is set, else once it is: the server may trickle a candidate before
// the offer or answer it belongs to arrives, and one added too early is
// lost (ICE then finds the server only as a peer-reflexive address, and
// a relay-only client not at all).
func (p *Peer) AddCandidate(target sfu.Target, c webrtc.ICECandidateInit) {
	p.sigMu.Lock()
	p.early[target] = append(p.early[target], c)
	p.sigMu.Unlock()
	p.addEarly(target)
}

// addEarly adds the held server candidates of target whose description
// is set: those of its ICE username fragment, or naming none.
func (p *Peer) addEarly(target sfu.Target) {
	p.descMu.Lock()
	defer p.descMu.Unlock()
	p.addEarlyLocked(target)
}

// addEarlyLocked is addEarly with p.descMu held.
func (p *Peer) addEarlyLocked(target sfu.Target) {
	pc := p.Conn(target)
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	desc := pc.RemoteDescription()
	if desc == nil {
		return
	}
	ufrag := ICEUfrag(desc.SDP)
	keep := p.early[target][:0]
	for _, c := range p.early[target] {
		if f := strings.Fields(c.Candidate); len(f) < 2 || f[len(f)-2] != "ufrag" || f[len(f)-1] == ufrag {
			pc.AddICECandidate(c) //nolint:errcheck // a late candidate of a closed connection
		} else {
			keep = append(keep, c) // for a description still to come (an ICE restart)
		}
	}
	p.early[target] = keep
}

// ICEUfrag is the first ICE username fragment in sdp.
func ICEUfrag(sdp string) string {
	for _, line := range strings.Split(sdp, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=ice-ufrag:"); ok {
			return v
		}
	}
	return ""
}

// AddTrack adds a local track to the up connection and reads its RTCP
// until the peer closes (publish with OfferUp).
func (p *Peer) AddTrack(track webrtc.TrackLocal) (*webrtc.RTPSender, error) {
	sender, err := p.up.AddTrack(track)
	if err != nil {
		return nil, err
	}
	p.spawn(func() { DrainRTCP(sender) })
	return sender, nil
}

// DrainRTCP reads sender's RTCP until the sender stops: Pion's
// interceptors see the reports only when something reads them.
func DrainRTCP(sender *webrtc.RTPSender) {
	for {
		if _, _, err := sender.ReadRTCP(); err != nil {
			return
		}
	}
}

// OfferUp offers the up connection (with opts, an ICE restart say) and
// applies the server's answer; tracks tell the server what each track is.
func (p *Peer) OfferUp(ctx context.Context, opts *webrtc.OfferOptions, tracks ...Track) error {
	p.holdLocal(sfu.Up)
	defer p.release(sfu.Up)
	offer, err := p.up.CreateOffer(opts)
	if err != nil {
		return err
	}
	if err := p.up.SetLocalDescription(offer); err != nil {
		return err
	}
	answer, err := p.server.Publish(ctx, *p.up.LocalDescription(), tracks)
	if err != nil {
		return err
	}
	return p.setRemote(sfu.Up, answer)
}

// setRemote sets the target connection's remote description, then adds
// the server candidates that came for it before it.
func (p *Peer) setRemote(target sfu.Target, desc webrtc.SessionDescription) error {
	p.descMu.Lock()
	defer p.descMu.Unlock()
	if err := p.Conn(target).SetRemoteDescription(desc); err != nil {
		return err
	}
	p.addEarlyLocked(target)
	return nil
}

// WaitTrack waits for a received track that match accepts (any track when
// match is nil), until ctx ends.
func (p *Peer) WaitTrack(ctx context.Context, match func(*webrtc.TrackRemote) bool) (*webrtc.TrackRemote, error) {
	for {
		p.trackMu.Lock()
		for _, tr := range p.tracks {
			if match == nil || match(tr) {
				p.trackMu.Unlock()
				return tr, nil
			}
		}
		arrived := p.arrived
		p.trackMu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return nil, errors.Join(errors.New("rtcpeer: no such track"), ctx.Err())
		}
	}
}

// Closing tells the peer it is being torn down: failures from now on are
// expected and not reported to OnError.
func (p *Peer) Closing() { p.closing.Store(true) }

// Close closes both connections and waits for the peer's goroutines (not
// OnTrack's readers: they end as their connection closes).
func (p *Peer) Close() {
	p.closing.Store(true)
	p.goMu.Lock()
	p.closed = true
	p.goMu.Unlock()
	p.up.Close()   //nolint:errcheck
	p.down.Close() //nolint:errcheck
	p.wg.Wait()
}
