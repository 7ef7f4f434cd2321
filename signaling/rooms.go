package signaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/conference"
	"parley/sfu"
)

// RegisterRooms maps room.* and rtc.* onto the conference service, and
// joins it to the chat: a conversation's room is open to that
// conversation's people, writes its events to the transcript and ends
// when the chat closes.
func RegisterRooms(r *Router, b bus.Bus, conf *conference.Service, chatSvc *chat.Service, log *slog.Logger) {
	h := &roomHandlers{conf: conf, chat: chatSvc, bus: b, log: log, conns: map[*Conn]map[string]*conference.Member{},
		numbers: auth.NewLimiter(30*time.Second, 10)}
	conf.OnActivity = h.activity
	chatSvc.OnClose(h.conversationClosed)
	r.Handle("room.create", h.create)
	r.Handle("room.join", h.join)
	r.Handle("room.leave", h.leave)
	r.Handle("room.end", h.end)
	r.Handle("room.get", h.get)
	r.Handle("room.decline", h.decline, auth.AccountRoles...)
	r.Handle("rtc.offer", h.offer)
	r.Handle("rtc.answer", h.answer)
	r.Handle("rtc.candidate", h.candidate)
	r.Handle("rtc.track", h.track)
	r.Handle("rtc.layer", h.layer)
	r.Handle("rtc.restart", h.restart)
}

type roomHandlers struct {
	conf    *conference.Service
	chat    *chat.Service
	bus     bus.Bus
	log     *slog.Logger
	numbers *auth.Limiter // wrong room numbers, per principal

	mu    sync.Mutex
	conns map[*Conn]map[string]*conference.Member // each connection's rooms
}

// activity writes a conversation room's activity to the transcript.
func (h *roomHandlers) activity(r conference.Room, a conference.Activity) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := h.chat.RoomEvent(ctx, chat.ConversationID(*r.ConversationID), a.Kind, a.By, r.ID, a.Private)
	if err != nil {
		h.log.Warn("room event to transcript", "room", r.ID, "kind", a.Kind, "err", err)
	}
}

// conversationClosed ends the conversation's room, if one is open.
func (h *roomHandlers) conversationClosed(id chat.ConversationID) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := h.conf.OpenForConversation(ctx, int64(id))
	if err == nil {
		err = h.conf.End(ctx, auth.Principal{}, r.ID)
	}
	if err != nil && !errors.Is(err, conference.ErrNotFound) && !errors.Is(err, conference.ErrEnded) {
		h.log.Warn("ending a closed chat's room", "conversation", id, "err", err)
	}
}

type roomRef struct {
	RoomID string `json:"room_id"`
}

func bindRoom(req *Request, v any, ref *roomRef) error {
	if err := Bind(req.Data, v); err != nil {
		return err
	}
	if ref.RoomID == "" {
		return BadRequest(`"room_id" is required`)
	}
	return nil
}

// member is the connection's member of a room.
func (h *roomHandlers) member(c *Conn, roomID string) (*conference.Member, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.conns[c][roomID]; m != nil {
		return m, nil
	}
	return nil, &Error{CodeNotFound, "not in this room: join it first"}
}

