package rooms

import (
	"errors"

	"parley/auth"
	"parley/chat"
	"parley/conference"
)

// This file is the one rule of who may do what in a video room. Every
// room request asks it (through Service) before conference acts; the
// table test in access_test.go runs it over every role and relation.

// Op is a room request, as the rule sees it.
type Op string

// The requests the rule decides. room.leave and the rtc.* requests other
// than rtc.offer need only the member that room.join made on the
// connection, so whoever may join may send them; room.get by number is
// decided by NumberLookup.
const (
	OpCreate  Op = "room.create"  // open a room: the conversation's, or a conference room (with its invites)
	OpJoin    Op = "room.join"    // join, and how: name, receive-only, hidden, may end
	OpGet     Op = "room.get"     // read a room by id
	OpEnd     Op = "room.end"     // end it for everyone
	OpDecline Op = "room.decline" // decline an invitation (the invitation itself is checked by conference)
	OpPublish Op = "rtc.offer"    // publish media
	OpSignal  Op = "rtc.*"        // rtc.answer, rtc.candidate, rtc.track, rtc.layer, rtc.restart, room.leave
)

// Grant is how the rule lets a principal into a room.
type Grant struct {
	// Name shows the principal in the room (a queue that hides agents'
	// names shows its alias).
	Name string
	// ReceiveOnly members publish nothing: a supervisor or admin
	// watching a conversation, or anyone who asked to.
	ReceiveOnly bool
	// Hidden members are seen by staff only: a receive-only signed-in
	// user in a conversation's room is hidden from the customer.
	Hidden bool
	// SeesHidden: signed-in users see hidden members; customers and
	// guests do not.
	SeesHidden bool
	// MayEnd says the principal may end the room for everyone.
	MayEnd bool
}

// target is what the rule needs of a room. For OpCreate only Kind is
// set: the room does not exist yet.
type target struct {
	ID         string
	Kind       string // conference.KindConversation, KindConference or KindMonitor
	Ended      bool
	CreatorKey string // the creator's principal key
	WatcherKey string // a monitor room's watcher's principal key
}

func targetOf(r conference.Room) target {
	return target{ID: r.ID, Kind: r.Kind, Ended: r.Ended(), CreatorKey: r.CreatedByKey(), WatcherKey: r.WatcherKey()}
}

// conversationAccess asks chat's access rule how p may use the room of
// the target's conversation (Chat.RoomAccess); it is only called for
// conversation rooms.
type conversationAccess func() (chat.RoomAccess, error)

// decide is the rule. A conversation's room is its conversation's: chat
// says who belongs (its customer, its agent, supervisors and admins
// watching receive-only; anyone else is not found) and who may open and
// end it. A conference room admits every signed-in user and the guests
// whose token names it; its creator ends it; only signed-in users open
// one and invite to it. An ended room admits nobody. receiveOnly is what
// the client asked for on room.join.
func decide(op Op, p auth.Principal, t target, conv conversationAccess, receiveOnly bool) (Grant, error) {
	switch op {
	case OpCreate:
		return mayCreate(p, t, conv)
	case OpJoin, OpSignal:
		return mayJoin(p, t, conv, receiveOnly)
	case OpGet:
		g, err := mayJoin(p, t, conv, receiveOnly)
		if err != nil && !errors.Is(err, conference.ErrEnded) {
			return Grant{}, conference.ErrNotFound // a room one may not see does not exist
		}
		return g, nil
	case OpEnd:
		return mayEnd(p, t, conv)
	case OpDecline:
		if !p.IsStaff() {
			return Grant{}, conference.WithMessage(conference.ErrForbidden, "only signed-in users are invited")
		}
		return Grant{Name: p.Name}, nil
	case OpPublish:
		g, err := mayJoin(p, t, conv, receiveOnly)
		if err == nil {
			err = mayPublish(g.ReceiveOnly)
		}
		return g, err
	}
	return Grant{}, conference.WithMessage(conference.ErrForbidden, "unknown room request "+string(op))
}

