// Package conversation is the conversation log: conversations and their
// numbered events, who may read and write them (access.go), the message
// writer and delivery on the bus. It tells the router what it counts
// through Hooks; it owns the conversations and their events, and tells
// the world what happened only by publishing on the bus.
package conversation

import (
	"strconv"
	"time"

	"parley/auth"
	"parley/chat/queues"
)

// ID identifies a conversation.
type ID int64

func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// Conversation states.
const (
	StateQueued  = "queued"
	StateOffered = "offered"
	StateActive  = "active"
	StateClosed  = "closed"
)

// Event kinds.
const (
	KindQueued   = "queued"
	KindOffered  = "offered"
	KindRejected = "rejected"
	KindMissed   = "missed"
	KindAccepted = "accepted"
	KindMessage  = "message"
	KindClosed   = "closed"
	// KindWrappedUp (private) is the agent's close status for a chat the
	// customer ended.
	KindWrappedUp = "wrapped_up"
	// Team events (team.go): an agent invites a colleague (private
	// invited, then invite_ended or the public joined), an agent leaves
	// (left), an agent hands the chat over (private transfer_requested,
	// then transfer_ended or the public transferred).
	KindInvited           = "invited"
	KindInviteEnded       = "invite_ended"
	KindJoined            = "joined"
	KindLeft              = "left"
	KindTransferRequested = "transfer_requested"
	KindTransferEnded     = "transfer_ended"
	KindTransferred       = "transferred"
	// KindComment (private) is a staff comment on the chat (comments.go),
	// which may mention staff (Mentions).
	KindComment = "comment"
	// KindFeedback (private) is the customer's rating of a closed chat
	// (feedback.go): Rating 1–5, and its note as Text.
	KindFeedback = "feedback"
	// Room events (room_created, room_joined, …) take the kinds of
	// conference.Activity and carry RoomID.
)

// QueueRef names a queue inside a conversation.
type QueueRef struct {
	ID   queues.QueueID `json:"id"`
	Name string         `json:"name"`
}

// Customer is what the customer told the pre-chat form.
type Customer struct {
	Name   string `json:"name"`
	Email  string `json:"email"`
	Extra  string `json:"extra"`
	Online *bool  `json:"online,omitempty"` // staff view only
	// ExternalID and Verified (staff only, identity.go): the customer's id
	// in the company's systems and which attributes its backend signed;
	// absent when nothing was.
	ExternalID string    `json:"external_id,omitempty"`
	Verified   *Verified `json:"verified,omitempty"`
}

// AgentRef is the agent of a conversation.
type AgentRef struct {
	ID   *auth.UserID `json:"id,omitempty"` // staff view only
	Name string       `json:"name"`
}

// Conversation is one customer's chat.
type Conversation struct {
	ID       ID        `json:"id"`
	Queue    QueueRef  `json:"queue"`
	State    string    `json:"state"`
	Customer Customer  `json:"customer"`
	Agent    *AgentRef `json:"agent"`
	// Agents (staff only) are every agent in the chat now, the lead
	// (Agent) first, then by when they joined.
	Agents      []AgentRef `json:"agents,omitempty"`
	QueuedAt    time.Time  `json:"queued_at"`
	AcceptedAt  *time.Time `json:"accepted_at"`
	ClosedAt    *time.Time `json:"closed_at"`
	ClosedBy    *string    `json:"closed_by"`
	CloseStatus *string    `json:"close_status"`
	LastSeq     int        `json:"last_seq"`
	// WrapUpDue (staff only): the customer ended the chat and its agent
	// has not given it a close status yet.
	WrapUpDue bool `json:"wrap_up_due,omitempty"`
	// WaitAlertAt (staff only): when supervisors were told the chat had
	// waited longer than its queue's WaitAlertSeconds.
	WaitAlertAt *time.Time `json:"wait_alert_at,omitempty"`
	// FeedbackGiven: its customer has rated it (chat.feedback), so the
	// widget does not ask again.
	FeedbackGiven bool `json:"feedback_given,omitempty"`
	// Timers (staff only; see docs/protocol.md): Important is the chat's important
	// mark (chat.mark); FirstResponseAt the time of the first public
	// message an agent wrote (null before it; the queue's greeting, which
	// has no client_id, is not one); AwaitingReplySince the time of the
	// customer's last public message when no public message an agent
	// wrote came after it (null otherwise).
	Important          bool       `json:"important,omitempty"`
	FirstResponseAt    *time.Time `json:"first_response_at,omitempty"`
	AwaitingReplySince *time.Time `json:"awaiting_reply_since,omitempty"`
	// Contact (staff only) is the contact the chat is paired with, nil
	// when unpaired; Ticket (staff only) the ticket linked to it (chat/crm).
	Contact *ContactRef `json:"contact,omitempty"`
	Ticket  *TicketRef  `json:"ticket,omitempty"`

	visitor       string // the visitor's subject: who may read it as a customer
	agentID       *auth.UserID
	originQueue   queues.QueueID // the widget's queue, whose key a visitor token names
	lastPublicSeq int            // the customer's LastSeq: public events only
}

