package chat

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/store"
)

// MaxText is the longest message, in characters.
const MaxText = 4000

// SendInput is one message.
type SendInput struct {
	ConversationID ConversationID `json:"conversation_id"`
	ClientID       string         `json:"client_id"`
	Text           string         `json:"text"`
	Private        bool           `json:"private"`
}

// SendResult is the acknowledgement of a committed message.
type SendResult struct {
	Seq       int       `json:"seq"`
	Time      time.Time `json:"time"`
	Duplicate bool      `json:"duplicate"`
}

type sendReq struct {
	ev    Event
	queue Queue
	staff bool
	res   SendResult
	err   error
	done  chan struct{}
}

// Send stores a message and returns once it is committed. Messages that
// arrive together are committed in one transaction by the writer.
func (s *Service) Send(ctx context.Context, p auth.Principal, in SendInput) (SendResult, error) {
	in.ClientID = strings.TrimSpace(in.ClientID)
	switch {
	case in.ClientID == "" || len(in.ClientID) > 64:
		return SendResult{}, bad("client_id: 1–64 characters, unique per message")
	case strings.TrimSpace(in.Text) == "":
		return SendResult{}, bad("text: the message is empty")
	case utf8.RuneCountInString(in.Text) > MaxText:
		return SendResult{}, bad("text: at most %d characters", MaxText)
	case !utf8.ValidString(in.Text):
		return SendResult{}, bad("text: not valid UTF-8")
	case in.Private && !p.IsStaff():
		return SendResult{}, detail{ErrForbidden, "private messages are for agents"}
	}
	c, err := getConversation(ctx, s.pool, in.ConversationID, false)
	if err != nil {
		return SendResult{}, err
	}
	if err := s.mayRead(ctx, p, c); err != nil {
		return SendResult{}, err
	}
	q, err := s.queue(ctx, c.Queue.ID)
	if err != nil {
		return SendResult{}, err
	}
	r := &sendReq{
		ev: Event{ConversationID: in.ConversationID, Kind: KindMessage, Author: author(p, c), Text: in.Text,
			Private: in.Private, ClientID: in.ClientID},
		queue: q,
		staff: p.IsStaff(),
		done:  make(chan struct{}),
	}
	select {
	case s.sends <- r:
	case <-ctx.Done():
		return SendResult{}, ctx.Err()
	}
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		// The writer will still commit it; a resend with the same
		// client_id gets the stored seq.
		return SendResult{}, ctx.Err()
	}
}

// writeLoop takes what has arrived, up to BatchMax, and commits it in one
// transaction; then everyone in the batch is answered.
func (s *Service) writeLoop(ctx context.Context) {
	batch := make([]*sendReq, 0, s.opt.BatchMax)
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.sends:
			batch = append(batch[:0], r)
		}
	fill:
		for len(batch) < s.opt.BatchMax {
			select {
			case r := <-s.sends:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(ctx, batch)
	}
}

func (s *Service) commit(ctx context.Context, batch []*sendReq) {
	ids := make([]ConversationID, len(batch))
	for i, r := range batch {
		ids[i] = r.ev.ConversationID
	}
	unlock := s.lockConversations(ids...)
	defer unlock()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.storeAll(ctx, tx, batch) })
	if err != nil && len(batch) > 1 && !store.IsUnavailable(err) {
		// One bad message must not fail the others: commit one by one.
		for _, r := range batch {
			one := []*sendReq{r}
			if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.storeAll(ctx, tx, one) }); err != nil {
				r.err = err
			}
			s.finish(r)
		}
		return
	}
	for _, r := range batch {
		if err != nil {
			r.err = err
		}
		s.finish(r)
	}
}

// storeSQL writes one message, or finds the one already stored under its
// client id, in one statement: the duplicate check, the numbering (only
// of an open chat, recording an agent's first public response) and the
// insert. It answers what happened: "dup" or "new" with the seq and time,
// or no row when the chat is closed.
const storeSQL = `WITH dup AS (
		SELECT seq, created_at FROM conversation_events
		WHERE conversation_id = $1 AND author_key = $2 AND client_id = $3
	), num AS (
		UPDATE conversations SET last_seq = last_seq + 1,
			first_response_at = CASE WHEN $4 THEN coalesce(first_response_at, now()) ELSE first_response_at END
		WHERE id = $1 AND state <> 'closed' AND NOT EXISTS (SELECT 1 FROM dup)
		RETURNING last_seq
	), ins AS (
		INSERT INTO conversation_events
			(conversation_id, seq, kind, author_kind, author_key, author_name, private, text, client_id, status)
		SELECT $1, num.last_seq, $5, $6, $2, $7, $8, $9, $3, '' FROM num
		RETURNING seq, created_at
	)
	SELECT true, seq, created_at FROM dup
	UNION ALL SELECT false, seq, created_at FROM ins`

// storeAll writes a batch inside tx with one round trip: the statements
// are pipelined, and run in order, so messages of one chat are numbered
// in the order they came and a resend later in the batch finds the first.
func (s *Service) storeAll(ctx context.Context, tx pgx.Tx, batch []*sendReq) error {
	b := &pgx.Batch{}
	for _, r := range batch {
		r.res, r.err = SendResult{}, nil
		b.Queue(storeSQL, r.ev.ConversationID, r.ev.Author.key, r.ev.ClientID, r.staff && !r.ev.Private,
			r.ev.Kind, r.ev.Author.Kind, r.ev.Author.Name, r.ev.Private, r.ev.Text)
	}
	results := tx.SendBatch(ctx, b)
	for _, r := range batch {
		var dup bool
		err := results.QueryRow().Scan(&dup, &r.res.Seq, &r.res.Time)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			r.err = conflict("the chat is closed")
		case err != nil:
			results.Close()
			return err
		case dup:
			r.res.Duplicate = true
		default:
			r.ev.Seq, r.ev.Time = r.res.Seq, r.res.Time
		}
	}
	return results.Close()
}

// finish answers the sender and, for a new message, tells the conversation.
// The caller holds the conversation's stripe.
func (s *Service) finish(r *sendReq) {
	if r.err == nil && !r.res.Duplicate {
		s.publishEvents(r.queue, r.ev)
	}
	close(r.done)
}
