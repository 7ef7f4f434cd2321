package conversation

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/crm"
	"parley/chat/queues"
	"parley/mail"
)

// StateOffline is a message left with the offline form: stored, found in
// the history, never routed and never open to more messages.
const StateOffline = "offline"

// MaxOfflineMessage is the longest offline message, in characters.
const MaxOfflineMessage = 4000

// OfflineInput is the offline form.
type OfflineInput struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Message string `json:"message"`
}

func (in *OfflineInput) validate() error {
	if err := queues.BadText("name", in.Name, "email", in.Email, "message", in.Message); err != nil {
		return err
	}
	in.Name, in.Email, in.Message = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email), strings.TrimSpace(in.Message)
	switch {
	case utf8.RuneCountInString(in.Name) > 100:
		return queues.Bad("name: at most 100 characters")
	case in.Email == "":
		return queues.Bad("email: your e-mail address is required, so that we can reply")
	case !validEmail(in.Email):
		return queues.Bad("email: a valid e-mail address is required")
	case in.Message == "":
		return queues.Bad("message: a message is required")
	case utf8.RuneCountInString(in.Message) > MaxOfflineMessage:
		return queues.Bad("message: at most %d characters", MaxOfflineMessage)
	}
	return nil
}

// Offline stores what a customer sent with the offline form of its
// widget's queue: a conversation in state offline whose first event is
// the message, and, when the queue has an offline address, the e-mail to
// it, in the same transaction. The form is taken whenever the queue
// offers it (offline_form), open or not: a customer who loaded the form
// while the queue was closed is not refused because it opened meanwhile.
func (s *Log) Offline(ctx context.Context, p auth.Principal, in OfflineInput) (Conversation, error) {
	if p.Kind != auth.KindVisitor {
		return Conversation{}, queues.Detail(queues.ErrForbidden, "only customers send the offline form")
	}
	q, err := s.queues.ByKey(ctx, p.Scope)
	if err != nil {
		return Conversation{}, err
	}
	if !q.OfflineForm {
		return Conversation{}, queues.Detail(queues.ErrForbidden, "this queue takes no offline messages")
	}
	if err := in.validate(); err != nil {
		return Conversation{}, err
	}
	name := in.Name
	if name == "" {
		name = in.Email
	}
	var id ID
	var ticket crm.TicketID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		var at time.Time
		if err := tx.QueryRow(ctx, `INSERT INTO conversations (queue_id, visitor, customer_name, customer_email, state)
			VALUES ($1, $2, $3, $4, 'offline') RETURNING id, queued_at`, q.ID, p.Subject, name, in.Email).Scan(&id, &at); err != nil {
			return err
		}
		ev := Event{ConversationID: id, Kind: KindMessage, Text: in.Message,
			Author: Author{Kind: "customer", Name: name, key: p.Key()}}
		if err := Append(ctx, tx, &ev); err != nil {
			return err
		}
		// An unassigned ticket of the queue, so the message is worked.
		if ticket, _, err = crm.SystemTx(ctx, tx, int64(id), crm.SourceOffline, offlineTitle(name, in.Message)); err != nil {
			return err
		}
		if q.OfflineEmail == "" {
			return nil
		}
		_, err = mail.Enqueue(ctx, tx, offlineMail(q, in, name, id, at))
		return err
	})
	if err != nil {
		return Conversation{}, err
	}
	crm.NewTickets(s.pool, s.bus, s.log).Tell(ctx, ticket)
	c, err := Get(ctx, s.pool, id, false)
	if err != nil {
		return Conversation{}, err
	}
	c, _ = s.View(p, q, c, nil)
	return c, nil
}

// offlineMail is the e-mail of an offline message to the queue's offline
// address; a reply goes to the customer.
func offlineMail(q queues.Queue, in OfflineInput, name string, id ID, at time.Time) mail.Message {
	body := fmt.Sprintf("%s left a message on %s (queue %s) at %s.\n\nName: %s\nE-mail: %s\n\n%s\n\n"+
		"Reply to this e-mail to answer the customer. Conversation %d in Parley's history.\n",
		name, q.Name, q.Key, at.UTC().Format("2006-01-02 15:04 MST"), in.Name, in.Email, in.Message, id)
	return mail.Message{
		To:      []string{q.OfflineEmail},
		ReplyTo: in.Email,
		Subject: fmt.Sprintf("Offline message from %s via %s", name, q.Name),
		Body:    body,
		Cause:   "offline",
		CauseID: int64(id),
	}
}

// offlineTitle is the title of an offline message's ticket: its first
// line, cut to fit.
func offlineTitle(name, message string) string {
	line, _, _ := strings.Cut(message, "\n")
	line = strings.TrimSpace(line)
	if r := []rune(line); len(r) > 80 {
		line = string(r[:79]) + "…"
	}
	if line == "" {
		return "Offline message from " + name
	}
	return line
}
