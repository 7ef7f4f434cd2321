package rooms

import (
	"context"
	"errors"
	"time"

	"parley/auth"
	"parley/bus"
	"parley/conference"
)

// Screen monitoring (docs/protocol.md, "Screen monitoring"): a supervisor
// asks to see an agent's screen (monitor.request); every connection of
// the agent is asked (monitor.asked); the first of them to answer decides
// (monitor.answer). On consent a monitor room is made, which the agent
// publishes its screen in and only that supervisor watches, and both are
// told (monitor.started); either stops it (monitor.stop), and it stops
// when the connection that asked or the one that consented ends. Both are
// told how it ended (monitor.ended). The request's state is conference's
// (the monitors table), so the two may be on different nodes; each node
// watches its own connections.

// Person is a user as the other side of a screen monitoring sees it.
type Person struct {
	ID   auth.UserID `json:"id"`
	Name string      `json:"name"`
}

// MonitorInput is monitor.request's data: the agent whose screen the
// supervisor asks to see.
type MonitorInput struct {
	UserID auth.UserID `json:"user_id"`
}

// MonitorAsked answers monitor.request.
type MonitorAsked struct {
	RequestID conference.MonitorID `json:"request_id"`
	Agent     Person               `json:"agent"`
}

// MonitorRef names a request (monitor.stop).
type MonitorRef struct {
	RequestID conference.MonitorID `json:"request_id"`
}

func (r MonitorRef) check() error {
	if r.RequestID <= 0 {
		return bad(`"request_id" is required`)
	}
	return nil
}

// MonitorAnswer is monitor.answer's data.
type MonitorAnswer struct {
	MonitorRef
	Accept *bool `json:"accept"`
}

// MonitorAnswered answers monitor.answer: with the room to join and
// publish the screen in when the agent consented.
type MonitorAnswered struct {
	RequestID conference.MonitorID `json:"request_id"`
	Room      *conference.Room     `json:"room"`
}

// The reasons of monitor.ended.
const (
	MonitorDeclined     = "declined"
	MonitorStopped      = "stopped"
	MonitorDisconnected = "disconnected"
	MonitorExpired      = "expired"
)

// RequestMonitor asks agent in.UserID, through every connection of theirs,
// to share their screen with p. c is the connection asking: the request
// ends when it does.
func (s *Service) RequestMonitor(ctx context.Context, p auth.Principal, c Client, in MonitorInput) (MonitorAsked, error) {
	if p.Kind != auth.KindUser || !p.Is(auth.RoleSupervisor, auth.RoleAdmin) {
		return MonitorAsked{}, conference.WithMessage(conference.ErrForbidden, "only supervisors and admins ask to see a screen")
	}
	if in.UserID <= 0 {
		return MonitorAsked{}, bad(`"user_id" is required`)
	}
	name, err := s.chat.MonitorTarget(ctx, p, in.UserID)
	if err != nil {
		return MonitorAsked{}, err
	}
	agent := auth.Principal{Kind: auth.KindUser, UserID: in.UserID}
	if !s.chat.Online(agent.Key()) {
		return MonitorAsked{}, conference.WithMessage(conference.ErrConflict,
			name+" is not connected: their desk must be open to share the screen")
	}
	m, err := s.conf.AskMonitor(ctx, p, in.UserID, name)
	if err != nil {
		return MonitorAsked{}, err
	}
	id := m.ID
	s.followMonitor(c, id, time.AfterFunc(conference.MonitorAskTTL, func() {
		s.endMonitor(id, MonitorExpired, true, nil)
	}))
	s.publish(bus.PrincipalSubject(agent.Key()), "monitor.asked",
		map[string]any{"request_id": id, "by": Person{p.UserID, p.Name}})
	return MonitorAsked{RequestID: id, Agent: Person{in.UserID, name}}, nil
}

// AnswerMonitor is the agent's answer to a request, from connection c.
// The first answer decides: a consent makes the room, which c then joins
// and shares the screen in; the sharing ends when c does.
func (s *Service) AnswerMonitor(ctx context.Context, p auth.Principal, c Client, in MonitorAnswer) (MonitorAnswered, error) {
	if err := in.check(); err != nil {
		return MonitorAnswered{}, err
	}
	if in.Accept == nil {
		return MonitorAnswered{}, bad(`"accept" is required`)
	}
	m, err := s.monitorOf(ctx, p, in.RequestID)
	if err != nil {
		return MonitorAnswered{}, err
	}
	if m.Agent != p.UserID {
		return MonitorAnswered{}, conference.WithMessage(conference.ErrForbidden, "only the agent asked answers")
	}
	if !*in.Accept {
		if err := s.endMonitor(m.ID, MonitorDeclined, true, &Person{p.UserID, p.Name}); err != nil {
			return MonitorAnswered{}, answeredAlready(err)
		}
		return MonitorAnswered{RequestID: m.ID}, nil
	}
	m, r, err := s.conf.AcceptMonitor(ctx, p, m.ID, m.SupervisorName+" sees "+p.Name+"'s screen")
	if err != nil {
		return MonitorAnswered{}, err
	}
	s.followMonitor(c, m.ID, nil)
	frame, err := bus.Frame("monitor.started", map[string]any{"request_id": m.ID, "room_id": r.ID,
		"agent": Person{m.Agent, m.AgentName}, "by": Person{m.Supervisor, m.SupervisorName}})
	if err == nil {
		s.bus.Publish(bus.PrincipalSubject(p.Key()), frame)               //nolint:errcheck
		s.bus.Publish(bus.PrincipalSubject(userKey(m.Supervisor)), frame) //nolint:errcheck
	}
	return MonitorAnswered{RequestID: m.ID, Room: &r}, nil
}

