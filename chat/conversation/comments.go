package conversation

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"parley/auth"
	"parley/chat/queues"
)

// Comments: staff write them on a chat for each other (chat.comment). A
// comment is a private event of kind comment, so it goes where private
// notes go (the staff's subject, their resume, history and transcript)
// and never to the customer. It may mention staff by login name
// (@alice): each one mentioned is told on all their tabs (chat.mention)
// and keeps it unread (chat_mentions) until they read it.

// Mention is a user a comment mentions.
type Mention struct {
	ID   auth.UserID `json:"id"`
	Name string      `json:"name"` // the display name
}

// CommentInput is one comment.
type CommentInput struct {
	ConversationID ID     `json:"conversation_id"`
	ClientID       string `json:"client_id"`
	Text           string `json:"text"`
}

// CommentResult is the acknowledgement of a stored comment.
type CommentResult struct {
	Seq       int       `json:"seq"`
	Time      time.Time `json:"time"`
	Duplicate bool      `json:"duplicate"`
	Mentions  []Mention `json:"mentions"`
}

// MentionNote is what a mentioned user is told (chat.mention) and lists
// (chat.mentions): the comment, where it is, and who wrote it.
type MentionNote struct {
	ConversationID ID        `json:"conversation_id"`
	Seq            int       `json:"seq"`
	Customer       string    `json:"customer"` // the chat's customer, by name
	Author         Author    `json:"author"`
	Text           string    `json:"text"`
	Time           time.Time `json:"time"`
}

// mentionRE finds @login tokens: an @ at the start or after a character
// that is not part of a login or an address (so bob@example.com is not a
// mention), then the login's characters (auth's users.username).
var mentionRE = regexp.MustCompile(`(?:^|[^a-zA-Z0-9._@-])@([a-zA-Z0-9._-]{2,64})`)

// mentionedLogins are the distinct logins text mentions, lower-cased, in
// order, without a trailing full stop ("ask @alice." mentions alice).
func mentionedLogins(text string) []string {
	var out []string
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		login := strings.ToLower(strings.TrimRight(m[1], "."))
		if len(login) >= 2 && !contains(out, login) {
			out = append(out, login)
		}
	}
	return out
}

