package rooms

import (
	"context"
	"errors"
	"fmt"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/conference"
)

// The requests, one method each. Their inputs are the requests' data as
// docs/protocol.md spells them; each is checked before anything is read.

func bad(msg string) error { return conference.WithMessage(conference.ErrBadInput, msg) }

// RoomRef names the room a request is about.
type RoomRef struct {
	RoomID string `json:"room_id"`
}

func (r RoomRef) check() error {
	if r.RoomID == "" {
		return bad(`"room_id" is required`)
	}
	return nil
}

// CreateInput is room.create's data.
type CreateInput struct {
	ConversationID chat.ConversationID `json:"conversation_id"`
	Media          string              `json:"media"`
	Name           string              `json:"name"`
	Invite         []auth.UserID       `json:"invite"`
}

// Created answers room.create.
type Created struct {
	Created bool            `json:"created"`
	Room    conference.Room `json:"room"`
}

// Create opens a room: the conversation's (or answers the one open
// already), or without a conversation a conference room with invites.
// Opening a conversation's room tells everyone following the
// conversation (room.opened).
func (s *Service) Create(ctx context.Context, p auth.Principal, in CreateInput) (Created, error) {
	if in.ConversationID == 0 {
		if _, err := decide(OpCreate, p, target{Kind: conference.KindConference}, nil, false); err != nil {
			return Created{}, err
		}
		room, err := s.conf.CreateConference(ctx, p, in.Name, in.Invite)
		if err != nil {
			return Created{}, err
		}
		return Created{Created: true, Room: room}, nil
	}
	acc, accErr := s.chat.RoomAccess(ctx, p, in.ConversationID)
	g, err := decide(OpCreate, p, target{Kind: conference.KindConversation},
		func() (chat.RoomAccess, error) { return acc, accErr }, false)
	if err != nil {
		return Created{}, err
	}
	room, created, err := s.conf.CreateForConversation(ctx, p, g.Name, int64(in.ConversationID),
		"Chat with "+acc.Conversation.Customer.Name, in.Media)
	if err != nil {
		return Created{}, err
	}
	if created {
		if frame, err := bus.Frame("room.opened", map[string]any{"room": room}); err == nil {
			s.bus.Publish(chat.StaffSubject(in.ConversationID), frame)  //nolint:errcheck
			s.bus.Publish(chat.PublicSubject(in.ConversationID), frame) //nolint:errcheck
		}
	}
	return Created{Created: created, Room: room}, nil
}

// JoinInput is room.join's data.
type JoinInput struct {
	RoomRef
	ReceiveOnly bool `json:"receive_only"`
}

// Join makes c's member of the room, as the rule lets p in: here, or on
// the room's host when another node hosts it. The client follows the
// room's events before joining, so none falls in between, and leaves the
// room when it ends.
func (s *Service) Join(ctx context.Context, p auth.Principal, c Client, in JoinInput) (conference.Joined, error) {
	if err := in.check(); err != nil {
		return conference.Joined{}, err
	}
	r, err := s.conf.Get(ctx, in.RoomID)
	if err != nil {
		return conference.Joined{}, err
	}
	g, err := s.allow(ctx, OpJoin, p, r, in.ReceiveOnly)
	if err != nil {
		return conference.Joined{}, err
	}
	host, err := s.conf.Host(ctx, r)
	if err != nil {
		return conference.Joined{}, err
	}
	if host == s.self() {
		host = ""
	}
	s.mu.Lock()
	if old := s.clients[c][r.ID]; old != nil {
		if old.host() == host {
			s.mu.Unlock()
			return conference.Joined{}, conference.WithMessage(conference.ErrConflict, "this connection is already in the room")
		}
		// The room moved to another host since: the old seat goes.
		delete(s.clients[c], r.ID)
		s.mu.Unlock()
		old.detach()
		go old.leave("left")
		s.mu.Lock()
	}
	first := s.clients[c] == nil
	if first {
		s.clients[c] = map[string]seat{}
	}
	s.mu.Unlock()
	if first {
		go s.watch(c)
	}
	if err := c.Subscribe(conference.Subject(r.ID)); err != nil {
		return conference.Joined{}, err
	}
	if g.SeesHidden {
		if err := c.Subscribe(conference.StaffSubject(r.ID)); err != nil {
			return conference.Joined{}, err
		}
	}
	var st seat
	var joined conference.Joined
	if host == "" {
		ls := &localSeat{conf: s.conf}
		opt := conference.JoinOptions{Name: g.Name, ReceiveOnly: g.ReceiveOnly, Hidden: g.Hidden, SeesHidden: g.SeesHidden,
			MayEnd: g.MayEnd, OnGone: func() {
				s.mu.Lock() // the member is set under it: OnGone may come as Join returns
				m := ls.Member
				s.mu.Unlock()
				reason := ""
				if m != nil {
					reason = m.Moved()
				}
				s.moved(c, r.ID, ls, reason)
			}}
		var m *conference.Member
		m, joined, err = s.conf.Join(ctx, p, r.ID, opt, c.Signal(r.ID))
		s.mu.Lock()
		ls.Member = m
		s.mu.Unlock()
		st = ls
	} else {
		st, joined, err = s.joinRemote(ctx, p, c, r, host, g)
	}
	if err != nil {
		c.Unsubscribe(conference.Subject(r.ID))
		c.Unsubscribe(conference.StaffSubject(r.ID))
		return conference.Joined{}, err
	}
	s.mu.Lock()
	if s.clients[c] != nil {
		s.clients[c][r.ID] = st
	}
	s.mu.Unlock()
	select {
	case <-c.Done(): // the client ended while joining: watch has run
		st.leave("disconnected")
	default:
	}
	joined.MayEnd = g.MayEnd
	return joined, nil
}

