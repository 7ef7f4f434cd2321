package mail

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Entry is one outbox message as the admin console lists it.
type Entry struct {
	ID        int64      `json:"id"`
	To        []string   `json:"to"`
	ReplyTo   string     `json:"reply_to"`
	Subject   string     `json:"subject"`
	Cause     string     `json:"cause"`
	CauseID   *int64     `json:"cause_id"`
	CreatedAt time.Time  `json:"created_at"`
	State     string     `json:"state"`
	Attempts  int        `json:"attempts"`
	NextAt    time.Time  `json:"next_at"`
	LastError string     `json:"last_error"`
	SentAt    *time.Time `json:"sent_at"`
}

// States an outbox message is in.
var States = []string{"pending", "sent", "failed"}

// ErrNotFound: no such outbox message.
var ErrNotFound = errors.New("mail: there is no such message")

// ErrNotFailed: only a failed message can be sent again.
var ErrNotFailed = errors.New("mail: only a failed message can be sent again")

// Querier is a pool or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

const entryColumns = `id, to_addrs, reply_to, subject, cause, cause_id, created_at, state, attempts, next_at, last_error, sent_at`

func scanEntry(r pgx.Row) (Entry, error) {
	var e Entry
	err := r.Scan(&e.ID, &e.To, &e.ReplyTo, &e.Subject, &e.Cause, &e.CauseID, &e.CreatedAt, &e.State, &e.Attempts,
		&e.NextAt, &e.LastError, &e.SentAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// List answers the outbox newest first: messages in state (any when
// empty) with an id below before (from the newest when 0), at most
// limit, and whether there are more.
func List(ctx context.Context, db Querier, state string, before int64, limit int) ([]Entry, bool, error) {
	rows, err := db.Query(ctx, `SELECT `+entryColumns+` FROM mail_outbox
		WHERE ($1 = '' OR state = $1) AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, state, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scanEntry(r) })
	if err != nil {
		return nil, false, err
	}
	if len(es) > limit {
		return es[:limit], true, nil
	}
	return es, false, nil
}

// Retry sends a failed message again: pending, due now, with its
// attempts counted afresh. It answers the message as it is now, and
// wakes the senders when db commits (at once when db is a pool).
func Retry(ctx context.Context, db Querier, id int64) (Entry, error) {
	e, err := scanEntry(db.QueryRow(ctx, `WITH r AS (
			UPDATE mail_outbox SET state = 'pending', attempts = 0, next_at = now()
			WHERE id = $1 AND state = 'failed' RETURNING `+entryColumns+`),
		n AS (SELECT pg_notify($2, '') FROM r)
		SELECT r.* FROM r LEFT JOIN n ON true`, id, Channel))
	if !errors.Is(err, ErrNotFound) {
		return e, err
	}
	if _, err := scanEntry(db.QueryRow(ctx, `SELECT `+entryColumns+` FROM mail_outbox WHERE id = $1`, id)); err != nil {
		return Entry{}, err
	}
	return Entry{}, ErrNotFailed
}
