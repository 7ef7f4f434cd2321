package rooms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"parley/auth"
	"parley/bus"
	"parley/cluster"
	"parley/conference"
	"parley/fault"
)

// With many nodes, a room lives on its host (conference.Host) and a
// connection on any node takes part in it. The connection's node decides
// every request with the access rule, as with one node; then, for a room
// hosted elsewhere, it relays the request to the host over the bus
// (request and reply on the host's subject RelaySubject) and answers the
// client with the host's reply. The host trusts a relayed request
// because it came over the bus: it asks no rule again. The host's
// signalling to the member (down offers, its ICE candidates) comes back
// as the client's own rtc.* frames on a subject of the member's
// (followed by the connection's node before the join), and the room's
// events on the room's subjects, which the connection follows as with
// one node. Media flows between the client and the host's SFU.

// seat is a connection's place in a room: its member on this node
// (local) or its member on the room's host (remote).
type seat interface {
	conference.Media
	ReceiveOnly() bool
	// host is the node holding the member, "" for this one.
	host() string
	// leave takes the member out of its room.
	leave(reason string)
	// detach stops what the seat follows for its client (a remote
	// seat's signalling subject); the member is gone or going.
	detach()
}

// localSeat is a member on this node.
type localSeat struct {
	*conference.Member
	conf *conference.Service
}

func (l *localSeat) host() string        { return "" }
func (l *localSeat) leave(reason string) { l.conf.Leave(l.Member, reason) }
func (l *localSeat) detach()             {}

// relayTimeout bounds one relayed request: a host that does not answer
// in time is unavailable to the client.
const relayTimeout = 5 * time.Second

// RelaySubject is the bus subject on which node id serves the room
// requests relayed to it.
func RelaySubject(id string) string { return "node." + id + ".rooms" }

// memberGoneType is the frame a host sends on a relayed member's
// signalling subject when the room removed the member (it ended, its
// media timed out, the host let go of it). It is for the member's node,
// never for the client.
const memberGoneType = "room.member_gone"

// relayRequest is one request relayed to a room's host: Op names it, and
// the fields it needs are set.
type relayRequest struct {
	Op     string `json:"op"`
	From   string `json:"from"` // the asking node
	RoomID string `json:"room_id"`
	Member string `json:"member,omitempty"`

	// join
	Principal *auth.Principal `json:"principal,omitempty"`
	Join      *relayJoin      `json:"join,omitempty"`
	Signal    string          `json:"signal,omitempty"`
	// publish, answer
	SDP    string                 `json:"sdp,omitempty"`
	Tracks []conference.TrackInfo `json:"tracks,omitempty"`
	// candidate
	Target    conference.Target     `json:"target,omitempty"`
	Candidate *conference.Candidate `json:"candidate,omitempty"`
	// track, layer
	Track   *conference.TrackInfo `json:"track,omitempty"`
	TrackID string                `json:"track_id,omitempty"`
	Layer   int                   `json:"layer,omitempty"`
	// leave
	Reason string `json:"reason,omitempty"`
}

// relayJoin is the grant the asking node's rule gave, as join options.
type relayJoin struct {
	Name        string `json:"name"`
	ReceiveOnly bool   `json:"receive_only"`
	Hidden      bool   `json:"hidden"`
	SeesHidden  bool   `json:"sees_hidden"`
	MayEnd      bool   `json:"may_end"`
}

// relayReply is the host's answer: an error's wire code and message, or
// what the request returns.
type relayReply struct {
	Code    string             `json:"code,omitempty"`
	Message string             `json:"message,omitempty"`
	Joined  *conference.Joined `json:"joined,omitempty"`
	SDP     string             `json:"sdp,omitempty"`
}

// relay is the service's part with many nodes.
type relay struct {
	node  *cluster.Cluster
	req   bus.Requester
	stop  func()
	mu    sync.Mutex
	hosts map[string]*hosted // members this node hosts for other nodes, by member id
}

// hosted is a member this node hosts for a connection on another node.
type hosted struct {
	m    *conference.Member
	from string
}

// Relay has the service take part in a deployment of many nodes: rooms
// hosted elsewhere are used through their hosts, and this node serves
// the requests relayed to the rooms it hosts. When a node goes, the
// rooms it hosted are taken over and their participants here told to
// move; its members here are removed.
func (s *Service) Relay(node *cluster.Cluster, req bus.Requester) error {
	s.relay = &relay{node: node, req: req, hosts: map[string]*hosted{}} // before the first request comes
	stop, err := req.Serve(RelaySubject(node.ID()), s.serve)
	if err != nil {
		s.relay = nil
		return err
	}
	s.relay.stop = stop
	node.OnGone(s.nodeGone)
	return nil
}