// Leave takes c's member out of the room.
func (s *Service) Leave(c Client, in RoomRef) error {
	if err := in.check(); err != nil {
		return err
	}
	m, err := s.member(c, in.RoomID)
	if err != nil {
		return err
	}
	s.forget(c, in.RoomID, m, false)
	m.leave("left")
	return nil
}

// End ends the room for everyone.
func (s *Service) End(ctx context.Context, p auth.Principal, in RoomRef) error {
	if err := in.check(); err != nil {
		return err
	}
	r, err := s.conf.Get(ctx, in.RoomID)
	if err != nil {
		return err
	}
	if _, err := s.allow(ctx, OpEnd, p, r, false); err != nil {
		return err
	}
	return s.end(ctx, p, r)
}

// end ends room r, and closes its live room on its host when that is
// another node.
func (s *Service) end(ctx context.Context, p auth.Principal, r conference.Room) error {
	if err := s.conf.End(ctx, p, r.ID); err != nil {
		return err
	}
	if h := r.Host(); s.relay != nil && h != "" && h != s.self() && !s.gone(h) {
		if _, err := s.ask(h, relayRequest{Op: "closed", RoomID: r.ID}); err != nil {
			s.log.Warn("closing an ended room on its host", "room", r.ID, "host", h, "err", err)
		}
	}
	return nil
}

// GetInput is room.get's data: a room id, a number, or a conversation
// (its open room).
type GetInput struct {
	RoomID         string              `json:"room_id"`
	Number         string              `json:"number"`
	ConversationID chat.ConversationID `json:"conversation_id"`
}

// Found answers room.get.
type Found struct {
	Room conference.Room `json:"room"`
}

// Get reads a room p may see, by id, by its conversation (the open
// one), or by number for signed-in users; wrong numbers are limited per
// principal.
func (s *Service) Get(ctx context.Context, p auth.Principal, in GetInput) (Found, error) {
	switch {
	case in.RoomID != "":
		r, err := s.conf.Get(ctx, in.RoomID)
		if err != nil {
			return Found{}, err
		}
		if _, err := s.allow(ctx, OpGet, p, r, false); err != nil {
			return Found{}, err
		}
		return Found{r}, nil
	case in.ConversationID > 0:
		r, err := s.conf.OpenForConversation(ctx, int64(in.ConversationID))
		if err == nil {
			_, err = s.allow(ctx, OpGet, p, r, false)
		}
		if errors.Is(err, conference.ErrNotFound) {
			return Found{}, conference.WithMessage(conference.ErrNotFound, "This chat has no video room open")
		}
		if err != nil {
			return Found{}, err
		}
		return Found{r}, nil
	case in.Number != "":
		if err := mayLookUpNumbers(p); err != nil {
			return Found{}, err
		}
		if blocked, retry := s.numbers.Blocked(p.Key()); blocked {
			return Found{}, conference.WithMessage(conference.ErrRateLimited,
				fmt.Sprintf("too many wrong room numbers; try again in %d s", int(retry.Seconds())+1))
		}
		r, err := s.conf.ByNumber(ctx, in.Number)
		if errors.Is(err, conference.ErrNotFound) {
			s.numbers.Allow(p.Key())
			return Found{}, conference.WithMessage(conference.ErrNotFound, "No room has this number")
		}
		if err != nil {
			return Found{}, err
		}
		return Found{r}, nil
	}
	return Found{}, bad(`"room_id", "number" or "conversation_id" is required`)
}

// Decline declines p's invitation to the room; its creator is told.
func (s *Service) Decline(ctx context.Context, p auth.Principal, in RoomRef) error {
	if err := in.check(); err != nil {
		return err
	}
	if _, err := decide(OpDecline, p, target{ID: in.RoomID}, nil, false); err != nil {
		return err
	}
	return s.conf.Decline(ctx, p, in.RoomID)
}
