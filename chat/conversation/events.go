package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/bus"
	"parley/chat/queues"
)

// stripeCount is how many mutexes the conversations share.
const stripeCount = 64

// Lock takes the stripes of ids in a fixed order and returns
// the function that releases them.
func (s *Log) Lock(ids ...ID) func() {
	var take [stripeCount]bool
	for _, id := range ids {
		take[uint64(id)%uint64(len(take))] = true
	}
	for i := range take {
		if take[i] {
			s.stripes[i].Lock()
		}
	}
	return func() {
		for i := len(take) - 1; i >= 0; i-- {
			if take[i] {
				s.stripes[i].Unlock()
			}
		}
	}
}

// Append numbers ev in its conversation and stores it, inside tx: a
// seq, and a public_seq unless it is private. The conversation's row lock
// (taken by the UPDATE) orders concurrent writers, so both numberings
// have no gaps and commit in order.
func Append(ctx context.Context, tx pgx.Tx, ev *Event) error {
	err := tx.QueryRow(ctx, `UPDATE conversations SET last_seq = last_seq + 1,
		last_public_seq = last_public_seq + CASE WHEN $2 THEN 0 ELSE 1 END
		WHERE id = $1 RETURNING last_seq, CASE WHEN $2 THEN 0 ELSE last_public_seq END`,
		ev.ConversationID, ev.Private).Scan(&ev.Seq, &ev.publicSeq)
	if errors.Is(err, pgx.ErrNoRows) {
		return queues.ErrNotFound
	}
	if err != nil {
		return err
	}
	return insertEvent(ctx, tx, ev)
}

// AppendTaken stores ev with the seq and public seq (0: a private event)
// the caller took in its own UPDATE of the conversation's row, where
// Append would take them in one more: the router's accept moves the
// chat's state and its seqs in one statement.
func AppendTaken(ctx context.Context, tx pgx.Tx, ev *Event, seq, publicSeq int) error {
	ev.Seq, ev.publicSeq = seq, publicSeq
	return insertEvent(ctx, tx, ev)
}

// insertEvent stores an event whose seq is already taken.
func insertEvent(ctx context.Context, tx pgx.Tx, ev *Event) error {
	var clientID, targetKind, targetName *string
	if ev.ClientID != "" {
		clientID = &ev.ClientID
	}
	if ev.Target != nil {
		targetKind, targetName = &ev.Target.Kind, &ev.Target.Name
	}
	return tx.QueryRow(ctx, `INSERT INTO conversation_events
		(conversation_id, seq, kind, author_kind, author_key, author_name, private, text, client_id, status, room_id,
		public_seq, target_kind, target_name, mentions, rating, reason, limit_seconds, contact, ticket)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, ''), nullif($12, 0), $13, $14, $15, nullif($16, 0), nullif($17, ''), nullif($18, 0), $19, $20) RETURNING created_at`,
		ev.ConversationID, ev.Seq, ev.Kind, ev.Author.Kind, ev.Author.key, ev.Author.Name, ev.Private,
		ev.Text, clientID, ev.Status, ev.RoomID, ev.publicSeq, targetKind, targetName, mentionsValue(ev.Mentions), ev.Rating, ev.Reason, ev.LimitSeconds,
		ev.Contact, ev.Ticket).Scan(&ev.Time)
}

const eventColumns = `conversation_id, seq, kind, author_kind, author_key, author_name, private, text,
	coalesce(client_id, ''), status, coalesce(room_id, ''), created_at, coalesce(public_seq, 0), target_kind, target_name, mentions, coalesce(rating, 0), coalesce(reason, ''), coalesce(limit_seconds, 0), files,
	contact, ticket`

func scanEvent(row pgx.Row) (Event, error) {
	var ev Event
	var targetKind, targetName *string
	err := row.Scan(&ev.ConversationID, &ev.Seq, &ev.Kind, &ev.Author.Kind, &ev.Author.key, &ev.Author.Name,
		&ev.Private, &ev.Text, &ev.ClientID, &ev.Status, &ev.RoomID, &ev.Time, &ev.publicSeq, &targetKind, &targetName, &ev.Mentions, &ev.Rating, &ev.Reason, &ev.LimitSeconds, &ev.Files,
		&ev.Contact, &ev.Ticket)
	if targetKind != nil && targetName != nil {
		ev.Target = &Target{Kind: *targetKind, Name: *targetName}
	}
	return ev, err
}

// events reads a conversation's events after a position: staff read every
// event after seq after; customers the public ones after public_seq after.
func (s *Log) events(ctx context.Context, id ID, after int, staff bool) ([]Event, error) {
	sql := `SELECT ` + eventColumns + ` FROM conversation_events
		WHERE conversation_id = $1 AND seq > $2 ORDER BY seq`
	if !staff {
		sql = `SELECT ` + eventColumns + ` FROM conversation_events
		WHERE conversation_id = $1 AND public_seq > $2 AND NOT private ORDER BY public_seq`
	}
	rows, err := s.pool.Query(ctx, sql, id, after)
	if err != nil {
		return nil, err
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) { return scanEvent(r) })
	if err != nil {
		return nil, err
	}
	return evs, withOptions(ctx, s.pool, id, evs)
}