// Drain lets go of the rooms this node hosts as it stops (their
// participants move to another node) and stops serving relayed
// requests. Call it before the websockets close.
func (s *Service) Drain(ctx context.Context) {
	if s.relay == nil {
		return
	}
	ids, err := s.conf.Release(ctx)
	if err != nil {
		s.log.Warn("letting go of this node's rooms", "err", err)
	}
	s.relay.stop()
	// Another live node arms their empty-room timers, in case nobody
	// comes back.
	heir, err := s.conf.Heir(ctx)
	if err != nil {
		s.log.Warn("finding a node to hand the rooms' empty timers to", "err", err)
	}
	for _, id := range ids {
		if heir == "" {
			break // the next node to start arms them
		}
		if _, err := s.ask(heir, relayRequest{Op: "adopt", RoomID: id}); err != nil {
			s.log.Warn("handing the rooms' empty timers to another node", "room", id, "node", heir, "err", err)
			break // it does not answer: the next node to start arms them
		}
	}
	s.log.Info("rooms moved off this node", "rooms", len(ids), "timers_to", heir)
}

// self is this node's id, "" with one node.
func (s *Service) self() string {
	if s.relay == nil {
		return ""
	}
	return s.relay.node.ID()
}

// nodeGone acts on a node that went: its rooms are taken over (one node
// each), this node's clients in them are told to move, and the members
// this node hosted for it are removed.
func (s *Service) nodeGone(n cluster.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type moved struct {
		c    Client
		room string
		st   seat
	}
	var lost []moved
	s.mu.Lock()
	for c, rooms := range s.clients {
		for room, st := range rooms {
			if st.host() == n.ID {
				lost = append(lost, moved{c, room, st})
			}
		}
	}
	s.mu.Unlock()
	for _, l := range lost {
		s.moved(l.c, l.room, l.st, conference.MovedHostLost)
	}
	var orphans []*conference.Member
	s.relay.mu.Lock()
	for id, h := range s.relay.hosts {
		if h.from == n.ID {
			orphans = append(orphans, h.m)
			delete(s.relay.hosts, id)
		}
	}
	s.relay.mu.Unlock()
	for _, m := range orphans {
		s.conf.Leave(m, "disconnected")
	}
	if err := s.conf.HostGone(ctx, n); err != nil {
		s.log.Warn("taking over a gone node's rooms", "node", n.ID, "err", err)
	}
}

// moved forgets the client's seat st, gone because the room's host went
// away, and tells the client to join again (room.moved), unless it has
// joined again already.
func (s *Service) moved(c Client, roomID string, st seat, reason string) {
	if !s.forget(c, roomID, st, true) || reason == "" {
		return
	}
	if frame, err := bus.Frame("room.moved", map[string]any{"room_id": roomID, "reason": reason}); err == nil {
		c.Send(frame)
	}
}

