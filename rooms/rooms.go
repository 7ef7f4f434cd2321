// Package rooms is what a connection may ask of video rooms: one method
// per room.* and rtc.* request, each asking the one access rule
// (access.go) before conference acts. It joins conference to chat: a
// conversation's room is open to the people chat says belong to it,
// writes its activity to the chat's transcript, and ends when the chat
// closes. It keeps each connection's members and leaves them when the
// connection ends.
package rooms

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/conference"
)

// Chat is what rooms needs of the chat: its access rule for a
// conversation's room, and its transcript; for screen monitoring, which
// agents a supervisor oversees and whether one is connected.
type Chat interface {
	RoomAccess(ctx context.Context, p auth.Principal, id chat.ConversationID) (chat.RoomAccess, error)
	RoomEvent(ctx context.Context, id chat.ConversationID, kind string, p auth.Principal, roomID string, private bool) error
	MonitorTarget(ctx context.Context, p auth.Principal, agent auth.UserID) (string, error)
	Online(key string) bool
}

var _ Chat = (*chat.Service)(nil)

// Client is one connection as rooms sees it: it follows the subjects of
// its rooms' events, carries the media signalling of its members, and
// ends. Clients are compared with ==, so one connection must always be
// the same value.
type Client interface {
	Subscribe(subject string) error
	Unsubscribe(subject string)
	Done() <-chan struct{}
	// Send sends the client an encoded event frame; it must not block.
	Send(frame []byte) bool
	// Signal carries the signalling of the client's member of roomID.
	Signal(roomID string) conference.Signal
}

// Service answers the room requests.
type Service struct {
	conf    *conference.Service
	chat    Chat
	bus     bus.Bus
	log     *slog.Logger
	numbers auth.RateLimit // wrong room numbers, per principal

	mu      sync.Mutex
	clients map[Client]map[string]seat // each connection's seats, by room
	// each connection's screen monitoring requests (monitor.go)
	monitors map[Client]map[conference.MonitorID]*time.Timer

	relay *relay // with many nodes (Relay); nil for one
}

// New makes the service and has conf tell chat of conversation rooms'
// activity. Closed chats end their rooms through ConversationClosed,
// which the wiring hands to chat.
func New(conf *conference.Service, c Chat, b bus.Bus, log *slog.Logger) *Service {
	s := &Service{conf: conf, chat: c, bus: b, log: log, clients: map[Client]map[string]seat{},
		monitors: map[Client]map[conference.MonitorID]*time.Timer{},
		numbers:  auth.NewLimiter(30*time.Second, 10)}
	conf.OnActivity = s.activity
	return s
}

// LimitNumbers sets the limit of wrong room numbers (several nodes share
// one: auth.PGLimiter); call it before the service is used.
func (s *Service) LimitNumbers(l auth.RateLimit) { s.numbers = l }

// activity writes a conversation room's activity to the transcript.
func (s *Service) activity(r conference.Room, a conference.Activity) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.chat.RoomEvent(ctx, chat.ConversationID(*r.ConversationID), a.Kind, a.By, r.ID, a.Private)
	if err != nil {
		s.log.Warn("room event to transcript", "room", r.ID, "kind", a.Kind, "err", err)
	}
}

// ConversationClosed ends the conversation's room, if one is open.
func (s *Service) ConversationClosed(id chat.ConversationID) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.conf.OpenForConversation(ctx, int64(id))
	if err == nil {
		err = s.end(ctx, auth.Principal{}, r)
	}
	if err != nil && !errors.Is(err, conference.ErrNotFound) && !errors.Is(err, conference.ErrEnded) {
		s.log.Warn("ending a closed chat's room", "conversation", id, "err", err)
	}
}

// allow asks the rule whether p may do op in r.
func (s *Service) allow(ctx context.Context, op Op, p auth.Principal, r conference.Room, receiveOnly bool) (Grant, error) {
	return decide(op, p, targetOf(r), s.conversation(ctx, p, r.ConversationID), receiveOnly)
}

// conversation asks chat how p may use the room of conversation id.
func (s *Service) conversation(ctx context.Context, p auth.Principal, id *int64) conversationAccess {
	return func() (chat.RoomAccess, error) {
		if id == nil {
			return chat.RoomAccess{}, chat.ErrNotFound
		}
		return s.chat.RoomAccess(ctx, p, chat.ConversationID(*id))
	}
}

// member is the client's seat in a room.
func (s *Service) member(c Client, roomID string) (seat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.clients[c][roomID]; m != nil {
		return m, nil
	}
	return nil, conference.WithMessage(conference.ErrNotFound, "not in this room: join it first")
}

// forget drops the client's seat st in a room: it left, or the room
// removed it (ended, media gone, host gone). A seat replaced already
// (the client joined again) is left alone. It reports whether st was
// the client's seat.
//
// A seat the room removed keeps following the room's subjects for
// followGone more: the event that says why (room.ended, published on the
// bus by whichever node ended the room) may still be on its way to this
// node, and reaches the client before it stops following.
func (s *Service) forget(c Client, roomID string, st seat, removed bool) bool {
	s.mu.Lock()
	rooms := s.clients[c]
	mine := rooms != nil && rooms[roomID] == st
	if mine {
		delete(rooms, roomID)
	}
	s.mu.Unlock()
	st.detach()
	if !mine {
		return false
	}
	unfollow := func() {
		s.mu.Lock()
		rejoined := s.clients[c][roomID] != nil
		s.mu.Unlock()
		if !rejoined {
			c.Unsubscribe(conference.Subject(roomID))
			c.Unsubscribe(conference.StaffSubject(roomID))
		}
	}
	if removed {
		time.AfterFunc(followGone, unfollow)
	} else {
		unfollow()
	}
	return true
}

// followGone is how long a removed seat's client still follows its room.
const followGone = 5 * time.Second

// watch leaves every room of a client when it ends.
func (s *Service) watch(c Client) {
	<-c.Done()
	s.mu.Lock()
	rooms := s.clients[c]
	delete(s.clients, c)
	s.mu.Unlock()
	for _, st := range rooms {
		st.leave("disconnected")
	}
}
