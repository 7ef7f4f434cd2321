// Package chat holds the rules of routed webchat: queues and their
// settings, conversations and their numbered events, routing with offers,
// agents' status. It owns its tables and SQL, and tells the world what
// happened only by publishing on the bus.
package chat

import (
	"strconv"
	"time"

	"parley/auth"
)

// ConversationID identifies a conversation.
type ConversationID int64

// QueueID identifies a queue.
type QueueID int64

func (id ConversationID) String() string { return strconv.FormatInt(int64(id), 10) }

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
	// Room events (room_created, room_joined, …) take the kinds of
	// conference.Activity and carry RoomID.
)

// QueueRef names a queue inside a conversation.
type QueueRef struct {
	ID   QueueID `json:"id"`
	Name string  `json:"name"`
}

// Customer is what the customer told the pre-chat form.
type Customer struct {
	Name   string `json:"name"`
	Email  string `json:"email"`
	Extra  string `json:"extra"`
	Online *bool  `json:"online,omitempty"` // staff view only
}

// AgentRef is the agent of a conversation.
type AgentRef struct {
	ID   *auth.UserID `json:"id,omitempty"` // staff view only
	Name string       `json:"name"`
}

// Conversation is one customer's chat.
type Conversation struct {
	ID          ConversationID `json:"id"`
	Queue       QueueRef       `json:"queue"`
	State       string         `json:"state"`
	Customer    Customer       `json:"customer"`
	Agent       *AgentRef      `json:"agent"`
	QueuedAt    time.Time      `json:"queued_at"`
	AcceptedAt  *time.Time     `json:"accepted_at"`
	ClosedAt    *time.Time     `json:"closed_at"`
	ClosedBy    *string        `json:"closed_by"`
	CloseStatus *string        `json:"close_status"`
	LastSeq     int            `json:"last_seq"`
	// WrapUpDue (staff only): the customer ended the chat and its agent
	// has not given it a close status yet.
	WrapUpDue bool `json:"wrap_up_due,omitempty"`
	// WaitAlertAt (staff only): when supervisors were told the chat had
	// waited longer than its queue's WaitAlertSeconds.
	WaitAlertAt *time.Time `json:"wait_alert_at,omitempty"`

	visitor       string // the visitor's subject: who may read it as a customer
	agentID       *auth.UserID
	lastPublicSeq int // the customer's LastSeq: public events only
}

// Author of an event.
type Author struct {
	Kind string `json:"kind"` // customer, agent, system
	Name string `json:"name"`
	key  string // principal key; never sent
}

// Event is one numbered thing that happened in a conversation.
type Event struct {
	ConversationID ConversationID `json:"conversation_id"`
	Seq            int            `json:"seq"`
	Kind           string         `json:"kind"`
	Author         Author         `json:"author"`
	Text           string         `json:"text,omitempty"`
	Private        bool           `json:"private"`
	ClientID       string         `json:"client_id,omitempty"`
	Status         string         `json:"status,omitempty"`
	RoomID         string         `json:"room_id,omitempty"`
	Time           time.Time      `json:"time"`

	// publicSeq numbers the events that are not private, 1, 2, 3… with
	// no gaps: the customer sees it as Seq. 0 for a private event.
	publicSeq int
}

// Queue is a queue's full configuration.
type Queue struct {
	ID             QueueID  `json:"id"`
	Key            string   `json:"key"`
	Name           string   `json:"name"`
	Title          string   `json:"title"`
	Color          string   `json:"color"`
	Greeting       string   `json:"greeting"`
	ShowAgentName  bool     `json:"show_agent_name"`
	AgentAlias     string   `json:"agent_alias"`
	EmailMode      string   `json:"email_mode"`
	ExtraLabel     string   `json:"extra_label"`
	ExtraMode      string   `json:"extra_mode"`
	Strategy       string   `json:"strategy"`
	Capacity       int      `json:"capacity"`
	AnswerSeconds  int      `json:"answer_seconds"`
	AllowedOrigins []string `json:"allowed_origins"`
	Statuses       []string `json:"statuses"`
	// CustomerCalls lets the customer start an audio or video call from
	// the chat window.
	CustomerCalls bool `json:"customer_calls"`
	// WaitAlertSeconds is how long a chat may wait before supervisors are
	// told (1–3600; default 60).
	WaitAlertSeconds int `json:"wait_alert_seconds"`

	rrLast *auth.UserID // round robin: the agent offered last
}

// Strategies of routing.
const (
	LongestIdle = "longest_idle"
	LeastBusy   = "least_busy"
	RoundRobin  = "round_robin"
	RingAll     = "ring_all"
)

// PublicSettings is what the widget may know of a queue.
type PublicSettings struct {
	Key           string `json:"key"`
	Name          string `json:"name"`
	Title         string `json:"title"`
	Color         string `json:"color"`
	ShowAgentName bool   `json:"show_agent_name"`
	CustomerCalls bool   `json:"customer_calls"`
	Fields        struct {
		Email string `json:"email"`
		Extra struct {
			Label string `json:"label"`
			Mode  string `json:"mode"`
		} `json:"extra"`
	} `json:"fields"`
}

// Public returns the settings the widget may see.
func (q Queue) Public() PublicSettings {
	var p PublicSettings
	p.Key, p.Name, p.Title, p.Color, p.ShowAgentName = q.Key, q.Name, q.Title, q.Color, q.ShowAgentName
	p.CustomerCalls = q.CustomerCalls
	p.Fields.Email = q.EmailMode
	p.Fields.Extra.Label, p.Fields.Extra.Mode = q.ExtraLabel, q.ExtraMode
	return p
}

// alias is the name customers see for agents when names are hidden.
func (q Queue) alias() string {
	if q.AgentAlias != "" {
		return q.AgentAlias
	}
	return q.Name
}

// Subjects on the bus.

// StaffSubject carries every event of a conversation, private ones too.
func StaffSubject(id ConversationID) string { return "conv." + id.String() + ".staff" }

// PublicSubject carries what the customer may see, with agent names as the
// queue allows.
func PublicSubject(id ConversationID) string { return "conv." + id.String() + ".public" }

// WaitingSubject carries changes to a queue's waiting list.
func WaitingSubject(id QueueID) string {
	return "queue." + strconv.FormatInt(int64(id), 10) + ".waiting"
}
