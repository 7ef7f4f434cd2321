package signaling

import (
	"context"

	"parley/auth"
	"parley/bus"
	"parley/conference"
	"parley/rooms"
)

// RegisterRooms maps room.* and rtc.* onto the rooms service: each
// handler decodes, calls one method and encodes its answer.
func RegisterRooms(r *Router, svc *rooms.Service) {
	h := roomHandlers{svc}
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

type roomHandlers struct{ svc *rooms.Service }

func (h roomHandlers) create(ctx context.Context, req *Request) (any, error) {
	var in rooms.CreateInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return h.svc.Create(ctx, req.Principal(), in)
}

func (h roomHandlers) join(ctx context.Context, req *Request) (any, error) {
	var in rooms.JoinInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return h.svc.Join(ctx, req.Principal(), roomClient{req.Conn}, in)
}

func (h roomHandlers) leave(ctx context.Context, req *Request) (any, error) {
	var in rooms.RoomRef
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return nil, h.svc.Leave(roomClient{req.Conn}, in)
}

func (h roomHandlers) end(ctx context.Context, req *Request) (any, error) {
	var in rooms.RoomRef
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return nil, h.svc.End(ctx, req.Principal(), in)
}

func (h roomHandlers) get(ctx context.Context, req *Request) (any, error) {
	var in rooms.GetInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return h.svc.Get(ctx, req.Principal(), in)
}

func (h roomHandlers) decline(ctx context.Context, req *Request) (any, error) {
	var in rooms.RoomRef
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return nil, h.svc.Decline(ctx, req.Principal(), in)
}

func (h roomHandlers) offer(ctx context.Context, req *Request) (any, error) {
	var in rooms.PublishInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return h.svc.Publish(roomClient{req.Conn}, in)
}

func (h roomHandlers) answer(ctx context.Context, req *Request) (any, error) {
	var in rooms.AnswerInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return nil, h.svc.Answer(roomClient{req.Conn}, in)
}

func (h roomHandlers) candidate(ctx context.Context, req *Request) (any, error) {
	var in rooms.CandidateInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return nil, h.svc.Candidate(roomClient{req.Conn}, in)
}

func (h roomHandlers) track(ctx context.Context, req *Request) (any, error) {
	var in rooms.TrackInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return nil, h.svc.Track(roomClient{req.Conn}, in)
}

func (h roomHandlers) layer(ctx context.Context, req *Request) (any, error) {
	var in rooms.LayerInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return nil, h.svc.Layer(roomClient{req.Conn}, in)
}

func (h roomHandlers) restart(ctx context.Context, req *Request) (any, error) {
	var in rooms.RoomRef
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return nil, h.svc.Restart(roomClient{req.Conn}, in)
}

// roomClient is a connection as rooms sees it. It is a value holding the
// connection, so one connection is always the same client.
type roomClient struct{ *Conn }

var _ rooms.Client = roomClient{}

// Signal carries the media signalling of the connection's member of a
// room to it as rtc.offer and rtc.candidate events.
func (c roomClient) Signal(roomID string) conference.Signal { return connSignal{c.Conn, roomID} }

// connSignal carries a member's media signalling to its connection.
// Send never blocks: a connection too slow to take it is cut off.
type connSignal struct {
	c    *Conn
	room string
}

func (s connSignal) Offer(sdp string) {
	if frame, err := bus.Frame("rtc.offer", map[string]any{"room_id": s.room, "sdp": sdp}); err == nil {
		s.c.Send(frame)
	}
}

func (s connSignal) Candidate(t conference.Target, c conference.Candidate) {
	if frame, err := bus.Frame("rtc.candidate", map[string]any{"room_id": s.room, "target": t, "candidate": c}); err == nil {
		s.c.Send(frame)
	}
}
