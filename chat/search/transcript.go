package search

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Transcript is a conversation as history.get shows it: every event,
// private ones and comments included, each with its offset from the
// start.
type Transcript struct {
	Conversation conversation.Conversation `json:"conversation"`
	Important    bool                      `json:"important"`
	Events       []Entry                   `json:"events"`
	// Feedback is the customer's rating of the chat (chat.feedback), or
	// null when none was given.
	Feedback *conversation.Feedback `json:"feedback"`
}

// Entry is an event of a transcript and how long after the
// conversation started it happened.
type Entry struct {
	conversation.Event
	OffsetMS int64 `json:"offset_ms"`
}

// Get is conversation id's transcript, for staff who may see it (the
// rule of rule.go); not_found for the others, as for an id that does not
// exist.
func (s *Searcher) Get(ctx context.Context, p auth.Principal, id conversation.ID) (Transcript, error) {
	w, err := whoIs(ctx, s.pool, p)
	if err != nil {
		return Transcript{}, err
	}
	var t Transcript
	t.Conversation, err = conversation.Scan(s.pool.QueryRow(ctx, `SELECT `+conversation.Columns+`, c.important`+
		conversation.From+` WHERE c.id = $1`, id), &t.Important)
	if err != nil {
		return Transcript{}, err
	}
	if !w.sees(t.Conversation) {
		return Transcript{}, queues.ErrNotFound
	}
	evs, err := conversation.Transcript(ctx, s.pool, id)
	if err != nil {
		return Transcript{}, err
	}
	if t.Feedback, err = conversation.StoredFeedback(ctx, s.pool, id); err != nil {
		return Transcript{}, err
	}
	t.Events = make([]Entry, len(evs))
	for i, ev := range evs {
		t.Events[i] = Entry{ev, ev.Time.Sub(t.Conversation.QueuedAt).Milliseconds()}
	}
	return t, nil
}

// Mark sets or clears conversation id's important mark, for staff who
// may see it; not_found for the others.
func (s *Searcher) Mark(ctx context.Context, p auth.Principal, id conversation.ID, important bool) error {
	w, err := whoIs(ctx, s.pool, p)
	if err != nil {
		return err
	}
	c, err := conversation.Get(ctx, s.pool, id, false)
	if err != nil {
		return err
	}
	if !w.sees(c) {
		return queues.ErrNotFound
	}
	_, err = s.pool.Exec(ctx, `UPDATE conversations SET important = $2 WHERE id = $1`, id, important)
	return err
}

// Choice is a queue or an agent a search may filter by.
type Choice struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Filters are the queues and agents p may filter a search by: the
// queues p oversees (all of them for admins) or is a member of, and
// their agents; an agent is offered itself only.
func (s *Searcher) Filters(ctx context.Context, p auth.Principal) (qs, agents []Choice, err error) {
	w, err := whoIs(ctx, s.pool, p)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT q.id, q.name FROM queues q
		WHERE $1 OR q.id = ANY ($2) OR q.id IN (SELECT queue_id FROM queue_members WHERE user_id = $3)
		ORDER BY q.name, q.id`, w.all, w.queues, w.user)
	if err != nil {
		return nil, nil, err
	}
	if qs, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Choice]); err != nil {
		return nil, nil, err
	}
	rows, err = s.pool.Query(ctx, `SELECT u.id, u.display_name FROM users u
		WHERE u.id = $3 OR (u.role = 'agent' AND ($1 OR EXISTS (SELECT 1 FROM queue_members m
			WHERE m.user_id = u.id AND m.queue_id = ANY ($2))))
		ORDER BY u.display_name, u.id`, w.all, w.queues, w.user)
	if err != nil {
		return nil, nil, err
	}
	if agents, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Choice]); err != nil {
		return nil, nil, err
	}
	return qs, agents, nil
}