// Publish sends committed events to the conversation's subjects: all
// of them to staff, the public ones (with agent names as the queue allows)
// to the customer. Callers hold the conversation's stripe.
func (s *Log) Publish(q queues.Queue, evs ...Event) {
	for _, ev := range evs {
		s.tellFloor(q.ID, ev.Kind)
		staff, err := eventFrame(ev)
		if err != nil {
			s.log.Error("encode event", "conversation", ev.ConversationID, "err", err)
			continue
		}
		s.bus.Publish(StaffSubject(ev.ConversationID), staff) //nolint:errcheck
		if ev.Private {
			continue
		}
		public := staff // the same bytes when the customer sees it as staff do
		// customerView changes only these (an event's Mentions, a slice,
		// make it incomparable; they are private anyway).
		if cv := customerView(q, ev); cv.Author != ev.Author || cv.Status != ev.Status || cv.Seq != ev.Seq {
			if public, err = eventFrame(cv); err != nil {
				continue
			}
		}
		s.bus.Publish(PublicSubject(ev.ConversationID), public) //nolint:errcheck
	}
}

// eventFrame is bus.Frame("chat.event", ev), encoded once instead of
// twice: the send path makes one or two per message. A plain event (a
// message's) is written without reflection (event_json.go).
func eventFrame(ev Event) ([]byte, error) {
	if frame, ok := appendPlainEvent(make([]byte, 0, 192+len(ev.Text)), ev); ok {
		return frame, nil
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("chat: encode event: %w", err)
	}
	const prefix = `{"type":"chat.event","data":`
	frame := make([]byte, 0, len(prefix)+len(data)+1)
	frame = append(append(append(frame, prefix...), data...), '}')
	return frame, nil
}

// PublishTo sends an event envelope to one principal's connections.
func (s *Log) PublishTo(key, typ string, data any) {
	frame, err := bus.Frame(typ, data)
	if err != nil {
		s.log.Error("encode event", "type", typ, "err", err)
		return
	}
	s.bus.Publish(bus.PrincipalSubject(key), frame) //nolint:errcheck
}

// PublishSubject sends an event envelope to a subject.
func (s *Log) PublishSubject(subject, typ string, data any) {
	frame, err := bus.Frame(typ, data)
	if err != nil {
		s.log.Error("encode event", "type", typ, "err", err)
		return
	}
	s.bus.Publish(subject, frame) //nolint:errcheck
}

// customerView is an event as the customer sees it: numbered by its
// public_seq, so nothing in the numbering tells of private events.
func customerView(q queues.Queue, ev Event) Event {
	if ev.Author.Kind == "agent" && !q.ShowAgentName {
		ev.Author.Name = q.Alias()
	}
	ev.Status = "" // the close status is the agents' business
	ev.Seq = ev.publicSeq
	ev.Choice, ev.Answered = ev.Choice.public(), ev.Answered.public()
	return ev
}

// customerConversation is a conversation as its customer sees it.
func customerConversation(q queues.Queue, c Conversation) Conversation {
	c.Customer.Online = nil
	c.Customer.ExternalID, c.Customer.Verified = "", nil // staff only
	c.CloseStatus = nil
	c.WrapUpDue = false
	c.WaitAlertAt = nil
	c.LastSeq = c.lastPublicSeq
	c.Agents = nil // staff only
	c.Important, c.FirstResponseAt, c.AwaitingReplySince = false, nil, nil
	c.Contact, c.Ticket = nil, nil // staff only
	if c.Agent != nil {
		a := AgentRef{Name: c.Agent.Name}
		if !q.ShowAgentName {
			a.Name = q.Alias()
		}
		c.Agent = &a
	}
	return c
}

// View adapts a conversation and its events to who is looking.
func (s *Log) View(p auth.Principal, q queues.Queue, c Conversation, evs []Event) (Conversation, []Event) {
	if p.IsStaff() {
		online := s.presence.Online(auth.Principal{Kind: auth.KindVisitor, Subject: c.visitor}.Key())
		c.Customer.Online = &online
		return c, evs
	}
	out := make([]Event, 0, len(evs))
	for _, ev := range evs {
		if !ev.Private {
			out = append(out, customerView(q, ev))
		}
	}
	return customerConversation(q, c), out
}

// WithQueue reads conversation id and its queue's settings.
func (s *Log) WithQueue(ctx context.Context, id ID) (Conversation, queues.Queue, error) {
	c, err := Get(ctx, s.pool, id, false)
	if err != nil {
		return c, queues.Queue{}, err
	}
	q, err := s.queue(ctx, c.Queue.ID)
	return c, q, err
}

// PublishWaiting tells the queue's agents that chat c waits.
func (s *Log) PublishWaiting(q queues.Queue, c Conversation) {
	view, _ := s.View(auth.Principal{Kind: auth.KindUser}, q, c, nil)
	s.PublishSubject(WaitingSubject(q.ID), "queue.entry", map[string]any{"conversation": view})
}

// AgentAuthor is agent user, named name, as the author of an event.
func AgentAuthor(name string, user auth.UserID) Author {
	return Author{Kind: "agent", Name: name, key: auth.Principal{Kind: auth.KindUser, UserID: user}.Key()}
}