// StopMonitor ends a request, asked for or live, by its supervisor or
// its agent.
func (s *Service) StopMonitor(ctx context.Context, p auth.Principal, in MonitorRef) error {
	if err := in.check(); err != nil {
		return err
	}
	m, err := s.monitorOf(ctx, p, in.RequestID)
	if err != nil {
		return err
	}
	return s.endMonitor(m.ID, MonitorStopped, false, &Person{p.UserID, p.Name})
}

// monitorOf is request id when p is its supervisor or its agent; to
// anyone else it does not exist.
func (s *Service) monitorOf(ctx context.Context, p auth.Principal, id conference.MonitorID) (conference.Monitor, error) {
	m, err := s.conf.GetMonitor(ctx, id)
	if err == nil && (p.Kind != auth.KindUser || (p.UserID != m.Supervisor && p.UserID != m.Agent)) {
		err = conference.ErrNotFound
	}
	if errors.Is(err, conference.ErrNotFound) {
		return conference.Monitor{}, conference.WithMessage(conference.ErrNotFound, "no such screen monitoring request")
	}
	return m, err
}

// answeredAlready words a decline that came too late.
func answeredAlready(err error) error {
	if errors.Is(err, conference.ErrEnded) {
		return conference.WithMessage(conference.ErrConflict, "this request was answered, stopped or expired already")
	}
	return err
}

// endMonitor ends request id (with pendingOnly, only while it waits for
// an answer), ends its room if it had one, and tells both sides: by is
// who ended it, nil for the system.
func (s *Service) endMonitor(id conference.MonitorID, reason string, pendingOnly bool, by *Person) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := s.conf.EndMonitor(ctx, id, reason, pendingOnly)
	if err != nil {
		if !errors.Is(err, conference.ErrEnded) {
			s.log.Warn("ending a screen monitoring", "request", id, "err", err)
		}
		return err
	}
	if m.RoomID != "" {
		r, err := s.conf.Get(ctx, m.RoomID)
		if err == nil {
			err = s.end(ctx, auth.Principal{}, r)
		}
		if err != nil && !errors.Is(err, conference.ErrEnded) {
			s.log.Warn("ending a screen monitoring's room", "request", id, "room", m.RoomID, "err", err)
		}
	}
	frame, err := bus.Frame("monitor.ended", map[string]any{"request_id": m.ID, "reason": reason, "by": by})
	if err == nil {
		s.bus.Publish(bus.PrincipalSubject(userKey(m.Agent)), frame)      //nolint:errcheck
		s.bus.Publish(bus.PrincipalSubject(userKey(m.Supervisor)), frame) //nolint:errcheck
	}
	return nil
}

// followMonitor ends request id when c ends (and stops timer, if any,
// then).
func (s *Service) followMonitor(c Client, id conference.MonitorID, timer *time.Timer) {
	s.mu.Lock()
	mine := s.monitors[c]
	first := mine == nil
	if first {
		mine = map[conference.MonitorID]*time.Timer{}
		s.monitors[c] = mine
	}
	mine[id] = timer
	s.mu.Unlock()
	if first {
		go s.watchMonitors(c)
	}
}

// watchMonitors ends c's requests when c ends. Those ended meanwhile
// are ended already: ending them again does nothing.
func (s *Service) watchMonitors(c Client) {
	<-c.Done()
	s.mu.Lock()
	mine := s.monitors[c]
	delete(s.monitors, c)
	s.mu.Unlock()
	for id, timer := range mine {
		if timer != nil {
			timer.Stop()
		}
		s.endMonitor(id, MonitorDisconnected, false, nil) //nolint:errcheck // logged
	}
}

func userKey(id auth.UserID) string { return auth.Principal{Kind: auth.KindUser, UserID: id}.Key() }

func (s *Service) publish(subject, typ string, data any) {
	frame, err := bus.Frame(typ, data)
	if err != nil {
		s.log.Error("encode event", "type", typ, "err", err)
		return
	}
	s.bus.Publish(subject, frame) //nolint:errcheck
}
