package conversation

import (
	"context"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
	"parley/mail"
)

// The transcript by e-mail: the queue a chat started in
// (queues.Queue.TranscriptEmail) mails its customer the chat's public
// transcript never ("off"), when the customer asks after the chat ended
// ("ask": MailTranscript, chat.transcript_email) or whenever the chat
// ends, to the e-mail the customer gave the pre-chat form ("always": in
// the transaction of the close). The mail is written to the outbox
// (mail.Enqueue) in the same transaction as what causes it, and the
// conversation's transcript_sent_at makes it once per conversation. The
// body is what the customer could read in the widget: public events
// only (private messages, comments and their files never), agent names
// as the queue shows them.

// TranscriptMailInput is a customer's request for its chat's transcript.
type TranscriptMailInput struct {
	ConversationID ID     `json:"conversation_id"`
	Email          string `json:"email"`
}

// TranscriptMailed answers chat.transcript_email.
type TranscriptMailed struct {
	ConversationID ID        `json:"conversation_id"`
	Email          string    `json:"email"`
	SentAt         time.Time `json:"sent_at"`
}

func (in *TranscriptMailInput) validate() error {
	if err := queues.BadText("email", in.Email); err != nil {
		return err
	}
	in.Email = strings.TrimSpace(in.Email)
	if in.ConversationID <= 0 {
		return queues.Bad(`"conversation_id" is required`)
	}
	if a, err := netmail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
		return queues.Bad("email: an e-mail address such as vera@example.com")
	}
	return nil
}

// MailTranscript puts the public transcript of p's own ended chat in the
// outbox to in.Email, once per conversation. Staff and guests are
// forbidden; another customer's chat is not_found; a chat still open, a
// queue that does not offer it ("ask"), or a transcript already sent is
// a conflict.
func (s *Log) MailTranscript(ctx context.Context, p auth.Principal, in TranscriptMailInput) (TranscriptMailed, error) {
	if p.Kind != auth.KindVisitor {
		return TranscriptMailed{}, queues.Detail(queues.ErrForbidden, "the transcript is mailed to the chat's customer")
	}
	if err := in.validate(); err != nil {
		return TranscriptMailed{}, err
	}
	c, q, _, err := s.readable(ctx, p, in.ConversationID)
	if err != nil {
		return TranscriptMailed{}, err
	}
	origin, err := s.queue(ctx, c.originQueue)
	if err != nil {
		return TranscriptMailed{}, err
	}
	if origin.TranscriptEmail != queues.TranscriptAsk {
		return TranscriptMailed{}, queues.Conflict("this queue does not offer the transcript by e-mail")
	}
	unlock := s.Lock(in.ConversationID)
	defer unlock()
	var at time.Time
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := Get(ctx, tx, in.ConversationID, true)
		if err != nil {
			return err
		}
		var sent *time.Time
		if err := tx.QueryRow(ctx, `SELECT transcript_sent_at FROM conversations WHERE id = $1`, c.ID).Scan(&sent); err != nil {
			return err
		}
		switch {
		case c.State != StateClosed:
			return queues.Conflict("the chat has not ended yet")
		case sent != nil:
			return queues.Conflict("the transcript of this chat was already sent")
		}
		at, err = mailTranscriptTx(ctx, tx, q, c, in.Email)
		return err
	})
	if err != nil {
		return TranscriptMailed{}, err
	}
	return TranscriptMailed{ConversationID: in.ConversationID, Email: in.Email, SentAt: at}, nil
}

// mailTranscriptOnCloseTx mails chat c's transcript inside tx, the close's
// transaction, when the queue it started in sends it always and the
// customer gave an e-mail. q is the queue it is in now (whose agent names
// the customer sees).
func (s *Log) mailTranscriptOnCloseTx(ctx context.Context, tx pgx.Tx, q queues.Queue, c Conversation) error {
	if c.Customer.Email == "" {
		return nil
	}
	origin, err := s.queue(ctx, c.originQueue)
	if err != nil || origin.TranscriptEmail != queues.TranscriptAlways {
		return err
	}
	var sent bool
	if err := tx.QueryRow(ctx, `SELECT transcript_sent_at IS NOT NULL FROM conversations WHERE id = $1`, c.ID).Scan(&sent); err != nil || sent {
		return err
	}
	_, err = mailTranscriptTx(ctx, tx, q, c, c.Customer.Email)
	return err
}

// mailTranscriptTx writes chat c's public transcript to the outbox for to
// and records that it was sent, inside tx.
func mailTranscriptTx(ctx context.Context, tx pgx.Tx, q queues.Queue, c Conversation, to string) (time.Time, error) {
	rows, err := tx.Query(ctx, `SELECT `+eventColumns+` FROM conversation_events
		WHERE conversation_id = $1 AND NOT private ORDER BY seq`, c.ID)
	if err != nil {
		return time.Time{}, err
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) { return scanEvent(r) })
	if err != nil {
		return time.Time{}, err
	}
	if _, err := mail.Enqueue(ctx, tx, mail.Message{
		To:      []string{to},
		Subject: fmt.Sprintf("Your chat with %s", q.Name),
		Body:    transcriptText(q, c, evs),
		Cause:   "transcript",
		CauseID: int64(c.ID),
	}); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err = tx.QueryRow(ctx, `UPDATE conversations SET transcript_sent_at = now() WHERE id = $1 RETURNING transcript_sent_at`,
		c.ID).Scan(&at)
	return at, err
}

// transcriptText is the plain-text transcript of c's public events evs,
// as its customer sees them.
func transcriptText(q queues.Queue, c Conversation, evs []Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Your chat with %s, started %s.\n\n", q.Name, c.QueuedAt.UTC().Format("2006-01-02 15:04 MST"))
	for _, ev := range evs {
		if ev.Private { // never read, and never written either
			continue
		}
		ev = customerView(q, ev)
		at := ev.Time.UTC().Format("15:04:05")
		switch ev.Kind {
		case KindMessage:
			fmt.Fprintf(&b, "[%s] %s: %s\n", at, ev.Author.Name, ev.Text)
		case KindAccepted, KindJoined:
			fmt.Fprintf(&b, "[%s] %s joined the chat\n", at, ev.Author.Name)
		case KindLeft:
			fmt.Fprintf(&b, "[%s] %s left the chat\n", at, ev.Author.Name)
		case KindClosed:
			fmt.Fprintf(&b, "[%s] The chat ended\n", at)
		}
	}
	fmt.Fprintf(&b, "\nConversation %d.\n", c.ID)
	return b.String()
}
