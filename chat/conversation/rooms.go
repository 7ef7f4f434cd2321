package conversation

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// RoomAccess is what a principal may do in the video room of a
// conversation.
type RoomAccess struct {
	Conversation Conversation
	// Name shows the principal in the room. The room is shared, so an
	// agent is shown by the queue's alias to everyone when the queue
	// hides agents' names from customers.
	Name        string
	ReceiveOnly bool // a supervisor watching
	MayCreate   bool
	MayEnd      bool
}

// RoomAccess says whether and how p may use the room of conversation id:
// its customer (creating one only when the queue allows customer calls),
// its agent, and supervisors and admins receive-only. Anyone else gets
// not_found, as for a conversation that does not exist.
func (s *Log) RoomAccess(ctx context.Context, p auth.Principal, id ID) (RoomAccess, error) {
	c, q, acc, err := s.readable(ctx, p, id)
	if err != nil {
		return RoomAccess{}, err
	}
	a := RoomAccess{Conversation: c, Name: p.Name}
	switch acc.Room {
	case RoomCustomer:
		a.Name = c.Customer.Name
		a.MayCreate = q.CustomerCalls
	case RoomAgent:
		a.MayCreate, a.MayEnd = true, true
		if !q.ShowAgentName {
			a.Name = q.Alias()
		}
	case RoomWatch:
		a.ReceiveOnly = true
	default: // an agent only offered the chat
		return RoomAccess{}, queues.Detail(queues.ErrForbidden, "only the chat's agent joins its room")
	}
	if c.State == StateClosed {
		a.MayCreate = false
	}
	return a, nil
}

// RoomEvent writes what happened in the conversation's video room to its
// transcript (kind is a conference activity: room_created, room_joined…).
// A zero principal is the system; private events are for staff only.
func (s *Log) RoomEvent(ctx context.Context, id ID, kind string, p auth.Principal, roomID string, private bool) error {
	c, q, err := s.WithQueue(ctx, id)
	if err != nil {
		return err
	}
	a := Author{Kind: "system"}
	if p.Kind != "" {
		a = AuthorOf(p, c)
	}
	unlock := s.Lock(id)
	defer unlock()
	ev := Event{ConversationID: id, Kind: kind, Author: a, RoomID: roomID, Private: private}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return Append(ctx, tx, &ev) }); err != nil {
		return err
	}
	s.Publish(q, ev)
	return nil
}
