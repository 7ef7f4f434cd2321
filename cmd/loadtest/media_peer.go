package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/signaling/client"
)

// mediaPeer is one participant: a websocket in one room with an up
// connection (it offers, publishes) and a down connection (the server
// offers, it receives), speaking rtc.* as docs/protocol.md says through
// rtcpeer, the client the server's own room tests use.
type mediaPeer struct {
	name   string
	c      *client.Client
	sess   *rtcpeer.Session
	opened time.Time // websocket open: join times count from here
	room   string
	part   string // participant id
	peer   *rtcpeer.Peer
	up     *webrtc.PeerConnection // peer's connections
	down   *webrtc.PeerConnection
	stats  *mediaStats
	wg     sync.WaitGroup // receivers, senders (rtcpeer ends its own)

	mu       sync.Mutex
	received map[string]*trackRecv // by publisher/track
	expect   int                   // tracks it should receive
	downUp   time.Time             // when down first connected (ICE and DTLS done)
	lastErr  error
}

// connectMedia opens a websocket for token and starts reading its events.
func connectMedia(ctx context.Context, url, token, name string, stats *mediaStats) (*mediaPeer, error) {
	opened := time.Now()
	c, _, err := client.Connect(ctx, url, client.Options{Token: token})
	if err != nil {
		return nil, fmt.Errorf("%s connects: %w", name, err)
	}
	return &mediaPeer{name: name, c: c, sess: rtcpeer.Follow(c), opened: opened, stats: stats,
		received: map[string]*trackRecv{}}, nil
}

// waitEvent waits for an event of typ that match accepts.
func (p *mediaPeer) waitEvent(ctx context.Context, typ string, match func(json.RawMessage) bool, d time.Duration) (json.RawMessage, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-p.sess.Events():
			if !ok {
				return nil, fmt.Errorf("%s: connection closed waiting for %s", p.name, typ)
			}
			if ev.Type == typ && (match == nil || match(ev.Data)) {
				return ev.Data, nil
			}
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
	peer, err := p.sess.Connect(room, rtcpeer.Options{
		OnTrack: func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
			p.wg.Add(2)
			go func() { defer p.wg.Done(); drainReceiverRTCP(rcv) }()
			defer p.wg.Done()
			p.receive(tr)
		},
		OnError: p.noteErr,
	})
	if err != nil {
		return err
	}
	p.peer, p.up, p.down = peer, peer.Up(), peer.Down()
	p.down.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.mu.Lock()
			if p.downUp.IsZero() {
				p.downUp = time.Now()
			}
			p.mu.Unlock()
		}
	})
	return nil
}

// drainReceiverRTCP reads what the server sends a receiver until it stops.
func drainReceiverRTCP(rcv *webrtc.RTPReceiver) {
	for {
		if _, _, err := rcv.ReadRTCP(); err != nil {
			return
		}
	}
}

func (p *mediaPeer) noteErr(err error) {
	p.mu.Lock()
	p.lastErr = fmt.Errorf("%s: %w", p.name, err)
	p.mu.Unlock()
}

// publish offers tracks on up and, once answered, feeds them until ctx
// ends.
func (p *mediaPeer) publish(ctx context.Context, tracks []*localTrack) error {
	desc := make([]rtcpeer.Track, 0, len(tracks))
	for _, t := range tracks {
		desc = append(desc, rtcpeer.Track{ID: t.id, Source: t.source})
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := p.peer.OfferUp(rctx, nil, desc...); err != nil {
		return fmt.Errorf("%s publishes: %w", p.name, err)
	}
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
	p.sess.Close()
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
