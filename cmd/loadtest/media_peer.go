package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/signaling/client"
)

// mediaPeer is one participant: a websocket in one room with an up
// connection (it offers, publishes) and a down connection (the server
// offers, it receives), speaking rtc.* as docs/protocol.md says.
type mediaPeer struct {
	name   string
	c      *client.Client
	opened time.Time // websocket open: join times count from here
	room   string
	part   string // participant id
	up     *webrtc.PeerConnection
	down   *webrtc.PeerConnection
	stats  *mediaStats

	// signals queue rtc.* events until the connections exist (ready):
	// the server's first down offer may come before the room.join ack.
	signals chan client.Envelope
	ready   chan struct{}
	others  chan client.Envelope // every other event, dropped when full
	wg      sync.WaitGroup       // dispatch, signal, receivers, senders

	mu       sync.Mutex
	received map[string]*trackRecv                // by publisher/track
	expect   int                                  // tracks it should receive
	downUp   time.Time                            // when down first connected (ICE and DTLS done)
	early    map[string][]webrtc.ICECandidateInit // the server's candidates that came before their description, by target
	lastErr  error
}

// connectMedia opens a websocket for token and starts reading its events.
func connectMedia(ctx context.Context, url, token, name string, stats *mediaStats) (*mediaPeer, error) {
	opened := time.Now()
	c, _, err := client.Connect(ctx, url, client.Options{Token: token})
	if err != nil {
		return nil, fmt.Errorf("%s connects: %w", name, err)
	}
	p := &mediaPeer{name: name, c: c, opened: opened, stats: stats,
		signals: make(chan client.Envelope, 256), ready: make(chan struct{}),
		others: make(chan client.Envelope, 256), received: map[string]*trackRecv{}, early: map[string][]webrtc.ICECandidateInit{}}
	p.wg.Add(2)
	go func() { defer p.wg.Done(); p.dispatch() }()
	go func() { defer p.wg.Done(); p.signal() }()
	return p, nil
}

func (p *mediaPeer) dispatch() {
	defer close(p.signals)
	for ev := range p.c.Events() {
		if strings.HasPrefix(ev.Type, "rtc.") {
			p.signals <- ev
			continue
		}
		select {
		case p.others <- ev:
		default:
		}
	}
}

// waitEvent waits for an event of typ that match accepts.
func (p *mediaPeer) waitEvent(ctx context.Context, typ string, match func(json.RawMessage) bool, d time.Duration) (json.RawMessage, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case ev := <-p.others:
			if ev.Type == typ && (match == nil || match(ev.Data)) {
				return ev.Data, nil
			}
		case <-p.c.Done():
			return nil, fmt.Errorf("%s: connection closed waiting for %s", p.name, typ)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, fmt.Errorf("%s: no %s within %s", p.name, typ, d)
		}
	}
}

// request sends a request and decodes its answer into out (when not nil).
func (p *mediaPeer) request(ctx context.Context, typ string, data, out any) error {
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	raw, err := p.c.Request(rctx, typ, data)
	if err != nil {
		return fmt.Errorf("%s %s: %w", p.name, typ, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", p.name, typ, err)
		}
	}
	return nil
}

// joinAnswer is what room.join answers.
type joinAnswer struct {
	ParticipantID string             `json:"participant_id"`
	ReceiveOnly   bool               `json:"receive_only"`
	ICEServers    []webrtc.ICEServer `json:"ice_servers"`
}

// join enters room expecting to receive expect tracks, and makes both
// connections.
func (p *mediaPeer) join(ctx context.Context, room string, receiveOnly bool, expect int) error {
	p.room = room
	p.mu.Lock()
	p.expect = expect
	p.mu.Unlock()
	data := map[string]any{"room_id": room}
	if receiveOnly {
		data["receive_only"] = true
	}
	var j joinAnswer
	if err := p.request(ctx, "room.join", data, &j); err != nil {
		return err
	}
	p.part = j.ParticipantID
	// Loopback only: the TURN server is not needed, and host candidates
	// are what a run measures.
	cfg := webrtc.Configuration{}
	var err error
	if p.up, err = webrtc.NewPeerConnection(cfg); err != nil {
		return err
	}
	if p.down, err = webrtc.NewPeerConnection(cfg); err != nil {
		return err
	}
	for target, pc := range map[string]*webrtc.PeerConnection{"up": p.up, "down": p.down} {
		pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
			if cand == nil {
				return
			}
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p.c.Request(rctx, "rtc.candidate", map[string]any{"room_id": room, "target": target, "candidate": cand.ToJSON()}) //nolint:errcheck // the run notices missing media
		})
	}
	p.down.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.mu.Lock()
			if p.downUp.IsZero() {
				p.downUp = time.Now()
			}
			p.mu.Unlock()
		}
	})
	p.down.OnTrack(func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			for {
				if _, _, err := rcv.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		defer p.wg.Done()
		p.receive(tr)
	})
	close(p.ready)
	return nil
}

