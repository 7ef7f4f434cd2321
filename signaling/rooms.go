package signaling

import (
	"context"

	"parley/auth"
	"parley/bus"
	"parley/conference"
	"parley/rooms"
)

// RegisterRooms maps room.* and rtc.* (and monitor.*, RegisterMonitor)
// onto the rooms service: each
// handler decodes the request's data into the service's input type, calls
// one method and encodes its answer.
func RegisterRooms(r *Router, svc *rooms.Service) {
	r.Handle("room.create", decoded(func(ctx context.Context, req *Request, in rooms.CreateInput) (any, error) {
		return svc.Create(ctx, req.Principal(), in)
	}))
	r.Handle("room.join", decoded(func(ctx context.Context, req *Request, in rooms.JoinInput) (any, error) {
		return svc.Join(ctx, req.Principal(), roomClient{req.Conn}, in)
	}))
	r.Handle("room.leave", decoded(func(ctx context.Context, req *Request, in rooms.RoomRef) (any, error) {
		return nil, svc.Leave(roomClient{req.Conn}, in)
	}))
	r.Handle("room.end", decoded(func(ctx context.Context, req *Request, in rooms.RoomRef) (any, error) {
		return nil, svc.End(ctx, req.Principal(), in)
	}))
	r.Handle("room.get", decoded(func(ctx context.Context, req *Request, in rooms.GetInput) (any, error) {
		return svc.Get(ctx, req.Principal(), in)
	}))
	r.Handle("room.decline", decoded(func(ctx context.Context, req *Request, in rooms.RoomRef) (any, error) {
		return nil, svc.Decline(ctx, req.Principal(), in)
	}), auth.AccountRoles...)
	r.Handle("rtc.offer", decoded(func(ctx context.Context, req *Request, in rooms.PublishInput) (any, error) {
		return svc.Publish(roomClient{req.Conn}, in)
	}))
	r.Handle("rtc.answer", decoded(func(ctx context.Context, req *Request, in rooms.AnswerInput) (any, error) {
		return nil, svc.Answer(roomClient{req.Conn}, in)
	}))
	r.Handle("rtc.candidate", decoded(func(ctx context.Context, req *Request, in rooms.CandidateInput) (any, error) {
		return nil, svc.Candidate(roomClient{req.Conn}, in)
	}))
	r.Handle("rtc.track", decoded(func(ctx context.Context, req *Request, in rooms.TrackInput) (any, error) {
		return nil, svc.Track(roomClient{req.Conn}, in)
	}))
	r.Handle("rtc.layer", decoded(func(ctx context.Context, req *Request, in rooms.LayerInput) (any, error) {
		return nil, svc.Layer(roomClient{req.Conn}, in)
	}))
	r.Handle("rtc.restart", decoded(func(ctx context.Context, req *Request, in rooms.RoomRef) (any, error) {
		return nil, svc.Restart(roomClient{req.Conn}, in)
	}))
	RegisterMonitor(r, svc)
}

// decoded is a Handler that binds the request's data to an In and hands
// it to call.
func decoded[In any](call func(ctx context.Context, req *Request, in In) (any, error)) Handler {
	return func(ctx context.Context, req *Request) (any, error) {
		var in In
		if err := Bind(req.Data, &in); err != nil {
			return nil, err
		}
		return call(ctx, req, in)
	}
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

var _ conference.Signal = connSignal{}

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
