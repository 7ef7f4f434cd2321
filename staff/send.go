package staff

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/store"
)

// Send stores p's message in its thread with the user in.Ref (the thread
// is made by the pair's first message) and only then answers, and tells
// every connection of both users (staff.message). A resend with the same
// client_id stores nothing and answers the first's seq with Duplicate.
func (s *Service) Send(ctx context.Context, p auth.Principal, in SendInput) (SendResult, error) {
	if err := may(p); err != nil {
		return SendResult{}, err
	}
	in.ClientID = strings.TrimSpace(in.ClientID)
	if err := store.CheckTexts("client_id", in.ClientID, "text", in.Text); err != nil {
		return SendResult{}, bad("%s", err.Error())
	}
	switch n := utf8.RuneCountInString(in.Text); {
	case in.ClientID == "" || len(in.ClientID) > 64:
		return SendResult{}, bad("client_id: 1–64 characters, unique per message")
	case strings.TrimSpace(in.Text) == "":
		return SendResult{}, bad("text: the message is empty")
	case n > MaxText:
		return SendResult{}, tooLong(n)
	}
	id, with, err := resolve(ctx, s.pool, p, in.Ref, true)
	if err != nil {
		return SendResult{}, err
	}
	if id == 0 {
		if id, err = s.open(ctx, p.UserID, with.ID); err != nil {
			return SendResult{}, err
		}
	}
	// From the store to the publish, one send of the thread at a time on
	// this node, so that its events go out in seq order.
	mu := s.stripe(id)
	mu.Lock()
	defer mu.Unlock()
	var res SendResult
	var author Person
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = SendResult{ThreadID: id}
		// The thread's row lock orders its senders: numbers have no gaps,
		// and a resend waits for its first to commit, then finds it.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM staff_threads WHERE id = $1 FOR UPDATE`, id); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT seq, created_at FROM staff_messages
			WHERE thread_id = $1 AND author_id = $2 AND client_id = $3`, id, p.UserID, in.ClientID).Scan(&res.Seq, &res.Time)
		if err == nil {
			res.Duplicate = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// One's own message marks everything before it read.
		return tx.QueryRow(ctx, `WITH t AS (
				UPDATE staff_threads SET last_seq = last_seq + 1, last_at = now() WHERE id = $1 RETURNING last_seq),
			m AS (INSERT INTO staff_messages (thread_id, seq, author_id, client_id, text)
				SELECT $1, last_seq, $2, $3, $4 FROM t RETURNING seq, created_at),
			r AS (UPDATE staff_reads SET read_seq = (SELECT seq FROM m) WHERE thread_id = $1 AND user_id = $2)
			SELECT m.seq, m.created_at, u.display_name, u.role FROM m, users u WHERE u.id = $2`,
			id, p.UserID, in.ClientID, in.Text).Scan(&res.Seq, &res.Time, &author.Name, &author.Role)
	})
	if err != nil {
		return SendResult{}, err
	}
	if res.Duplicate {
		return res, nil
	}
	author.ID = p.UserID
	m := Message{ThreadID: id, Seq: res.Seq, Author: Person{ID: author.ID, Name: author.Name}, Text: in.Text,
		ClientID: in.ClientID, Time: res.Time}
	s.publish(p.UserID, EventMessage, MessageEvent{m, with})
	s.publish(with.ID, EventMessage, MessageEvent{m, author})
	return res, nil
}

// open makes the thread of users x and y, with a read mark for each, or
// finds it when another send made it first.
func (s *Service) open(ctx context.Context, x, y auth.UserID) (ThreadID, error) {
	a, b := pair(x, y)
	var id ThreadID
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO staff_threads (user_a, user_b) VALUES ($1, $2)
			ON CONFLICT (user_a, user_b) DO NOTHING RETURNING id`, a, b).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// Made meanwhile: ON CONFLICT waited for it to commit, so this
			// statement (a new snapshot) sees it.
			return tx.QueryRow(ctx, `SELECT id FROM staff_threads WHERE user_a = $1 AND user_b = $2`, a, b).Scan(&id)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO staff_reads (thread_id, user_id) VALUES ($1, $2), ($1, $3)`, id, a, b)
		return err
	})
	return id, err
}