func mayCreate(p auth.Principal, t target, conv conversationAccess) (Grant, error) {
	if t.Kind == conference.KindMonitor {
		return Grant{}, conference.WithMessage(conference.ErrForbidden, "a screen is shared by answering monitor.answer")
	}
	if t.Kind == conference.KindConference {
		if !p.IsStaff() {
			return Grant{}, conference.WithMessage(conference.ErrForbidden, "only signed-in users open conference rooms")
		}
		return Grant{Name: p.Name, MayEnd: true}, nil
	}
	acc, err := conv()
	if err != nil {
		return Grant{}, err
	}
	if !acc.MayCreate {
		if acc.Conversation.State == chat.StateClosed {
			return Grant{}, conference.WithMessage(conference.ErrConflict, "the chat is closed")
		}
		return Grant{}, conference.WithMessage(conference.ErrForbidden, "calls are not open to you in this chat")
	}
	return Grant{Name: acc.Name, ReceiveOnly: acc.ReceiveOnly, MayEnd: acc.MayEnd}, nil
}

func mayJoin(p auth.Principal, t target, conv conversationAccess, receiveOnly bool) (Grant, error) {
	if t.Kind == conference.KindMonitor {
		return mayJoinMonitor(p, t, receiveOnly)
	}
	g := Grant{Name: p.Name, ReceiveOnly: receiveOnly, SeesHidden: p.IsStaff()}
	if t.Kind == conference.KindConversation {
		acc, err := conv()
		if errors.Is(err, chat.ErrNotFound) {
			return Grant{}, conference.WithMessage(conference.ErrForbidden, "this room belongs to a conversation you are not in")
		}
		if err != nil {
			return Grant{}, err
		}
		if t.Ended {
			return Grant{}, conference.ErrEnded
		}
		g.Name, g.MayEnd = acc.Name, acc.MayEnd
		g.ReceiveOnly = g.ReceiveOnly || acc.ReceiveOnly
		g.Hidden = g.ReceiveOnly && p.IsStaff()
		return g, nil
	}
	switch {
	case t.Ended:
		return Grant{}, conference.ErrEnded
	case p.Kind == auth.KindGuest && p.Scope != t.ID:
		return Grant{}, conference.WithMessage(conference.ErrForbidden, "your guest link is for another room")
	case p.Kind == auth.KindVisitor:
		return Grant{}, conference.WithMessage(conference.ErrForbidden, "customers join only their own conversation's room")
	}
	g.MayEnd = t.CreatorKey == p.Key()
	return g, nil
}

func mayEnd(p auth.Principal, t target, conv conversationAccess) (Grant, error) {
	if t.Kind == conference.KindMonitor {
		return mayEndMonitor(p, t)
	}
	if t.Kind == conference.KindConversation {
		acc, err := conv()
		if err != nil {
			return Grant{}, err
		}
		if !acc.MayEnd {
			return Grant{}, conference.WithMessage(conference.ErrForbidden, "only the chat's agent ends its room")
		}
		return Grant{Name: acc.Name, MayEnd: true}, nil
	}
	if t.CreatorKey != p.Key() {
		return Grant{}, conference.WithMessage(conference.ErrForbidden, "only the room's creator ends it for everyone")
	}
	return Grant{Name: p.Name, MayEnd: true}, nil
}

// mayPublish: a receive-only member publishes nothing.
func mayPublish(receiveOnly bool) error {
	if receiveOnly {
		return conference.WithMessage(conference.ErrForbidden, "you only receive in this room")
	}
	return nil
}

// mayLookUpNumbers: only signed-in users look room numbers up over the
// websocket; the others have the HTTP lookup, limited per address.
func mayLookUpNumbers(p auth.Principal) error {
	if !p.IsStaff() {
		return conference.WithMessage(conference.ErrForbidden, "look numbers up with POST /api/conference/lookup")
	}
	return nil
}

// A monitor room shows one agent's screen to one supervisor: the agent
// (its creator) publishes, the supervisor who asked (its watcher) only
// receives, either may end it, and nobody else may come in.
func mayJoinMonitor(p auth.Principal, t target, receiveOnly bool) (Grant, error) {
	g := Grant{Name: p.Name, ReceiveOnly: receiveOnly, SeesHidden: true, MayEnd: true}
	switch p.Key() {
	case t.CreatorKey:
	case t.WatcherKey:
		g.ReceiveOnly = true
	default:
		return Grant{}, conference.WithMessage(conference.ErrForbidden, "only the agent and the supervisor who asked see this screen")
	}
	if t.Ended {
		return Grant{}, conference.ErrEnded
	}
	return g, nil
}

func mayEndMonitor(p auth.Principal, t target) (Grant, error) {
	if k := p.Key(); k != t.CreatorKey && k != t.WatcherKey {
		return Grant{}, conference.WithMessage(conference.ErrForbidden, "only the agent and the supervisor who asked end this screen's sharing")
	}
	return Grant{Name: p.Name, MayEnd: true}, nil
}
