// Package queues holds the chat queues' settings and members (the tables
// queues and queue_members): what an admin sets, what the widget may see,
// and a cache of them behind Cache. It is the lowest chat package: its
// errors (errors.go) are every chat package's.
package queues

import (
	"strconv"

	"parley/auth"
)

// QueueID identifies a queue.
type QueueID int64

func (id QueueID) String() string { return strconv.FormatInt(int64(id), 10) }

// MaxText is the longest message (and greeting), in characters (Unicode
// code points). A longer message is refused with ErrTooLong, never cut:
// the pages count the same way and refuse to send it.
const MaxText = 4000

// DefaultWaitAlertSeconds is a queue's WaitAlertSeconds unless its admin
// sets another.
const DefaultWaitAlertSeconds = 60

// DefaultServiceLevelSeconds is a queue's ServiceLevelSeconds unless its
// admin sets another.
const DefaultServiceLevelSeconds = 20

// DefaultChatTimeLimits is a queue's ChatTimeLimits unless its admin
// sets others: amber at 5 minutes, red at 10, over at 15.
func DefaultChatTimeLimits() []int { return []int{300, 600, 900} }

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
	// Feedback asks the customer to rate the chat (1–5, with an optional
	// note) once it has ended (chat.feedback).
	Feedback bool `json:"feedback"`
	// WaitAlertSeconds is how long a chat may wait before supervisors are
	// told (1–3600; default 60).
	WaitAlertSeconds int `json:"wait_alert_seconds"`
	// ServiceLevelSeconds is the service level's threshold: a chat
	// answered within it counts as answered in time (1–3600; default 20).
	ServiceLevelSeconds int `json:"service_level_seconds"`
	// ChatTimeLimits are 2 or 3 ascending ages of a live chat, in seconds:
	// from the first it shows amber, from the second red, from a third
	// "over"; an agent without a chat for longer than the last is idle
	// (default DefaultChatTimeLimits).
	ChatTimeLimits []int `json:"chat_time_limits"`

	// Disabled takes the queue out of service: it keeps its history,
	// nothing is routed, and the widget shows the offline state.
	Disabled bool `json:"disabled"`
	// TimeZone is the IANA zone of Hours and Holidays (default "UTC").
	TimeZone string `json:"time_zone"`
	// Hours are the opening hours per weekday; nil is always open.
	Hours *Hours `json:"hours"`
	// Holidays are dates on which the queue is closed all day.
	Holidays []Holiday `json:"holidays"`
	// OfflineMessage is what the widget says when the queue is closed
	// (outside hours or disabled); UnavailableMessage when it is open but
	// full (MaxWaiting) or a chat waited past MaxWaitSeconds.
	OfflineMessage     string `json:"offline_message"`
	UnavailableMessage string `json:"unavailable_message"`
	// OfflineForm offers the customer a form (name, e-mail, message) when
	// no chat can start; what they send is mailed to OfflineEmail (when
	// set) and kept as an offline conversation.
	OfflineForm  bool   `json:"offline_form"`
	OfflineEmail string `json:"offline_email"`
	// MaxWaiting is how many chats may wait at once (0: no limit);
	// MaxWaitSeconds how long one may wait before it ends (0: no limit).
	MaxWaiting     int `json:"max_waiting"`
	MaxWaitSeconds int `json:"max_wait_seconds"`
	// AutoFinishSeconds closes a chat whose customer left and did not
	// come back within it (0: never).
	AutoFinishSeconds int `json:"auto_finish_seconds"`
	// MissedOffers is what missed offers do to the agent: MissedPause
	// (default) pauses one who let MissesBeforePause expire in a row,
	// MissedIgnore leaves them available.
	MissedOffers string `json:"missed_offers"`
	// VerifiedOnly refuses chats from customers whose identity the
	// company's backend did not sign.
	VerifiedOnly bool `json:"verified_only"`
	// FileMaxBytes is the largest file a message may carry (1 KiB–100 MiB;
	// default DefaultFileMaxBytes), FileTypes the kinds of file allowed
	// (FileCategories; default all), judged by content (chat/conversation/files.go).
	FileMaxBytes int64    `json:"file_max_bytes"`
	FileTypes    []string `json:"file_types"`
	// TranscriptEmail is when the customer gets the chat's public
	// transcript by e-mail: TranscriptOff (default), TranscriptAsk (the
	// widget offers it after the chat ends: chat.transcript_email) or
	// TranscriptAlways (sent when the chat ends, to the e-mail the
	// customer gave).
	TranscriptEmail string `json:"transcript_email"`

	// RRLast is, for round robin, the agent offered last (routing's).
	RRLast *auth.UserID `json:"-"`
}