func (h *roomHandlers) create(ctx context.Context, req *Request) (any, error) {
	var in struct {
		ConversationID chat.ConversationID `json:"conversation_id"`
		Media          string              `json:"media"`
		Name           string              `json:"name"`
		Invite         []auth.UserID       `json:"invite"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	p := req.Principal()
	if in.ConversationID == 0 {
		room, err := h.conf.CreateConference(ctx, p, in.Name, in.Invite)
		if err != nil {
			return nil, err
		}
		return map[string]any{"room": room, "created": true}, nil
	}
	acc, err := h.chat.RoomAccess(ctx, p, in.ConversationID)
	if err != nil {
		return nil, err
	}
	if !acc.MayCreate {
		if acc.Conversation.State == chat.StateClosed {
			return nil, &Error{CodeConflict, "the chat is closed"}
		}
		return nil, Forbidden("calls are not open to you in this chat")
	}
	room, created, err := h.conf.CreateForConversation(ctx, p, acc.Name, int64(in.ConversationID),
		"Chat with "+acc.Conversation.Customer.Name, in.Media)
	if err != nil {
		return nil, err
	}
	if created {
		if frame, err := bus.Frame("room.opened", map[string]any{"room": room}); err == nil {
			h.bus.Publish(chat.StaffSubject(in.ConversationID), frame)  //nolint:errcheck
			h.bus.Publish(chat.PublicSubject(in.ConversationID), frame) //nolint:errcheck
		}
	}
	return map[string]any{"room": room, "created": created}, nil
}

// access is how p may be in room r: its name there and whether it only
// receives.
func (h *roomHandlers) access(ctx context.Context, p auth.Principal, r conference.Room) (conference.JoinOptions, error) {
	opt := conference.JoinOptions{Name: p.Name, MayEnd: conference.MayEndConference(p, r)}
	if r.Kind != conference.KindConversation {
		return opt, conference.MayJoin(p, r, false)
	}
	acc, err := h.chat.RoomAccess(ctx, p, chat.ConversationID(*r.ConversationID))
	if errors.Is(err, chat.ErrNotFound) {
		return opt, Forbidden("this room belongs to a conversation you are not in")
	}
	if err != nil {
		return opt, err
	}
	opt.Name, opt.ReceiveOnly, opt.ConversationChecked, opt.MayEnd = acc.Name, acc.ReceiveOnly, true, acc.MayEnd
	return opt, conference.MayJoin(p, r, true)
}

func (h *roomHandlers) join(ctx context.Context, req *Request) (any, error) {
	var in struct {
		roomRef
		ReceiveOnly bool `json:"receive_only"`
	}
	if err := bindRoom(req, &in, &in.roomRef); err != nil {
		return nil, err
	}
	p := req.Principal()
	r, err := h.conf.Get(ctx, in.RoomID)
	if err != nil {
		return nil, err
	}
	opt, err := h.access(ctx, p, r)
	if err != nil {
		return nil, err
	}
	opt.ReceiveOnly = opt.ReceiveOnly || in.ReceiveOnly
	c := req.Conn
	h.mu.Lock()
	if h.conns[c][r.ID] != nil {
		h.mu.Unlock()
		return nil, &Error{CodeConflict, "this connection is already in the room"}
	}
	first := h.conns[c] == nil
	if first {
		h.conns[c] = map[string]*conference.Member{}
	}
	h.mu.Unlock()
	if first {
		go h.watch(c)
	}
	// Follow the room's events before joining, so none falls in between.
	if err := c.Subscribe(conference.Subject(r.ID)); err != nil {
		return nil, err
	}
	if p.IsStaff() {
		if err := c.Subscribe(conference.StaffSubject(r.ID)); err != nil {
			return nil, err
		}
	}
	opt.OnGone = func() { h.forget(c, r.ID) }
	member, joined, err := h.conf.Join(ctx, p, r.ID, opt, &connSignal{c: c, room: r.ID})
	if err != nil {
		c.Unsubscribe(conference.Subject(r.ID))
		c.Unsubscribe(conference.StaffSubject(r.ID))
		return nil, err
	}
	h.mu.Lock()
	if h.conns[c] != nil {
		h.conns[c][r.ID] = member
	}
	h.mu.Unlock()
	select {
	case <-c.Done(): // the connection ended while joining: watch has run
		h.conf.Leave(member, "disconnected")
	default:
	}
	joined.MayEnd = opt.MayEnd
	return joined, nil
}

// forget drops the connection's member of a room: it left, or the room
// removed it (ended, media gone).
func (h *roomHandlers) forget(c *Conn, roomID string) {
	h.mu.Lock()
	if rooms := h.conns[c]; rooms != nil {
		delete(rooms, roomID)
	}
	h.mu.Unlock()
	c.Unsubscribe(conference.Subject(roomID))
	c.Unsubscribe(conference.StaffSubject(roomID))
}

// watch leaves every room of a connection when it ends.
func (h *roomHandlers) watch(c *Conn) {
	<-c.Done()
	h.mu.Lock()
	rooms := h.conns[c]
	delete(h.conns, c)
	h.mu.Unlock()
	for _, m := range rooms {
		h.conf.Leave(m, "disconnected")
	}
}

func (h *roomHandlers) leave(ctx context.Context, req *Request) (any, error) {
	var in roomRef
	if err := bindRoom(req, &in, &in); err != nil {
		return nil, err
	}
	m, err := h.member(req.Conn, in.RoomID)
	if err != nil {
		return nil, err
	}
	h.forget(req.Conn, in.RoomID)
	h.conf.Leave(m, "left")
	return nil, nil
}

func (h *roomHandlers) end(ctx context.Context, req *Request) (any, error) {
	var in roomRef
	if err := bindRoom(req, &in, &in); err != nil {
		return nil, err
	}
	p := req.Principal()
	r, err := h.conf.Get(ctx, in.RoomID)
	if err != nil {
		return nil, err
	}
	if r.Kind == conference.KindConversation {
		acc, err := h.chat.RoomAccess(ctx, p, chat.ConversationID(*r.ConversationID))
		if err != nil {
			return nil, err
		}
		if !acc.MayEnd {
			return nil, Forbidden("only the chat's agent ends its room")
		}
	} else if !conference.MayEndConference(p, r) {
		return nil, Forbidden("only the room's creator ends it for everyone")
	}
	return nil, h.conf.End(ctx, p, r.ID)
}

func (h *roomHandlers) get(ctx context.Context, req *Request) (any, error) {
	var in struct {
		RoomID string `json:"room_id"`
		Number string `json:"number"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	p := req.Principal()
	var r conference.Room
	var err error
	switch {
	case in.RoomID != "":
		if r, err = h.conf.Get(ctx, in.RoomID); err != nil {
			return nil, err
		}
		if _, err := h.access(ctx, p, r); err != nil && !errors.Is(err, conference.ErrEnded) {
			return nil, conference.ErrNotFound
		}
	case in.Number != "":
		if !p.IsStaff() {
			return nil, Forbidden("look numbers up with POST /api/conference/lookup")
		}
		if blocked, retry := h.numbers.Blocked(p.Key()); blocked {
			return nil, &Error{CodeRateLimited, fmt.Sprintf("too many wrong room numbers; try again in %d s", int(retry.Seconds())+1)}
		}
		if r, err = h.conf.ByNumber(ctx, in.Number); errors.Is(err, conference.ErrNotFound) {
			h.numbers.Allow(p.Key())
			return nil, &Error{CodeNotFound, "No room has this number"}
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, BadRequest(`"room_id" or "number" is required`)
	}
	return map[string]any{"room": r}, nil
}

func (h *roomHandlers) decline(ctx context.Context, req *Request) (any, error) {
	var in roomRef
	if err := bindRoom(req, &in, &in); err != nil {
		return nil, err
	}
	return nil, h.conf.Decline(ctx, req.Principal(), in.RoomID)
}

// maxTracks is the most tracks one participant publishes at once: camera,
// microphone, screen and its audio, with room to spare.
const maxTracks = 8

func (h *roomHandlers) offer(ctx context.Context, req *Request) (any, error) {
	var in struct {
		roomRef
		SDP    string `json:"sdp"`
		Tracks []struct {
			TrackID string `json:"track_id"`
			Source  string `json:"source"`
			Muted   bool   `json:"muted"`
		} `json:"tracks"`
	}
	if err := bindRoom(req, &in, &in.roomRef); err != nil {
		return nil, err
	}
	if in.SDP == "" {
		return nil, BadRequest(`"sdp" is required`)
	}
	if len(in.Tracks) > maxTracks {
		return nil, BadRequest(fmt.Sprintf(`"tracks": at most %d`, maxTracks))
	}
	for _, t := range in.Tracks {
		if t.TrackID == "" || len(t.TrackID) > 128 {
			return nil, BadRequest(`"tracks": each needs a "track_id" of at most 128 characters`)
		}
		if !sfu.ValidSource(t.Source) {
			return nil, BadRequest(`"tracks": "source" is camera, microphone, screen or screen-audio`)
		}
	}
	m, err := h.member(req.Conn, in.RoomID)
	if err != nil {
		return nil, err
	}
	if m.Participant().ReceiveOnly() {
		return nil, Forbidden("you only receive in this room")
	}
	for _, t := range in.Tracks {
		if err := h.conf.SetTrack(m, t.TrackID, t.Source, t.Muted); err != nil {
			return nil, err
		}
	}
	answer, err := m.Participant().Publish(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: in.SDP})
	if err != nil {
		return nil, BadRequest("sdp: " + err.Error())
	}
	return map[string]any{"sdp": answer.SDP}, nil
}

func (h *roomHandlers) answer(ctx context.Context, req *Request) (any, error) {
	var in struct {
		roomRef
		SDP string `json:"sdp"`
	}
	if err := bindRoom(req, &in, &in.roomRef); err != nil {
		return nil, err
	}
	if in.SDP == "" {
		return nil, BadRequest(`"sdp" is required`)
	}
	m, err := h.member(req.Conn, in.RoomID)
	if err != nil {
		return nil, err
	}
	if err := m.Participant().Answer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: in.SDP}); err != nil {
		return nil, BadRequest("sdp: " + err.Error())
	}
	return nil, nil
}

