// Package mail is the e-mail outbox: what Parley mails (offline messages,
// ticket replies) is written to the mail_outbox table in the same
// transaction as what causes it (Enqueue), and a sender delivers it over
// SMTP afterwards, retrying with backoff, so nothing is lost or sent
// twice across a restart. It imports only store.
package mail

import (
	"context"
	"embed"
	"errors"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"parley/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the outbox's table (component "mail").
var Migrations = store.Migrations{Component: "mail", FS: mustSub(migrations, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Message is one e-mail to send: plain text, to one or more addresses.
type Message struct {
	To      []string
	ReplyTo string // optional: where a reply goes (e.g. the customer)
	Subject string
	Body    string
	// Cause and CauseID say what made it (e.g. "offline" and the
	// conversation id), for the admin console.
	Cause   string
	CauseID int64
}

// ErrNoRecipient is Enqueue's answer to a message without an address.
var ErrNoRecipient = errors.New("mail: a message needs at least one recipient")

// Enqueue writes m to the outbox inside tx: it is sent once tx commits,
// and never if tx rolls back. It answers the message's id.
// The commit wakes the senders (NOTIFY on Channel).
func Enqueue(ctx context.Context, tx pgx.Tx, m Message) (int64, error) {
	if len(m.To) == 0 {
		return 0, ErrNoRecipient
	}
	var id int64
	var causeID *int64
	if m.CauseID != 0 {
		causeID = &m.CauseID
	}
	err := tx.QueryRow(ctx, `INSERT INTO mail_outbox (cause, cause_id, to_addrs, reply_to, subject, body)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, m.Cause, causeID, m.To, m.ReplyTo, m.Subject, m.Body).Scan(&id)
	if err != nil {
		return 0, err
	}
	// Delivered to the listeners when tx commits, never if it rolls back:
	// every node's Sender wakes at once.
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, Channel)
	return id, err
}