// resolveMentions are the active users text mentions, in the order named.
// Tokens that name nobody stay plain text.
func resolveMentions(ctx context.Context, db Querier, text string) ([]Mention, error) {
	logins := mentionedLogins(text)
	if len(logins) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT id, display_name FROM users
		WHERE username = ANY($1) AND NOT disabled AND role IN ('agent', 'supervisor', 'admin')
		ORDER BY array_position($1, username)`, logins)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Mention, error) {
		var m Mention
		return m, r.Scan(&m.ID, &m.Name)
	})
}

// mentionsValue is what the mentions column stores: NULL for none.
func mentionsValue(ms []Mention) any {
	if len(ms) == 0 {
		return nil
	}
	return ms
}

func (in *CommentInput) validate() error {
	in.ClientID = strings.TrimSpace(in.ClientID)
	if err := queues.BadText("client_id", in.ClientID, "text", in.Text); err != nil {
		return err
	}
	switch {
	case in.ConversationID <= 0:
		return queues.Bad(`"conversation_id" is required`)
	case in.ClientID == "" || len(in.ClientID) > 64:
		return queues.Bad("client_id: 1–64 characters, unique per comment")
	case strings.TrimSpace(in.Text) == "":
		return queues.Bad("text: the comment is empty")
	case utf8.RuneCountInString(in.Text) > queues.MaxText:
		return queues.Detail(queues.ErrTooLong, fmt.Sprintf("text: %d characters, at most %d", utf8.RuneCountInString(in.Text), queues.MaxText))
	}
	return nil
}

// Comment stores a staff comment on a conversation p may read, open or
// closed, and tells those it mentions. Customers and guests are
// forbidden; staff who may not read the chat are answered not_found. A
// comment sent again with the same client_id is answered with the stored
// one (Duplicate), and nobody is told twice.
func (s *Log) Comment(ctx context.Context, p auth.Principal, in CommentInput) (CommentResult, error) {
	if !p.IsStaff() {
		return CommentResult{}, queues.Detail(queues.ErrForbidden, "comments are for staff")
	}
	if err := in.validate(); err != nil {
		return CommentResult{}, err
	}
	c, q, a, err := s.readable(ctx, p, in.ConversationID)
	if err != nil {
		return CommentResult{}, err
	}
	if !a.ReadPrivate {
		return CommentResult{}, queues.ErrNotFound
	}
	mentions, err := resolveMentions(ctx, s.pool, in.Text)
	if err != nil {
		return CommentResult{}, err
	}
	unlock := s.Lock(in.ConversationID)
	defer unlock()
	ev := Event{ConversationID: in.ConversationID, Kind: KindComment, Author: AuthorOf(p, c), Text: in.Text,
		Private: true, ClientID: in.ClientID, Mentions: mentions}
	dup, err := s.storeComment(ctx, p, &ev)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		// The same comment stored at the same moment through another node.
		dup, err = s.storeComment(ctx, p, &ev)
	}
	if err != nil {
		return CommentResult{}, err
	}
	res := CommentResult{Seq: ev.Seq, Time: ev.Time, Duplicate: dup, Mentions: ev.Mentions}
	if res.Mentions == nil {
		res.Mentions = []Mention{}
	}
	if dup {
		return res, nil
	}
	s.Publish(q, ev)
	note := MentionNote{ConversationID: ev.ConversationID, Seq: ev.Seq, Customer: c.Customer.Name,
		Author: ev.Author, Text: ev.Text, Time: ev.Time}
	for _, m := range ev.Mentions {
		if m.ID != p.UserID {
			s.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: m.ID}.Key(), "chat.mention", note)
		}
	}
	return res, nil
}

// storeComment stores ev and the mentions of it, or finds the comment
// its author already stored with its client_id (true). The caller holds
// the conversation's stripe.
func (s *Log) storeComment(ctx context.Context, p auth.Principal, ev *Event) (bool, error) {
	dup := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		old, err := scanEvent(tx.QueryRow(ctx, `SELECT `+eventColumns+` FROM conversation_events
			WHERE conversation_id = $1 AND author_key = $2 AND client_id = $3`, ev.ConversationID, p.Key(), ev.ClientID))
		switch {
		case err == nil && old.Kind != KindComment:
			return queues.Conflict("client_id: a message of yours has this client_id")
		case err == nil:
			*ev, dup = old, true
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if err := Append(ctx, tx, ev); err != nil {
			return err
		}
		for _, m := range ev.Mentions {
			if m.ID == p.UserID {
				continue // nobody is told of their own comment
			}
			if _, err := tx.Exec(ctx, `INSERT INTO chat_mentions (user_id, conversation_id, seq) VALUES ($1, $2, $3)`,
				m.ID, ev.ConversationID, ev.Seq); err != nil {
				return err
			}
		}
		return nil
	})
	return dup, err
}

// Mentions lists p's unread mentions, oldest first (at most 200).
func (s *Log) Mentions(ctx context.Context, p auth.Principal) ([]MentionNote, error) {
	if p.Kind != auth.KindUser {
		return nil, queues.Detail(queues.ErrForbidden, "mentions are for staff")
	}
	rows, err := s.pool.Query(ctx, `SELECT m.conversation_id, m.seq, c.customer_name, e.author_kind, e.author_name, e.text, e.created_at
		FROM chat_mentions m
		JOIN conversation_events e ON e.conversation_id = m.conversation_id AND e.seq = m.seq
		JOIN conversations c ON c.id = m.conversation_id
		WHERE m.user_id = $1 AND m.read_at IS NULL
		ORDER BY m.created_at, m.conversation_id, m.seq LIMIT 200`, p.UserID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MentionNote, error) {
		var n MentionNote
		return n, r.Scan(&n.ConversationID, &n.Seq, &n.Customer, &n.Author.Kind, &n.Author.Name, &n.Text, &n.Time)
	})
}

// MentionRead marks p's mentions in conversation id read: the one at seq,
// or all of them with seq 0. It answers how many p has unread, and tells
// p's other tabs (chat.mention_read).
func (s *Log) MentionRead(ctx context.Context, p auth.Principal, id ID, seq int) (int, error) {
	if p.Kind != auth.KindUser {
		return 0, queues.Detail(queues.ErrForbidden, "mentions are for staff")
	}
	if id <= 0 {
		return 0, queues.Bad(`"conversation_id" is required`)
	}
	if seq < 0 {
		return 0, queues.Bad(`"seq" must be 0 (all) or a comment's seq`)
	}
	var unread int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE chat_mentions SET read_at = now()
			WHERE user_id = $1 AND conversation_id = $2 AND ($3 = 0 OR seq = $3) AND read_at IS NULL`,
			p.UserID, id, seq); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM chat_mentions WHERE user_id = $1 AND read_at IS NULL`,
			p.UserID).Scan(&unread)
	})
	if err != nil {
		return 0, err
	}
	s.PublishTo(p.Key(), "chat.mention_read", map[string]any{"conversation_id": id, "seq": seq, "unread": unread})
	return unread, nil
}