// signal answers the server's offers and adds candidates, in order, once
// the connections exist.
func (p *mediaPeer) signal() {
	select {
	case <-p.ready:
	case <-p.c.Done():
		return
	}
	for ev := range p.signals {
		switch ev.Type {
		case "rtc.offer":
			var o struct {
				SDP string `json:"sdp"`
			}
			if json.Unmarshal(ev.Data, &o) != nil {
				continue
			}
			if err := p.answer(o.SDP); err != nil {
				p.noteErr(err)
			}
		case "rtc.candidate":
			var cd struct {
				Target    string                  `json:"target"`
				Candidate webrtc.ICECandidateInit `json:"candidate"`
			}
			if json.Unmarshal(ev.Data, &cd) != nil {
				continue
			}
			p.remoteCandidate(cd.Target, cd.Candidate)
		}
	}
}

// remoteCandidate adds a server's candidate, or keeps it until its
// connection's remote description is set: the server trickles its up
// candidates while its answer to rtc.offer is still on the way, and a
// candidate added too early is lost (ICE would then find the server only
// as a peer-reflexive address, which Pion nominates after a second).
func (p *mediaPeer) remoteCandidate(target string, c webrtc.ICECandidateInit) {
	pc := p.down
	if target == "up" {
		pc = p.up
	}
	if pc == nil {
		return
	}
	p.mu.Lock()
	if pc.RemoteDescription() == nil {
		p.early[target] = append(p.early[target], c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	pc.AddICECandidate(c) //nolint:errcheck // a late candidate of a closed connection
}

// addEarly adds the candidates kept for target, whose remote description
// has just been set.
func (p *mediaPeer) addEarly(target string, pc *webrtc.PeerConnection) {
	p.mu.Lock()
	early := p.early[target]
	delete(p.early, target)
	p.mu.Unlock()
	for _, c := range early {
		pc.AddICECandidate(c) //nolint:errcheck // as in remoteCandidate
	}
}

func (p *mediaPeer) answer(sdp string) error {
	if err := p.down.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	p.addEarly("down", p.down)
	ans, err := p.down.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := p.down.SetLocalDescription(ans); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = p.c.Request(ctx, "rtc.answer", map[string]any{"room_id": p.room, "sdp": p.down.LocalDescription().SDP})
	return err
}

func (p *mediaPeer) noteErr(err error) {
	p.mu.Lock()
	p.lastErr = fmt.Errorf("%s: %w", p.name, err)
	p.mu.Unlock()
}

// publish offers tracks on up and, once answered, feeds them until ctx
// ends.
func (p *mediaPeer) publish(ctx context.Context, tracks []*localTrack) error {
	offer, err := p.up.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := p.up.SetLocalDescription(offer); err != nil {
		return err
	}
	desc := make([]map[string]any, 0, len(tracks))
	for _, t := range tracks {
		desc = append(desc, map[string]any{"track_id": t.id, "source": t.source, "muted": false})
	}
	var ans struct {
		SDP string `json:"sdp"`
	}
	if err := p.request(ctx, "rtc.offer", map[string]any{"room_id": p.room, "sdp": offer.SDP, "tracks": desc}, &ans); err != nil {
		return err
	}
	if err := p.up.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		return err
	}
	p.addEarly("up", p.up)
	p.stats.published.Store(p.part, time.Now())
	for _, t := range tracks {
		if err := t.run(ctx, p.up, &p.stats.sent, &p.wg); err != nil {
			return err
		}
	}
	return nil
}

// close ends the peer: connections, websocket, and every goroutine.
func (p *mediaPeer) close() {
	if p.up != nil {
		p.up.Close() //nolint:errcheck
	}
	if p.down != nil {
		p.down.Close() //nolint:errcheck
	}
	p.c.Close() //nolint:errcheck
	select {
	case <-p.ready:
	default:
		close(p.ready) // never joined: let signal end
	}
	p.wg.Wait()
}

// trackRecv is what one peer received of one track.
type trackRecv struct {
	publisher string       // participant id
	id        string       // track id
	want      atomic.Int32 // the layer asked for with rtc.layer, -1 if none
	first     time.Time
	packets   atomic.Int64
	layer     atomic.Int32 // last simulcast layer seen
	highAt    atomic.Int64 // Unix nanoseconds of the first packet of layer 2, 0 before
	lost      atomic.Int64 // sequence numbers skipped
}

// receive reads one remote track until it ends, counting packets and
// sequence gaps and, while the stats are measuring, added latency. A track
// has arrived with its first decodable packet: any audio packet, the
// first packet of a video keyframe (what a decoder can start from).
func (p *mediaPeer) receive(tr *webrtc.TrackRemote) {
	key := tr.StreamID() + "/" + tr.ID()
	rec := &trackRecv{publisher: tr.StreamID(), id: tr.ID()}
	rec.layer.Store(-1)
	rec.want.Store(-1)
	kind := tr.Kind()
	var last uint16
	seen, started := false, false
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		now := time.Now()
		if !started && (kind != webrtc.RTPCodecTypeVideo || vp8Keyframe(pkt.Payload)) {
			started = true
			rec.first = now
			p.mu.Lock()
			p.received[key] = rec
			p.mu.Unlock()
		}
		if !seen {
			seen = true
			last = pkt.SequenceNumber
		} else {
			switch d := pkt.SequenceNumber - last; {
			case d == 0: // a repeat
			case d < 0x8000:
				rec.lost.Add(int64(d - 1))
				last = pkt.SequenceNumber
			default: // late: it filled a gap counted lost
				rec.lost.Add(-1)
			}
		}
		rec.packets.Add(1)
		p.stats.received.Add(1)
		measuring := p.stats.measuring.Load()
		if measuring {
			p.stats.windowReceived.Add(1)
		}
		layer, sentAt, ok := readStamp(kind, pkt.Payload)
		if !ok {
			p.stats.unstamped.Add(1)
			continue
		}
		rec.layer.Store(int32(layer))
		if layer == 2 && started && rec.highAt.Load() == 0 {
			rec.highAt.Store(now.UnixNano())
		}
		if measuring {
			p.stats.latency.add(time.Duration(now.UnixNano() - sentAt))
		}
	}
}