func (h *roomHandlers) candidate(ctx context.Context, req *Request) (any, error) {
	var in struct {
		roomRef
		Target    sfu.Target               `json:"target"`
		Candidate *webrtc.ICECandidateInit `json:"candidate"`
	}
	if err := bindRoom(req, &in, &in.roomRef); err != nil {
		return nil, err
	}
	if in.Target != sfu.Up && in.Target != sfu.Down {
		return nil, BadRequest(`"target" is "up" or "down"`)
	}
	if in.Candidate == nil {
		return nil, BadRequest(`"candidate" is required`)
	}
	m, err := h.member(req.Conn, in.RoomID)
	if err != nil {
		return nil, err
	}
	if err := m.Participant().AddCandidate(in.Target, *in.Candidate); err != nil {
		return nil, BadRequest("candidate: " + err.Error())
	}
	return nil, nil
}

func (h *roomHandlers) track(ctx context.Context, req *Request) (any, error) {
	var in struct {
		roomRef
		TrackID string `json:"track_id"`
		Source  string `json:"source"`
		Muted   bool   `json:"muted"`
	}
	if err := bindRoom(req, &in, &in.roomRef); err != nil {
		return nil, err
	}
	if in.TrackID == "" {
		return nil, BadRequest(`"track_id" is required`)
	}
	m, err := h.member(req.Conn, in.RoomID)
	if err != nil {
		return nil, err
	}
	return nil, h.conf.SetTrack(m, in.TrackID, in.Source, in.Muted)
}

