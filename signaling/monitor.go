package signaling

import (
	"context"

	"parley/auth"
	"parley/rooms"
)

// RegisterMonitor maps monitor.* (screen monitoring) onto the rooms
// service. monitor.request is for supervisors and admins; answering and
// stopping for signed-in users, whom the service checks against the
// request.
func RegisterMonitor(r *Router, svc *rooms.Service) {
	r.Handle("monitor.request", decoded(func(ctx context.Context, req *Request, in rooms.MonitorInput) (any, error) {
		return svc.RequestMonitor(ctx, req.Principal(), roomClient{req.Conn}, in)
	}), auth.RoleSupervisor, auth.RoleAdmin)
	r.Handle("monitor.answer", decoded(func(ctx context.Context, req *Request, in rooms.MonitorAnswer) (any, error) {
		return svc.AnswerMonitor(ctx, req.Principal(), roomClient{req.Conn}, in)
	}), auth.AccountRoles...)
	r.Handle("monitor.stop", decoded(func(ctx context.Context, req *Request, in rooms.MonitorRef) (any, error) {
		return nil, svc.StopMonitor(ctx, req.Principal(), in)
	}), auth.AccountRoles...)
}
