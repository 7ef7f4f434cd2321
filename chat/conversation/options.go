package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"parley/auth"
	"parley/chat/queues"
)

// Structured options: an agent's message may be a question with 2–6
// options (chat.send with options), which the customer answers by
// choosing one (chat.send with choice). The answer is the customer's
// message whose text is the option's label, linked to the question
// (Choice); a question is answered once (a unique index on the answers'
// choice_of). Both are messages like any other, numbered, exactly once by
// their client_id, but they go through sendStructured, one transaction
// under the conversation's stripe, instead of the batch writer: they are
// rare, and the answer reads and locks its question first.
//
// The columns (migration 0020) are conversation_events.options (the
// question's, jsonb), choice_of (the answer's question, by seq) and
// choice_option. Reads (withOptions) add Options, Choice and Answered to
// the events they return.

// Bounds of a question.
const (
	MinOptions     = 2
	MaxOptions     = 6
	MaxOptionLabel = 100 // code points
)

// Option is one button of a question; ids are 1, 2, 3… in order.
type Option struct {
	ID    int    `json:"id"`
	Label string `json:"label"`
}

// ChoiceInput is the customer's answer to a question: the question's seq
// as the customer numbers it, and the option's id.
type ChoiceInput struct {
	MessageSeq int `json:"message_seq"`
	OptionID   int `json:"option_id"`
}

// Choice links an answer to its question.
type Choice struct {
	QuestionSeq int `json:"question_seq"`
	OptionID    int `json:"option_id"`

	questionPublicSeq int
}

// Answered says, on a question read back, which option was chosen and by
// which message.
type Answered struct {
	OptionID int `json:"option_id"`
	Seq      int `json:"seq"`

	publicSeq int
}

// public is c as the customer numbers it.
func (c *Choice) public() *Choice {
	if c == nil {
		return nil
	}
	return &Choice{QuestionSeq: c.questionPublicSeq, OptionID: c.OptionID, questionPublicSeq: c.questionPublicSeq}
}

// public is a as the customer numbers it.
func (a *Answered) public() *Answered {
	if a == nil {
		return nil
	}
	return &Answered{OptionID: a.OptionID, Seq: a.publicSeq, publicSeq: a.publicSeq}
}

// structured says whether in is a question or an answer.
func structured(in SendInput) bool { return in.Options != nil || in.Choice != nil }

// checkStructured checks a question or an answer and returns the
// question's options, numbered.
func checkStructured(p auth.Principal, in *SendInput) ([]Option, error) {
	in.ClientID = strings.TrimSpace(in.ClientID)
	if err := queues.BadText("client_id", in.ClientID, "text", in.Text); err != nil {
		return nil, err
	}
	if in.ClientID == "" || len(in.ClientID) > 64 {
		return nil, queues.Bad("client_id: 1–64 characters, unique per message")
	}
	if len(in.Files) > 0 {
		return nil, queues.Bad("files: a question or an answer carries no files; send them in a message of their own")
	}
	if in.Choice != nil {
		switch {
		case in.Options != nil:
			return nil, queues.Bad("options: an answer (choice) cannot also be a question")
		case p.Kind != auth.KindVisitor:
			return nil, queues.Detail(queues.ErrForbidden, "choice: options are chosen by the chat's customer")
		case in.Private:
			return nil, queues.Detail(queues.ErrForbidden, "private messages are for agents")
		case in.Text != "":
			return nil, queues.Bad("text: leave it out with a choice; the answer's text is the option's label")
		case in.Choice.MessageSeq <= 0:
			return nil, queues.Bad(`"choice.message_seq" is required: the question's seq`)
		case in.Choice.OptionID <= 0:
			return nil, queues.Bad(`"choice.option_id" is required: the chosen option's id`)
		}
		return nil, nil
	}
	switch {
	case !p.IsStaff():
		return nil, queues.Detail(queues.ErrForbidden, "options: questions are asked by agents")
	case in.Private:
		return nil, queues.Bad("options: a question cannot be private (the customer answers it)")
	case strings.TrimSpace(in.Text) == "":
		return nil, queues.Bad("text: the question is empty")
	case utf8.RuneCountInString(in.Text) > queues.MaxText:
		return nil, queues.Detail(queues.ErrTooLong, fmt.Sprintf("text: %d characters, at most %d", utf8.RuneCountInString(in.Text), queues.MaxText))
	case len(in.Options) < MinOptions || len(in.Options) > MaxOptions:
		return nil, queues.Bad("options: %d to %d options, not %d", MinOptions, MaxOptions, len(in.Options))
	}
	opts := make([]Option, len(in.Options))
	for i, label := range in.Options {
		field := fmt.Sprintf("options[%d]", i)
		if err := queues.BadText(field, label); err != nil {
			return nil, err
		}
		label = strings.TrimSpace(label)
		if n := utf8.RuneCountInString(label); n < 1 || n > MaxOptionLabel {
			return nil, queues.Bad("%s: 1 to %d characters, not %d", field, MaxOptionLabel, n)
		}
		for _, o := range opts[:i] {
			if strings.EqualFold(o.Label, label) {
				return nil, queues.Bad("%s: %q is already option %d", field, label, o.ID)
			}
		}
		opts[i] = Option{ID: i + 1, Label: label}
	}
	return opts, nil
}

