package conversation

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// Feedback: when the queue a chat started in asks for it
// (queues.Queue.Feedback), its customer rates the ended chat 1–5 with an
// optional note, once (chat.feedback). The conversation keeps it
// (feedback_rating, feedback_comment, feedback_at: Conversation's
// FeedbackGiven, the transcript's Feedback), and a private event of kind
// feedback carries it to staff live and into every transcript; the
// customer's numbering is untouched.

// MaxFeedbackComment is the longest note, in code points.
const MaxFeedbackComment = 1000

// FeedbackInput is a customer's rating of a chat.
type FeedbackInput struct {
	ConversationID ID     `json:"conversation_id"`
	Rating         int    `json:"rating"`
	Comment        string `json:"comment"`
}

// Feedback is a chat's stored rating, as a transcript shows it.
type Feedback struct {
	Rating  int       `json:"rating"`
	Comment string    `json:"comment"`
	Time    time.Time `json:"time"`
}

func (in *FeedbackInput) validate() error {
	if err := queues.BadText("comment", in.Comment); err != nil {
		return err
	}
	in.Comment = strings.TrimSpace(in.Comment)
	switch n := utf8.RuneCountInString(in.Comment); {
	case in.ConversationID <= 0:
		return queues.Bad(`"conversation_id" is required`)
	case in.Rating < 1 || in.Rating > 5:
		return queues.Bad("rating: an integer from 1 to 5")
	case n > MaxFeedbackComment:
		return queues.Bad("comment: %d characters, at most %d", n, MaxFeedbackComment)
	}
	return nil
}

// GiveFeedback stores the rating of a closed chat by its own customer and
// tells its staff (a private feedback event). Staff and guests are
// forbidden; another customer's chat is not_found; a chat still open, a
// queue that does not ask, or a second rating is a conflict.
func (s *Log) GiveFeedback(ctx context.Context, p auth.Principal, in FeedbackInput) (Feedback, error) {
	if p.Kind != auth.KindVisitor {
		return Feedback{}, queues.Detail(queues.ErrForbidden, "feedback is given by the chat's customer")
	}
	if err := in.validate(); err != nil {
		return Feedback{}, err
	}
	c, q, _, err := s.readable(ctx, p, in.ConversationID)
	if err != nil {
		return Feedback{}, err
	}
	origin, err := s.queue(ctx, c.originQueue)
	if err != nil {
		return Feedback{}, err
	}
	if !origin.Feedback {
		return Feedback{}, queues.Conflict("this queue does not ask for feedback")
	}
	unlock := s.Lock(in.ConversationID)
	defer unlock()
	ev := Event{ConversationID: in.ConversationID, Kind: KindFeedback, Author: AuthorOf(p, c), Text: in.Comment,
		Rating: in.Rating, Private: true}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var state string
		var given bool
		if err := tx.QueryRow(ctx, `SELECT state, feedback_rating IS NOT NULL FROM conversations WHERE id = $1 FOR UPDATE`,
			in.ConversationID).Scan(&state, &given); err != nil {
			return err
		}
		switch {
		case state != StateClosed:
			return queues.Conflict("the chat has not ended yet")
		case given:
			return queues.Conflict("feedback was already given for this chat")
		}
		if err := Append(ctx, tx, &ev); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE conversations SET feedback_rating = $2, feedback_comment = $3, feedback_at = $4
			WHERE id = $1`, in.ConversationID, in.Rating, in.Comment, ev.Time)
		return err
	})
	if err != nil {
		return Feedback{}, err
	}
	s.Publish(q, ev)
	return Feedback{Rating: ev.Rating, Comment: ev.Text, Time: ev.Time}, nil
}

// StoredFeedback is conversation id's feedback, or nil when none was
// given. The caller has checked that its reader may see the chat.
func StoredFeedback(ctx context.Context, db Querier, id ID) (*Feedback, error) {
	var rating *int
	var f Feedback
	err := db.QueryRow(ctx, `SELECT feedback_rating, coalesce(feedback_comment, ''), coalesce(feedback_at, now())
		FROM conversations WHERE id = $1`, id).Scan(&rating, &f.Comment, &f.Time)
	if err != nil || rating == nil {
		return nil, err
	}
	f.Rating = *rating
	return &f, nil
}
