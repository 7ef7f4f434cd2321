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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, r := range batch {
			if err := s.store(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 && !store.IsUnavailable(err) {
		// One bad message must not fail the others: commit one by one.
		for _, r := range batch {
			if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.store(ctx, tx, r) }); err != nil {
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

// store writes one message inside tx, or finds the one already stored
// under its client id.
func (s *Service) store(ctx context.Context, tx pgx.Tx, r *sendReq) error {
	r.res, r.err = SendResult{}, nil
	err := tx.QueryRow(ctx, `SELECT seq, created_at FROM conversation_events
		WHERE conversation_id = $1 AND author_key = $2 AND client_id = $3`,
		r.ev.ConversationID, r.ev.Author.key, r.ev.ClientID).Scan(&r.res.Seq, &r.res.Time)
	if err == nil {
		r.res.Duplicate = true
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	// One statement checks the chat is open, numbers the message and, for
	// an agent's first public message, records the first response.
	var closed bool
	err = tx.QueryRow(ctx, `UPDATE conversations SET
			last_seq = CASE WHEN state = 'closed' THEN last_seq ELSE last_seq + 1 END,
			first_response_at = CASE WHEN $2 AND state <> 'closed' THEN coalesce(first_response_at, now())
			                         ELSE first_response_at END
		WHERE id = $1 RETURNING last_seq, state = 'closed'`,
		r.ev.ConversationID, r.staff && !r.ev.Private).Scan(&r.ev.Seq, &closed)
	if err != nil {
		return err
	}
	if closed {
		r.err = conflict("the chat is closed")
		return nil
	}
	if err := insertEvent(ctx, tx, &r.ev); err != nil {
		return err
	}
	r.res.Seq, r.res.Time = r.ev.Seq, r.ev.Time
	return nil
}

// finish answers the sender and, for a new message, tells the conversation.
// The caller holds the conversation's stripe.
func (s *Service) finish(r *sendReq) {
	if r.err == nil && !r.res.Duplicate {
		s.publishEvents(r.queue, r.ev)
	}
	close(r.done)
}