// sendStructured stores a question or an answer (see the top of this
// file) and publishes it.
func (s *Log) sendStructured(ctx context.Context, p auth.Principal, in SendInput) (SendResult, error) {
	opts, err := checkStructured(p, &in)
	if err != nil {
		return SendResult{}, err
	}
	c, q, acc, err := s.readable(ctx, p, in.ConversationID)
	if err != nil {
		return SendResult{}, err
	}
	if !acc.Write {
		return SendResult{}, queues.Conflict("the chat is closed")
	}
	unlock := s.Lock(in.ConversationID)
	defer unlock()
	ev := Event{ConversationID: in.ConversationID, Kind: KindMessage, Author: AuthorOf(p, c), Text: in.Text,
		ClientID: in.ClientID, Options: opts}
	var res SendResult
	for try := 0; ; try++ {
		res, err = s.storeStructured(ctx, p, in, &ev)
		// A resend through another node stored at the same moment: the
		// next try finds it.
		var pe *pgconn.PgError
		if try == 0 && errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "conversation_events_client" {
			continue
		}
		break
	}
	if err != nil || res.Duplicate {
		return res, err
	}
	s.Publish(q, ev)
	return res, nil
}

// storeStructured is sendStructured's transaction; ev is filled in.
func (s *Log) storeStructured(ctx context.Context, p auth.Principal, in SendInput, ev *Event) (SendResult, error) {
	var res SendResult
	customer := p.Kind == auth.KindVisitor
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var state string
		if err := tx.QueryRow(ctx, `SELECT state FROM conversations WHERE id = $1 FOR UPDATE`,
			in.ConversationID).Scan(&state); err != nil {
			return err
		}
		var seq, publicSeq int
		err := tx.QueryRow(ctx, `SELECT seq, coalesce(public_seq, 0), created_at FROM conversation_events
			WHERE conversation_id = $1 AND author_key = $2 AND client_id = $3`,
			in.ConversationID, p.Key(), in.ClientID).Scan(&seq, &publicSeq, &res.Time)
		if err == nil {
			res.Seq, res.Duplicate = seq, true
			if customer {
				res.Seq = publicSeq
			}
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if state == StateClosed || state == StateOffline {
			return queues.Conflict("the chat is closed")
		}
		if in.Choice != nil {
			if err := answer(ctx, tx, in, ev); err != nil {
				return err
			}
		}
		if err := Append(ctx, tx, ev); err != nil {
			return err
		}
		var options []byte
		var choiceOf, choiceOption *int
		if ev.Options != nil {
			if options, err = json.Marshal(ev.Options); err != nil {
				return err
			}
		}
		if ev.Choice != nil {
			choiceOf, choiceOption = &ev.Choice.QuestionSeq, &ev.Choice.OptionID
		}
		if _, err := tx.Exec(ctx, `UPDATE conversation_events SET options = $3, choice_of = $4, choice_option = $5
			WHERE conversation_id = $1 AND seq = $2`, ev.ConversationID, ev.Seq, options, choiceOf, choiceOption); err != nil {
			return err
		}
		if !customer {
			// A question is the agent's first response as much as a message.
			if _, err := tx.Exec(ctx, `UPDATE conversations SET first_response_at = coalesce(first_response_at, now())
				WHERE id = $1`, ev.ConversationID); err != nil {
				return err
			}
		}
		res = SendResult{Seq: ev.Seq, Time: ev.Time}
		if customer {
			res.Seq = ev.publicSeq
		}
		return nil
	})
	return res, err
}