// ContactRef names the contact a chat is paired with, and how it was
// paired: external_id, email or visitor (at the start), staff (by hand).
type ContactRef struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	PairedBy string `json:"paired_by"`
}

// TicketRef names the ticket linked to a chat.
type TicketRef struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	State    string `json:"state"`
	Priority string `json:"priority"`
}

// Author of an event.
type Author struct {
	Kind string `json:"kind"` // customer, agent, system
	Name string `json:"name"`
	key  string // principal key; never sent
}

// Event is one numbered thing that happened in a conversation.
type Event struct {
	ConversationID ID        `json:"conversation_id"`
	Seq            int       `json:"seq"`
	Kind           string    `json:"kind"`
	Author         Author    `json:"author"`
	Text           string    `json:"text,omitempty"`
	Private        bool      `json:"private"`
	ClientID       string    `json:"client_id,omitempty"`
	Status         string    `json:"status,omitempty"`
	RoomID         string    `json:"room_id,omitempty"`
	Target         *Target   `json:"target,omitempty"`
	Mentions       []Mention `json:"mentions,omitempty"` // a comment's (comments.go)
	Rating         int       `json:"rating,omitempty"`   // a feedback's, 1–5 (feedback.go)
	Reason         string    `json:"reason,omitempty"`   // why the system ended the chat, LimitSeconds by what limit (system_close.go)
	LimitSeconds   int       `json:"limit_seconds,omitempty"`
	Files          []FileRef `json:"files,omitempty"` // a message's files (files.go)
	// Ticket (a private ticket_linked's): the ticket linked to the chat,
	// nil when it was unlinked (ticket_link.go).
	Ticket *EventTicket `json:"ticket,omitempty"`
	Time   time.Time    `json:"time"`

	// A question's options, its answer once answered, and an answer's
	// link to its question (options.go).
	Options  []Option  `json:"options,omitempty"`
	Answered *Answered `json:"answered,omitempty"`
	Choice   *Choice   `json:"choice,omitempty"`

	// Contact (private contact_paired): the contact the chat was paired
	// with by hand (pairing.go).
	Contact *ContactName `json:"contact,omitempty"`

	// publicSeq numbers the events that are not private, 1, 2, 3… with
	// no gaps: the customer sees it as Seq. 0 for a private event.
	publicSeq int
}

// Target is whom a team event concerns: the agent invited or a
// transfer's agent or queue.
type Target struct {
	Kind string `json:"kind"` // agent or queue
	Name string `json:"name"`
}

// Subjects on the bus.

// StaffSubject carries every event of a conversation, private ones too.
func StaffSubject(id ID) string { return "conv." + id.String() + ".staff" }

// PublicSubject carries what the customer may see, with agent names as the
// queue allows.
func PublicSubject(id ID) string { return "conv." + id.String() + ".public" }

// WaitingSubject carries changes to a queue's waiting list.
func WaitingSubject(id queues.QueueID) string {
	return "queue." + strconv.FormatInt(int64(id), 10) + ".waiting"
}
