package staff

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// Threads lists p's threads, the most recently written first, each with
// its unread count and newest message.
func (s *Service) Threads(ctx context.Context, p auth.Principal) ([]Thread, error) {
	if err := may(p); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT t.id, u.id, u.display_name, u.role, t.last_seq, r.read_seq,
			m.seq, m.author_id, a.display_name, m.text, m.client_id, m.created_at
		FROM staff_reads r
		JOIN staff_threads t ON t.id = r.thread_id
		JOIN users u ON u.id = CASE WHEN t.user_a = $1 THEN t.user_b ELSE t.user_a END
		LEFT JOIN staff_messages m ON m.thread_id = t.id AND m.seq = t.last_seq
		LEFT JOIN users a ON a.id = m.author_id
		WHERE r.user_id = $1
		ORDER BY t.last_at DESC NULLS LAST, t.id DESC`, p.UserID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Thread, error) {
		var t Thread
		var seq *int64
		var m Message
		var authorName, text, clientID *string
		var authorID *auth.UserID
		var at *time.Time
		err := r.Scan(&t.ID, &t.With.ID, &t.With.Name, &t.With.Role, &t.LastSeq, &t.ReadSeq,
			&seq, &authorID, &authorName, &text, &clientID, &at)
		if err != nil || seq == nil {
			return t.counted(), err
		}
		m.ThreadID, m.Seq, m.Author, m.Text, m.ClientID, m.Time = t.ID, *seq, Person{ID: *authorID, Name: *authorName}, *text, *clientID, *at
		t.Last = &m
		return t.counted(), nil
	})
}

// counted sets Unread from the marks.
func (t Thread) counted() Thread {
	t.Unread = max(t.LastSeq-t.ReadSeq, 0)
	return t
}

// Resume returns p's thread named by ref and its messages after afterSeq,
// oldest first, at most MaxResume of them (more says there are others
// after them: ask again after the last). A pair that has written nothing
// yet has a thread with id 0 and no messages. Every connection of p
// already receives the thread's live events (staff.message), so a client
// that keeps the highest seq it has shown and drops anything at or below
// it sees each message once, in order.
func (s *Service) Resume(ctx context.Context, p auth.Principal, ref Ref, afterSeq int64) (t Thread, msgs []Message, more bool, err error) {
	if afterSeq < 0 {
		return Thread{}, nil, false, bad(`"after_seq" must be 0 or more`)
	}
	id, with, err := resolve(ctx, s.pool, p, ref, false)
	if err != nil {
		return Thread{}, nil, false, err
	}
	t = Thread{ID: id, With: with}
	msgs = []Message{}
	if id == 0 {
		return t, msgs, false, nil
	}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT t.last_seq, r.read_seq FROM staff_threads t
			JOIN staff_reads r ON r.thread_id = t.id AND r.user_id = $2 WHERE t.id = $1`, id, p.UserID).Scan(&t.LastSeq, &t.ReadSeq)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT m.seq, m.author_id, u.display_name, m.text, m.client_id, m.created_at
			FROM staff_messages m JOIN users u ON u.id = m.author_id
			WHERE m.thread_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3`, id, afterSeq, MaxResume+1)
		if err != nil {
			return err
		}
		msgs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) {
			m := Message{ThreadID: id}
			return m, r.Scan(&m.Seq, &m.Author.ID, &m.Author.Name, &m.Text, &m.ClientID, &m.Time)
		})
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Thread{}, nil, false, notFound("no such thread")
	}
	if err != nil {
		return Thread{}, nil, false, err
	}
	if len(msgs) > MaxResume {
		msgs, more = msgs[:MaxResume], true
	}
	if len(msgs) > 0 {
		t.Last = &msgs[len(msgs)-1]
	}
	return t.counted(), msgs, more, nil
}

// Read moves p's read mark of the thread ref names up to seq (never back,
// never past the last message) and tells p's connections (staff.read), so
// every tab's badge follows. It answers the thread with its new count.
func (s *Service) Read(ctx context.Context, p auth.Principal, ref Ref, seq int64) (Thread, error) {
	if seq < 0 {
		return Thread{}, bad(`"seq" must be 0 or more`)
	}
	id, with, err := resolve(ctx, s.pool, p, ref, false)
	if err != nil {
		return Thread{}, err
	}
	t := Thread{ID: id, With: with}
	if id == 0 {
		return t, nil
	}
	err = s.pool.QueryRow(ctx, `UPDATE staff_reads r SET read_seq = greatest(r.read_seq, least($3, t.last_seq))
		FROM staff_threads t WHERE t.id = r.thread_id AND r.thread_id = $1 AND r.user_id = $2
		RETURNING t.last_seq, r.read_seq`, id, p.UserID, seq).Scan(&t.LastSeq, &t.ReadSeq)
	if errors.Is(err, pgx.ErrNoRows) {
		return Thread{}, notFound("no such thread")
	}
	if err != nil {
		return Thread{}, err
	}
	t = t.counted()
	s.publish(p.UserID, EventRead, ReadEvent{ThreadID: id, With: with.ID, ReadSeq: t.ReadSeq, Unread: t.Unread})
	return t, nil
}