func (h *roomHandlers) layer(ctx context.Context, req *Request) (any, error) {
	var in struct {
		roomRef
		TrackID  string `json:"track_id"`
		MaxLayer *int   `json:"max_layer"`
	}
	if err := bindRoom(req, &in, &in.roomRef); err != nil {
		return nil, err
	}
	if in.TrackID == "" {
		return nil, BadRequest(`"track_id" is required`)
	}
	if in.MaxLayer == nil || *in.MaxLayer < 0 || *in.MaxLayer > 2 {
		return nil, BadRequest(`"max_layer" is 0, 1 or 2`)
	}
	m, err := h.member(req.Conn, in.RoomID)
	if err != nil {
		return nil, err
	}
	m.Participant().SetMaxLayer(in.TrackID, *in.MaxLayer)
	return nil, nil
}

func (h *roomHandlers) restart(ctx context.Context, req *Request) (any, error) {
	var in roomRef
	if err := bindRoom(req, &in, &in); err != nil {
		return nil, err
	}
	m, err := h.member(req.Conn, in.RoomID)
	if err != nil {
		return nil, err
	}
	m.Participant().Restart()
	return nil, nil
}

// connSignal carries a participant's media signalling to its connection.
// Send never blocks: a connection too slow to take it is cut off.
type connSignal struct {
	c    *Conn
	room string
}

func (s *connSignal) Offer(sdp webrtc.SessionDescription) {
	if frame, err := bus.Frame("rtc.offer", map[string]any{"room_id": s.room, "sdp": sdp.SDP}); err == nil {
		s.c.Send(frame)
	}
}

func (s *connSignal) Candidate(t sfu.Target, c webrtc.ICECandidateInit) {
	if frame, err := bus.Frame("rtc.candidate", map[string]any{"room_id": s.room, "target": t, "candidate": c}); err == nil {
		s.c.Send(frame)
	}
}
