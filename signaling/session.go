package signaling

import (
	"context"
	"time"
)

const (
	helloType = "session.hello"
	// ProtocolVersion is the version of docs/protocol.md this server speaks.
	ProtocolVersion = 1
)

type principalView struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

func (h *Hub) registerSession() {
	h.router.Handle(helloType, h.hello)
	h.router.Handle("session.ping", func(context.Context, *Request) (any, error) {
		return map[string]string{"time": time.Now().UTC().Format(time.RFC3339Nano)}, nil
	})
}

func (h *Hub) hello(_ context.Context, req *Request) (any, error) {
	var in struct {
		Version *int   `json:"version"`
		Client  string `json:"client"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if req.Conn.helloed {
		return nil, &Error{CodeConflict, "session.hello was already sent on this connection"}
	}
	if in.Version == nil {
		return nil, BadRequest(`"version" is required`)
	}
	if *in.Version != ProtocolVersion {
		return nil, &Error{CodeUnsupportedVersion, "this server speaks protocol version " + itoa(ProtocolVersion)}
	}
	if len(in.Client) > 100 {
		in.Client = in.Client[:100]
	}
	req.Conn.logger().Info("hello", "client", in.Client)
	p := req.Principal()
	return map[string]any{
		"version":    ProtocolVersion,
		"server":     "parley " + h.cfg.Version,
		"connection": req.Conn.id,
		"principal":  principalView{string(p.Kind), p.Key(), p.Name, string(p.Role)},
	}, nil
}
