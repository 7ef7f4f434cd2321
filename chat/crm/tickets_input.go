package crm

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"parley/auth"
	"parley/chat/queues"
)

// Limits of a ticket's fields, in characters.
const (
	MaxTitle = 200
	MaxText  = 10000
)

// Nullable is a JSON field that may be absent (Set false), null (Value
// nil) or a value: "assignee_id": null unassigns, where leaving it out
// would change nothing.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON reads null or a value.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

// Of is a Nullable set to v.
func Of[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Value: &v} }

// CreateInput is ticket.create.
type CreateInput struct {
	Title      string       `json:"title"`
	Priority   string       `json:"priority"`
	AssigneeID *auth.UserID `json:"assignee_id"`
	Text       string       `json:"text"` // a first note
	// ConversationID: made from that chat (chat.Service's CreateTicket
	// takes it there); else QueueID, by hand.
	ConversationID int64          `json:"conversation_id"`
	QueueID        queues.QueueID `json:"queue_id"`
	ContactID      *int64         `json:"contact_id"`
	Email          string         `json:"email"`
}

func (in *CreateInput) check() error {
	if err := queues.BadText("title", in.Title, "priority", in.Priority, "text", in.Text, "email", in.Email); err != nil {
		return err
	}
	in.Title, in.Email, in.Text = strings.TrimSpace(in.Title), strings.TrimSpace(in.Email), strings.TrimSpace(in.Text)
	if in.Priority == "" {
		in.Priority = "normal"
	}
	if err := checkTitle(in.Title); err != nil {
		return err
	}
	if err := checkPriority(in.Priority); err != nil {
		return err
	}
	if in.AssigneeID != nil && *in.AssigneeID <= 0 {
		return queues.Bad(`"assignee_id" must be a user id (a positive number) or null`)
	}
	if n := utf8.RuneCountInString(in.Text); n > MaxText {
		return queues.Bad(`"text" is %d characters, at most %d`, n, MaxText)
	}
	switch {
	case in.ConversationID < 0:
		return queues.Bad(`"conversation_id" must be a conversation id (a positive number)`)
	case in.ConversationID > 0 && in.QueueID != 0:
		return queues.Bad(`give "conversation_id" (from a chat) or "queue_id" (by hand), not both`)
	case in.ConversationID == 0 && in.QueueID <= 0:
		return queues.Bad(`"queue_id" is required (or "conversation_id", to make it from a chat)`)
	case in.ConversationID > 0 && (in.ContactID != nil || in.Email != ""):
		return queues.Bad(`"contact_id" and "email" are taken from the chat: leave them out with "conversation_id"`)
	}
	if in.ContactID != nil && *in.ContactID <= 0 {
		return queues.Bad(`"contact_id" must be a contact id (a positive number)`)
	}
	return checkEmail("email", in.Email)
}

// UpdateInput is ticket.update: the fields given change.
type UpdateInput struct {
	TicketID  TicketID        `json:"ticket_id"`
	Title     *string         `json:"title"`
	Priority  *string         `json:"priority"`
	Email     *string         `json:"email"`
	ContactID Nullable[int64] `json:"contact_id"`
}

func (in *UpdateInput) check() error {
	if err := checkID(in.TicketID); err != nil {
		return err
	}
	if in.Title != nil {
		if err := queues.BadText("title", *in.Title); err != nil {
			return err
		}
		*in.Title = strings.TrimSpace(*in.Title)
		if err := checkTitle(*in.Title); err != nil {
			return err
		}
	}
	if in.Priority != nil {
		if err := checkPriority(*in.Priority); err != nil {
			return err
		}
	}
	if in.Email != nil {
		if err := queues.BadText("email", *in.Email); err != nil {
			return err
		}
		*in.Email = strings.TrimSpace(*in.Email)
		if err := checkEmail("email", *in.Email); err != nil {
			return err
		}
	}
	if in.ContactID.Value != nil && *in.ContactID.Value <= 0 {
		return queues.Bad(`"contact_id" must be a contact id (a positive number) or null`)
	}
	if in.Title == nil && in.Priority == nil && in.Email == nil && !in.ContactID.Set {
		return queues.Bad(`nothing to change: give "title", "priority", "email" or "contact_id"`)
	}
	return nil
}

// ReplyInput is ticket.reply.
type ReplyInput struct {
	TicketID TicketID `json:"ticket_id"`
	Text     string   `json:"text"`
	To       string   `json:"to"`
}

func (in *ReplyInput) check() error {
	if err := checkID(in.TicketID); err != nil {
		return err
	}
	if err := queues.BadText("text", in.Text, "to", in.To); err != nil {
		return err
	}
	in.To = strings.TrimSpace(in.To)
	if err := checkText(in.Text); err != nil {
		return err
	}
	return checkEmail("to", in.To)
}

func checkID(id TicketID) error {
	if id <= 0 {
		return queues.Bad(`"ticket_id" is required: a ticket id (a positive number)`)
	}
	return nil
}

func checkTitle(title string) error {
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		return queues.Bad(`"title" is required: 1–%d characters`, MaxTitle)
	case n > MaxTitle:
		return queues.Bad(`"title" is %d characters, at most %d`, n, MaxTitle)
	}
	return nil
}

func checkPriority(p string) error {
	if !slices.Contains(Priorities, p) {
		return queues.Bad(`"priority" must be "low", "normal", "high" or "urgent", not %q`, p)
	}
	return nil
}

// checkText is a reply's or a note's text: 1–MaxText characters, not
// only spaces.
func checkText(text string) error {
	switch n := utf8.RuneCountInString(text); {
	case strings.TrimSpace(text) == "":
		return queues.Bad(`"text" is required: 1–%d characters`, MaxText)
	case n > MaxText:
		return queues.Bad(`"text" is %d characters, at most %d`, n, MaxText)
	}
	return nil
}

// checkEmail accepts "" or one plain address (vera@example.com).
func checkEmail(field, s string) error {
	if s == "" {
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") || len(s) > 254 {
		return queues.Bad(`%q must be an e-mail address (vera@example.com), not %q`, field, s)
	}
	return nil
}