// ask relays in to host and decodes its reply; a host that does not
// answer is unavailable.
func (s *Service) ask(host string, in relayRequest) (relayReply, error) {
	in.From = s.self()
	data, err := json.Marshal(in)
	if err != nil {
		return relayReply{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	raw, err := s.relay.req.Request(ctx, RelaySubject(host), data)
	if err != nil {
		s.log.Warn("relaying a room request", "op", in.Op, "room", in.RoomID, "host", host, "err", err)
		return relayReply{}, conference.WithMessage(conference.ErrUnavailable,
			"The node holding this room is not answering; try again in a moment.")
	}
	var out relayReply
	if err := json.Unmarshal(raw, &out); err != nil {
		return relayReply{}, fmt.Errorf("rooms: host %s answered %q: %w", host, raw, err)
	}
	if out.Code != "" {
		return out, fault.New(out.Code, out.Message)
	}
	return out, nil
}

// remoteSeat is a member held by the room's host, for a client here.
type remoteSeat struct {
	s           *Service
	hostID      string
	roomID      string
	memberID    string
	receiveOnly bool
	unsignal    func() // stops following the member's signalling subject
}

func (r *remoteSeat) host() string      { return r.hostID }
func (r *remoteSeat) ReceiveOnly() bool { return r.receiveOnly }
func (r *remoteSeat) detach()           { r.unsignal() }

func (r *remoteSeat) ask(in relayRequest) (relayReply, error) {
	in.RoomID, in.Member = r.roomID, r.memberID
	return r.s.ask(r.hostID, in)
}

func (r *remoteSeat) leave(reason string) {
	r.unsignal()
	if _, err := r.ask(relayRequest{Op: "leave", Reason: reason}); err != nil && !r.s.gone(r.hostID) {
		r.s.log.Warn("leaving a room on its host", "room", r.roomID, "host", r.hostID, "err", err)
	}
}

// gone reports whether node id is no longer alive.
func (s *Service) gone(id string) bool { return !s.relay.node.IsAlive(id) }

func (r *remoteSeat) Publish(offer string, tracks []conference.TrackInfo) (string, error) {
	out, err := r.ask(relayRequest{Op: "publish", SDP: offer, Tracks: tracks})
	return out.SDP, err
}

func (r *remoteSeat) Answer(sdp string) error {
	_, err := r.ask(relayRequest{Op: "answer", SDP: sdp})
	return err
}

func (r *remoteSeat) AddCandidate(t conference.Target, c conference.Candidate) error {
	_, err := r.ask(relayRequest{Op: "candidate", Target: t, Candidate: &c})
	return err
}

func (r *remoteSeat) SetTrack(t conference.TrackInfo) error {
	_, err := r.ask(relayRequest{Op: "track", Track: &t})
	return err
}

func (r *remoteSeat) SetMaxLayer(trackID string, layer int) {
	if _, err := r.ask(relayRequest{Op: "layer", TrackID: trackID, Layer: layer}); err != nil {
		r.s.log.Warn("relaying rtc.layer", "room", r.roomID, "err", err)
	}
}

func (r *remoteSeat) Restart() {
	if _, err := r.ask(relayRequest{Op: "restart"}); err != nil {
		r.s.log.Warn("relaying rtc.restart", "room", r.roomID, "err", err)
	}
}

// joinRemote makes c's member of room r on its host, with the grant g
// the rule gave here. The client follows the member's signalling subject
// before the join, so no offer falls in between.
func (s *Service) joinRemote(ctx context.Context, p auth.Principal, c Client, r conference.Room, host string, g Grant) (*remoteSeat, conference.Joined, error) {
	signal := "rtc." + s.self() + "." + token()
	st := &remoteSeat{s: s, hostID: host, roomID: r.ID, receiveOnly: g.ReceiveOnly}
	unsub, err := s.bus.Subscribe(signal, func(frame []byte) {
		var env struct {
			Type string `json:"type"`
			Data struct {
				Moved string `json:"moved"`
			} `json:"data"`
		}
		if json.Unmarshal(frame, &env) == nil && env.Type == memberGoneType {
			go s.moved(c, r.ID, st, env.Data.Moved)
			return
		}
		c.Send(frame)
	})
	if err != nil {
		return nil, conference.Joined{}, err
	}
	st.unsignal = unsub
	out, err := s.ask(host, relayRequest{Op: "join", RoomID: r.ID, Principal: &p, Signal: signal,
		Join: &relayJoin{Name: g.Name, ReceiveOnly: g.ReceiveOnly, Hidden: g.Hidden, SeesHidden: g.SeesHidden, MayEnd: g.MayEnd}})
	if err == nil && out.Joined == nil {
		err = fmt.Errorf("rooms: host %s answered a join without the member", host)
	}
	if err != nil {
		unsub()
		return nil, conference.Joined{}, err
	}
	st.memberID = out.Joined.ParticipantID
	return st, *out.Joined, nil
}

func token() string {
	b := make([]byte, 8)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail on Linux
	return hex.EncodeToString(b)
}

// serve answers one request relayed to this node, the room's host. The
// asking node decided it with the access rule; the bus is trusted.
func (s *Service) serve(ctx context.Context, data []byte) []byte {
	var in relayRequest
	out, err := relayReply{}, json.Unmarshal(data, &in)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, relayTimeout)
		out, err = s.host(ctx, in)
		late := ctx.Err() != nil
		cancel()
		if err != nil && late {
			// The asker has given up: nobody reads the answer.
			s.log.Info("a relayed room request ran out of time", "op", in.Op, "room", in.RoomID, "from", in.From, "err", err)
			return nil
		}
	}
	if err != nil {
		out = relayReply{}
		out.Code, out.Message = fault.Describe(err, s.log)
	}
	raw, err := json.Marshal(out)
	if err != nil {
		s.log.Error("encoding a relayed reply", "err", err)
	}
	return raw
}

