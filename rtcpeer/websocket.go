package rtcpeer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"

	"parley/sfu"
	"parley/signaling/client"
)

// Websocket is a Server that speaks docs/protocol.md's rtc.* requests for
// one room through a websocket client.
type Websocket struct {
	C    *client.Client
	Room string
}

var _ Server = Websocket{}

// Publish sends rtc.offer.
func (w Websocket) Publish(ctx context.Context, offer webrtc.SessionDescription, tracks []Track) (webrtc.SessionDescription, error) {
	if tracks == nil {
		tracks = []Track{}
	}
	raw, err := w.C.Request(ctx, "rtc.offer", map[string]any{"room_id": w.Room, "sdp": offer.SDP, "tracks": tracks})
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("rtc.offer: %w", err)
	}
	var ans struct {
		SDP string `json:"sdp"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("rtc.offer: %w", err)
	}
	return webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}, nil
}

// Answer sends rtc.answer.
func (w Websocket) Answer(ctx context.Context, answer webrtc.SessionDescription) error {
	if _, err := w.C.Request(ctx, "rtc.answer", map[string]any{"room_id": w.Room, "sdp": answer.SDP}); err != nil {
		return fmt.Errorf("rtc.answer: %w", err)
	}
	return nil
}

// Candidate sends rtc.candidate.
func (w Websocket) Candidate(ctx context.Context, target sfu.Target, c webrtc.ICECandidateInit) error {
	_, err := w.C.Request(ctx, "rtc.candidate", map[string]any{"room_id": w.Room, "target": target, "candidate": c})
	return err
}

// Session reads a websocket's events for a peer in one room: rtc.* events
// are queued until the peer exists (the server's first down offer may
// come before the room.join ack) and then applied in order; every other
// event goes to Events, and is dropped when nobody reads it, so a caller
// not reading events does not stall the signalling.
type Session struct {
	c       *client.Client
	events  chan client.Envelope
	signals chan client.Envelope
	ready   chan struct{}
	peer    *Peer
	done    chan struct{} // both loops have returned
}

// Follow starts reading c's events. The session ends when c closes.
func Follow(c *client.Client) *Session {
	s := &Session{c: c, events: make(chan client.Envelope, 256), signals: make(chan client.Envelope, 256),
		ready: make(chan struct{}), done: make(chan struct{})}
	dispatched := make(chan struct{})
	go func() { defer close(dispatched); s.dispatch() }()
	go func() { defer close(s.done); s.signal(); <-dispatched }()
	return s
}

// Events are the connection's events other than rtc.*; closed when the
// connection is.
func (s *Session) Events() <-chan client.Envelope { return s.events }

// Client is the session's websocket client.
func (s *Session) Client() *client.Client { return s.c }

// Connect makes the peer of room (joined already with room.join), whose
// connections use opt, and applies the signals queued for it. Call it
// once.
func (s *Session) Connect(room string, opt Options) (*Peer, error) {
	p, err := New(Websocket{C: s.c, Room: room}, opt)
	if err != nil {
		return nil, err
	}
	s.peer = p
	close(s.ready)
	return p, nil
}

// Close closes the websocket and the peer, and waits for the session's
// goroutines.
func (s *Session) Close() {
	s.c.Close() //nolint:errcheck
	select {
	case <-s.ready:
		if s.peer != nil {
			s.peer.Close()
		}
	default:
		close(s.ready) // never connected: let signal end
	}
	<-s.done
}

func (s *Session) dispatch() {
	defer close(s.events)
	defer close(s.signals)
	for ev := range s.c.Events() {
		if strings.HasPrefix(ev.Type, "rtc.") {
			s.signals <- ev
			continue
		}
		select {
		case s.events <- ev:
		default:
		}
	}
}

// signal answers offers and adds candidates, in order, once the peer
// exists.
func (s *Session) signal() {
	var peer *Peer
	select {
	case <-s.ready:
		peer = s.peer
	case <-s.c.Done(): // closed before Connect: drop the signals
	}
	for ev := range s.signals {
		if peer == nil {
			continue
		}
		switch ev.Type {
		case "rtc.offer":
			var o struct {
				SDP string `json:"sdp"`
			}
			if json.Unmarshal(ev.Data, &o) != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), peer.opt.Timeout)
			err := peer.AnswerOffer(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP})
			cancel()
			if err != nil && !peer.closing.Load() && peer.opt.OnError != nil {
				peer.opt.OnError(err)
			}
		case "rtc.candidate":
			var cd struct {
				Target    sfu.Target              `json:"target"`
				Candidate webrtc.ICECandidateInit `json:"candidate"`
			}
			if json.Unmarshal(ev.Data, &cd) != nil {
				continue
			}
			peer.AddCandidate(cd.Target, cd.Candidate)
		}
	}
}