// answer finds and locks the question in.Choice names (by the customer's
// numbering), checks the option and that it is not answered yet, and
// makes ev its answer.
func answer(ctx context.Context, tx pgx.Tx, in SendInput, ev *Event) error {
	ch := in.Choice
	var seq, publicSeq int
	var raw []byte
	err := tx.QueryRow(ctx, `SELECT seq, public_seq, options FROM conversation_events
		WHERE conversation_id = $1 AND public_seq = $2 AND NOT private FOR UPDATE`,
		in.ConversationID, ch.MessageSeq).Scan(&seq, &publicSeq, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return queues.Detail(queues.ErrNotFound, fmt.Sprintf("choice.message_seq: no message %d in this chat", ch.MessageSeq))
	}
	if err != nil {
		return err
	}
	if raw == nil {
		return queues.Bad("choice.message_seq: message %d is not a question", ch.MessageSeq)
	}
	var opts []Option
	if err := json.Unmarshal(raw, &opts); err != nil {
		return fmt.Errorf("chat: options of %d/%d: %w", in.ConversationID, seq, err)
	}
	label := ""
	for _, o := range opts {
		if o.ID == ch.OptionID {
			label = o.Label
		}
	}
	if label == "" {
		return queues.Bad("choice.option_id: question %d has no option %d", ch.MessageSeq, ch.OptionID)
	}
	var answered bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversation_events
		WHERE conversation_id = $1 AND choice_of = $2)`, in.ConversationID, seq).Scan(&answered); err != nil {
		return err
	}
	if answered {
		return queues.Conflict("choice: question %d is already answered", ch.MessageSeq)
	}
	ev.Text = label
	ev.Choice = &Choice{QuestionSeq: seq, OptionID: ch.OptionID, questionPublicSeq: publicSeq}
	return nil
}

// withOptions adds to the events of conversation id that are questions
// their Options (and Answered, once answered) and to answers their Choice.
func withOptions(ctx context.Context, db Querier, id ID, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	rows, err := db.Query(ctx, `SELECT seq, coalesce(public_seq, 0), options, choice_of, coalesce(choice_option, 0)
		FROM conversation_events WHERE conversation_id = $1 AND (options IS NOT NULL OR choice_of IS NOT NULL)`, id)
	if err != nil {
		return err
	}
	type question struct {
		publicSeq int
		options   []Option
		answered  *Answered
	}
	type reply struct {
		of, option int
	}
	questions := map[int]*question{}
	replies := map[int]reply{}
	for rows.Next() {
		var seq, publicSeq, option int
		var raw []byte
		var of *int
		if err := rows.Scan(&seq, &publicSeq, &raw, &of, &option); err != nil {
			rows.Close()
			return err
		}
		if raw != nil {
			qn := questions[seq]
			if qn == nil {
				qn = &question{}
				questions[seq] = qn
			}
			qn.publicSeq = publicSeq
			if err := json.Unmarshal(raw, &qn.options); err != nil {
				rows.Close()
				return fmt.Errorf("chat: options of %d/%d: %w", id, seq, err)
			}
		}
		if of != nil {
			replies[seq] = reply{*of, option}
			qn := questions[*of]
			if qn == nil {
				qn = &question{}
				questions[*of] = qn
			}
			qn.answered = &Answered{OptionID: option, Seq: seq, publicSeq: publicSeq}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range evs {
		ev := &evs[i]
		if qn, ok := questions[ev.Seq]; ok && qn.options != nil {
			ev.Options, ev.Answered = qn.options, qn.answered
		}
		if r, ok := replies[ev.Seq]; ok {
			ev.Choice = &Choice{QuestionSeq: r.of, OptionID: r.option}
			if qn := questions[r.of]; qn != nil {
				ev.Choice.questionPublicSeq = qn.publicSeq
			}
		}
	}
	return nil
}