func (s *Service) host(ctx context.Context, in relayRequest) (relayReply, error) {
	if in.Op == "join" {
		return s.hostJoin(ctx, in)
	}
	switch in.Op {
	case "closed":
		s.conf.CloseLive(in.RoomID)
		return relayReply{}, nil
	case "adopt":
		return relayReply{}, s.conf.Adopt(ctx, in.RoomID)
	}
	s.relay.mu.Lock()
	h := s.relay.hosts[in.Member]
	s.relay.mu.Unlock()
	if h == nil || h.from != in.From || h.m.RoomID() != in.RoomID {
		return relayReply{}, conference.WithMessage(conference.ErrNotFound, "not in this room: join it first")
	}
	m := h.m
	switch in.Op {
	case "leave":
		s.relay.mu.Lock()
		delete(s.relay.hosts, in.Member)
		s.relay.mu.Unlock()
		s.conf.Leave(m, in.Reason)
		return relayReply{}, nil
	case "publish":
		answer, err := m.Publish(in.SDP, in.Tracks)
		return relayReply{SDP: answer}, err
	case "answer":
		return relayReply{}, m.Answer(in.SDP)
	case "candidate":
		if in.Candidate == nil {
			return relayReply{}, bad(`"candidate" is required`)
		}
		return relayReply{}, m.AddCandidate(in.Target, *in.Candidate)
	case "track":
		if in.Track == nil {
			return relayReply{}, bad(`"track_id" is required`)
		}
		return relayReply{}, m.SetTrack(*in.Track)
	case "layer":
		m.SetMaxLayer(in.TrackID, in.Layer)
		return relayReply{}, nil
	case "restart":
		m.Restart()
		return relayReply{}, nil
	}
	return relayReply{}, bad("unknown relayed request " + in.Op)
}

func (s *Service) hostJoin(ctx context.Context, in relayRequest) (relayReply, error) {
	if in.Principal == nil || in.Join == nil || in.Signal == "" {
		return relayReply{}, errors.New("rooms: a relayed join without principal, grant or signal subject")
	}
	sig := busSignal{b: s.bus, subject: in.Signal, room: in.RoomID}
	var id string
	var idMu sync.Mutex
	var member atomic.Pointer[conference.Member]
	opt := conference.JoinOptions{Name: in.Join.Name, ReceiveOnly: in.Join.ReceiveOnly, Hidden: in.Join.Hidden,
		SeesHidden: in.Join.SeesHidden, MayEnd: in.Join.MayEnd, OnGone: func() {
			idMu.Lock()
			s.relay.mu.Lock()
			delete(s.relay.hosts, id)
			s.relay.mu.Unlock()
			idMu.Unlock()
			moved := ""
			if m := member.Load(); m != nil {
				moved = m.Moved()
			}
			sig.gone(moved)
		}}
	m, joined, err := s.conf.Join(ctx, *in.Principal, in.RoomID, opt, sig)
	if err != nil {
		return relayReply{}, err
	}
	member.Store(m)
	idMu.Lock()
	id = m.ID()
	s.relay.mu.Lock()
	s.relay.hosts[id] = &hosted{m: m, from: in.From}
	s.relay.mu.Unlock()
	idMu.Unlock()
	joined.MayEnd = in.Join.MayEnd
	return relayReply{Joined: &joined}, nil
}

// busSignal carries a relayed member's signalling to its node, as the
// client's own rtc.offer and rtc.candidate frames.
type busSignal struct {
	b       bus.Bus
	subject string
	room    string
}

var _ conference.Signal = busSignal{}

func (s busSignal) send(typ string, data any) {
	if frame, err := bus.Frame(typ, data); err == nil {
		s.b.Publish(s.subject, frame) //nolint:errcheck // at most once, as every event
	}
}

func (s busSignal) Offer(sdp string) {
	s.send("rtc.offer", map[string]any{"room_id": s.room, "sdp": sdp})
}

func (s busSignal) Candidate(t conference.Target, c conference.Candidate) {
	s.send("rtc.candidate", map[string]any{"room_id": s.room, "target": t, "candidate": c})
}

func (s busSignal) gone(moved string) {
	s.send(memberGoneType, map[string]any{"room_id": s.room, "moved": moved})
}
