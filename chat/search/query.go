package search

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"parley/auth"
	"parley/chat/queues"
)

// Limits of a query.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	maxText      = 200 // characters of text or contact
	maxWords     = 8   // words of a contact
)

// Query is what history.search asks: every field is a filter, and the
// empty ones filter nothing. docs/protocol.md, "History (staff)".
type Query struct {
	// Text: words of any event's text (messages, private messages,
	// comments), in web-search syntax: words all present, "a phrase",
	// or, -word.
	Text string `json:"text"`
	// Contact: words of the customer's name or e-mail, each by prefix.
	Contact     string         `json:"contact"`
	AgentID     auth.UserID    `json:"agent_id"`
	QueueID     queues.QueueID `json:"queue_id"`
	From        string         `json:"from"` // a date (2026-12-01, from its start, UTC) or an RFC 3339 time
	To          string         `json:"to"`   // a date (through its end, UTC) or an RFC 3339 time
	Status      string         `json:"status"`
	CloseStatus string         `json:"close_status"`
	Important   *bool          `json:"important"`
	Cursor      string         `json:"cursor"`
	Limit       *int           `json:"limit"`
}

// Statuses of a conversation as the search filters them.
const (
	StatusOpen   = "open"   // waiting, offered or with an agent
	StatusClosed = "closed" // closed
	// StatusOffline: a message left with the offline form
	// (conversation.StateOffline).
	StatusOffline = "offline"
)

// filter is a checked Query.
type filter struct {
	text, contact string // contact: a to_tsquery of prefixes
	agent         auth.UserID
	queue         queues.QueueID
	from, to      time.Time // to: exclusive
	status        string
	closeStatus   string
	important     *bool
	after         *cursor
	limit         int
}

// cursor is the last result of a page: the next page starts after it.
type cursor struct {
	at time.Time
	id int64
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", c.at.UnixMicro(), c.id))
}

func parseCursor(s string) (*cursor, error) {
	bad := queues.Bad(`"cursor" is not one this server gave: pass the "cursor" of the previous page as it came`)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(b), ".")
	us, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return nil, bad
	}
	return &cursor{time.UnixMicro(us), n}, nil
}

// check validates q, naming the field of the first fault.
func (q Query) check() (filter, error) {
	f := filter{agent: q.AgentID, queue: q.QueueID, status: q.Status, important: q.Important, limit: DefaultLimit}
	if err := queues.BadText("text", q.Text, "contact", q.Contact, "close_status", q.CloseStatus); err != nil {
		return f, err
	}
	f.text = strings.TrimSpace(q.Text)
	if n := utf8.RuneCountInString(f.text); n > maxText {
		return f, queues.Bad(`"text" is %d characters, at most %d`, n, maxText)
	}
	if f.text != "" && strings.IndexFunc(f.text, isWord) < 0 {
		return f, queues.Bad(`"text" has no word to search for`)
	}
	var err error
	if f.contact, err = contactQuery(q.Contact); err != nil {
		return f, err
	}
	if q.AgentID < 0 {
		return f, queues.Bad(`"agent_id" must be a user id (a positive number)`)
	}
	if q.QueueID < 0 {
		return f, queues.Bad(`"queue_id" must be a queue id (a positive number)`)
	}
	if f.from, err = parseTime("from", q.From, false); err != nil {
		return f, err
	}
	if f.to, err = parseTime("to", q.To, true); err != nil {
		return f, err
	}
	if !f.from.IsZero() && !f.to.IsZero() && !f.from.Before(f.to) {
		return f, queues.Bad(`"from" (%s) is not before "to" (%s)`, q.From, q.To)
	}
	switch q.Status {
	case "", StatusOpen, StatusClosed, StatusOffline:
	default:
		return f, queues.Bad(`"status" must be "open", "closed" or "offline" (or left out), not %q`, q.Status)
	}
	f.closeStatus = strings.TrimSpace(q.CloseStatus)
	if n := utf8.RuneCountInString(f.closeStatus); n > maxText {
		return f, queues.Bad(`"close_status" is %d characters, at most %d`, n, maxText)
	}
	if q.Limit != nil {
		if *q.Limit < 1 || *q.Limit > MaxLimit {
			return f, queues.Bad(`"limit" must be from 1 to %d, not %d`, MaxLimit, *q.Limit)
		}
		f.limit = *q.Limit
	}
	if q.Cursor != "" {
		if f.after, err = parseCursor(q.Cursor); err != nil {
			return f, err
		}
	}
	return f, nil
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// contactQuery is the to_tsquery of a contact filter: each word of it
// (letters and digits; the rest separates words, as in the index, which
// cuts e-mail addresses at their punctuation) by prefix, all of them.
func contactQuery(s string) (string, error) {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isWord(r) })
	if n := utf8.RuneCountInString(s); n > maxText {
		return "", queues.Bad(`"contact" is %d characters, at most %d`, n, maxText)
	}
	if strings.TrimSpace(s) != "" && len(words) == 0 {
		return "", queues.Bad(`"contact" has no word to search for`)
	}
	if len(words) > maxWords {
		return "", queues.Bad(`"contact" has %d words, at most %d`, len(words), maxWords)
	}
	for i, w := range words {
		words[i] = "'" + w + "':*"
	}
	return strings.Join(words, " & "), nil
}

// parseTime reads a date or an RFC 3339 time. A date is its start, or,
// for the end of a range (end), the start of the next day: the range
// takes the whole day.
func parseTime(field, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, queues.Bad(`%q must be a date (2026-12-01) or an RFC 3339 time (2026-12-01T09:00:00Z), not %q`, field, s)
	}
	return t, nil
}