// connectedAfter is how long after the websocket opened down first
// connected (false while it has not).
func (p *mediaPeer) connectedAfter() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.downUp.Sub(p.opened), !p.downUp.IsZero()
}

// complete reports whether every expected track has arrived and how long
// the last one took: for each track, from the later of the websocket's
// opening and the track's publishing (someone who joins an empty room
// waits for the others, which is not join time) to its first decodable
// packet.
func (p *mediaPeer) complete() (bool, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.expect == 0 || len(p.received) < p.expect {
		return p.expect == 0, 0
	}
	var worst time.Duration
	for _, rec := range p.received {
		from := p.opened
		if at, ok := p.stats.published.Load(rec.publisher); ok && at.(time.Time).After(from) {
			from = at.(time.Time)
		}
		worst = max(worst, rec.first.Sub(from))
	}
	return true, worst
}

// tracks copies the peer's received tracks.
func (p *mediaPeer) tracks() []*trackRecv {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*trackRecv, 0, len(p.received))
	for _, r := range p.received {
		out = append(out, r)
	}
	return out
}

// mediaStats are the counters of a whole run.
type mediaStats struct {
	published      sync.Map // participant id → when its publish was answered
	sent           sendCounter
	received       atomic.Int64
	unstamped      atomic.Int64
	measuring      atomic.Bool
	windowReceived atomic.Int64
	latency        latencies
}
