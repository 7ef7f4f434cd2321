package signaling

import (
	"context"

	"parley/auth"
	"parley/chat"
	"parley/staff"
)

// RegisterStaff maps the staff.* request types: the staff directory
// (chat's) and the messages between colleagues (staff's). They are for
// signed-in users; the services check again.
func RegisterStaff(r *Router, dir *chat.Service, svc *staff.Service) {
	h := staffHandlers{dir, svc}
	roles := auth.AccountRoles
	r.Handle("staff.directory", h.directory, roles...)
	r.Handle("staff.threads", h.threads, roles...)
	r.Handle("staff.send", h.send, roles...)
	r.Handle("staff.resume", h.resume, roles...)
	r.Handle("staff.read", h.read, roles...)
}

type staffHandlers struct {
	dir *chat.Service
	svc *staff.Service
}

// directory subscribes to the directory's changes, then reads it: a
// change in between arrives live, never not at all. A refusal drops the
// subscription again.
func (h staffHandlers) directory(ctx context.Context, req *Request) (any, error) {
	if err := req.Conn.Subscribe(chat.DirectorySubject); err != nil {
		return nil, err
	}
	users, err := h.dir.Directory(ctx, req.Principal())
	if err != nil {
		req.Conn.Unsubscribe(chat.DirectorySubject)
		return nil, err
	}
	return map[string]any{"users": users}, nil
}

func (h staffHandlers) threads(ctx context.Context, req *Request) (any, error) {
	ts, err := h.svc.Threads(ctx, req.Principal())
	if err != nil {
		return nil, err
	}
	return map[string]any{"threads": ts}, nil
}

func (h staffHandlers) send(ctx context.Context, req *Request) (any, error) {
	var in staff.SendInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	return h.svc.Send(ctx, req.Principal(), in)
}

// resume needs no subscription: a user's connections receive its threads'
// events on the principal's subject from the start.
func (h staffHandlers) resume(ctx context.Context, req *Request) (any, error) {
	var in struct {
		staff.Ref
		AfterSeq int64 `json:"after_seq"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	t, msgs, more, err := h.svc.Resume(ctx, req.Principal(), in.Ref, in.AfterSeq)
	if err != nil {
		return nil, err
	}
	return map[string]any{"thread": t, "messages": msgs, "more": more}, nil
}

func (h staffHandlers) read(ctx context.Context, req *Request) (any, error) {
	var in struct {
		staff.Ref
		Seq int64 `json:"seq"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	t, err := h.svc.Read(ctx, req.Principal(), in.Ref, in.Seq)
	if err != nil {
		return nil, err
	}
	return map[string]any{"thread": t}, nil
}