// DefaultFileMaxBytes is a queue's FileMaxBytes unless its admin sets
// another; MaxFileBytes the most it may be.
const (
	DefaultFileMaxBytes int64 = 20 << 20
	MinFileBytes        int64 = 1 << 10
	MaxFileBytes        int64 = 100 << 20
)

// FileCategories are the kinds of file a queue may allow (FileTypes).
func FileCategories() []string { return []string{"images", "pdf", "text", "office", "audio", "video"} }

// What missed offers do (Queue.MissedOffers).
const (
	MissedPause  = "pause"
	MissedIgnore = "ignore"
)

// When the transcript is e-mailed (Queue.TranscriptEmail).
const (
	TranscriptOff    = "off"
	TranscriptAsk    = "ask"
	TranscriptAlways = "always"
)

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
	Feedback      bool   `json:"feedback"`
	// Open is whether a chat can start now: enabled and within its hours
	// (not whether an agent is free). OfflineMessage is shown when it is
	// not, UnavailableMessage when a chat cannot start or wait longer.
	Open               bool   `json:"open"`
	OfflineMessage     string `json:"offline_message"`
	UnavailableMessage string `json:"unavailable_message"`
	OfflineForm        bool   `json:"offline_form"`
	VerifiedOnly       bool   `json:"verified_only"`
	// FileMaxBytes and FileTypes: what a file may be (the pages check
	// before uploading; the server checks again).
	FileMaxBytes int64    `json:"file_max_bytes"`
	FileTypes    []string `json:"file_types"`
	Fields       struct {
		Email string `json:"email"`
		Extra struct {
			Label string `json:"label"`
			Mode  string `json:"mode"`
		} `json:"extra"`
	} `json:"fields"`
	// TranscriptEmail: "ask" when the widget offers the transcript by
	// e-mail after the chat ends.
	TranscriptEmail string `json:"transcript_email"`
}

// Public returns the settings the widget may see.
func (q Queue) Public() PublicSettings {
	var p PublicSettings
	p.Key, p.Name, p.Title, p.Color, p.ShowAgentName = q.Key, q.Name, q.Title, q.Color, q.ShowAgentName
	p.CustomerCalls, p.Feedback = q.CustomerCalls, q.Feedback
	p.Open = !q.Disabled
	p.OfflineMessage, p.UnavailableMessage = q.OfflineMessage, q.UnavailableMessage
	p.OfflineForm, p.VerifiedOnly = q.OfflineForm, q.VerifiedOnly
	p.FileMaxBytes, p.FileTypes = q.FileMaxBytes, q.FileTypes
	p.TranscriptEmail = q.TranscriptEmail
	p.Fields.Email = q.EmailMode
	p.Fields.Extra.Label, p.Fields.Extra.Mode = q.ExtraLabel, q.ExtraMode
	return p
}

// Alias is the name customers see for agents when names are hidden.
func (q Queue) Alias() string {
	if q.AgentAlias != "" {
		return q.AgentAlias
	}
	return q.Name
}

// QueueConfig is a queue's settings as an admin sets them, with its
// members by username.
type QueueConfig struct {
	Queue
	Members []string `json:"members"`
}
