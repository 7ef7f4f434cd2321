package queues

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// CannedID identifies a canned response.
type CannedID int64

// MaxCannedTitle is the longest title of a canned response, in characters.
const MaxCannedTitle = 100

// Canned is a canned response as admins manage it: a queue's ready-made
// reply, with who made and last changed it (0 once the account is gone).
type Canned struct {
	ID        CannedID    `json:"id"`
	QueueID   QueueID     `json:"queue_id"`
	Title     string      `json:"title"`
	Text      string      `json:"text"`
	Position  int         `json:"position"`
	CreatedBy auth.UserID `json:"created_by"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedBy auth.UserID `json:"updated_by"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// CannedItem is a canned response as an agent's desk reads it.
type CannedItem struct {
	ID      CannedID `json:"id"`
	QueueID QueueID  `json:"queue_id"`
	Title   string   `json:"title"`
	Text    string   `json:"text"`
}

// CannedInput is what an admin writes of a canned response.
type CannedInput struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// validate checks in and trims the title; the text is kept as written
// (the agent sees it as the admin wrote it) unless it is only blanks.
func (in *CannedInput) validate() error {
	if err := BadText("title", in.Title, "text", in.Text); err != nil {
		return err
	}
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "" || utf8.RuneCountInString(in.Title) > MaxCannedTitle:
		return Bad("title: 1–%d characters", MaxCannedTitle)
	case strings.TrimSpace(in.Text) == "":
		return Bad("text: the reply the agent inserts, 1–%d characters", MaxText)
	case utf8.RuneCountInString(in.Text) > MaxText:
		return Bad("text: at most %d characters", MaxText)
	}
	return nil
}

const cannedColumns = `id, queue_id, title, text, position, coalesce(created_by, 0), created_at, coalesce(updated_by, 0), updated_at`

func scanCanned(row pgx.Row) (Canned, error) {
	var c Canned
	err := row.Scan(&c.ID, &c.QueueID, &c.Title, &c.Text, &c.Position, &c.CreatedBy, &c.CreatedAt, &c.UpdatedBy, &c.UpdatedAt)
	if err == pgx.ErrNoRows {
		return c, Detail(ErrNotFound, "no such canned response")
	}
	return c, err
}

// cannedQueue is queue key's id, for an admin.
func (s *Store) cannedQueue(ctx context.Context, p auth.Principal, key string) (QueueID, error) {
	if err := mustAdmin(p); err != nil {
		return 0, err
	}
	q, err := s.ByKey(ctx, key)
	return q.ID, err
}

// Canned lists queue key's canned responses in their order, for admins.
func (s *Store) Canned(ctx context.Context, p auth.Principal, key string) ([]Canned, error) {
	id, err := s.cannedQueue(ctx, p, key)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+cannedColumns+` FROM canned_responses WHERE queue_id = $1 ORDER BY position, id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Canned, error) { return scanCanned(r) })
}

// CreateCanned adds a canned response at the end of queue key's list,
// for admins.
func (s *Store) CreateCanned(ctx context.Context, p auth.Principal, key string, in CannedInput) (Canned, error) {
	id, err := s.cannedQueue(ctx, p, key)
	if err != nil {
		return Canned{}, err
	}
	if err := in.validate(); err != nil {
		return Canned{}, err
	}
	return scanCanned(s.pool.QueryRow(ctx, `INSERT INTO canned_responses (queue_id, title, text, position, created_by, updated_by)
		VALUES ($1, $2, $3, (SELECT coalesce(max(position), 0) + 1 FROM canned_responses WHERE queue_id = $1), $4, $4)
		RETURNING `+cannedColumns, id, in.Title, in.Text, p.UserID))
}

// UpdateCanned replaces the title and text of queue key's canned
// response id, for admins.
func (s *Store) UpdateCanned(ctx context.Context, p auth.Principal, key string, id CannedID, in CannedInput) (Canned, error) {
	q, err := s.cannedQueue(ctx, p, key)
	if err != nil {
		return Canned{}, err
	}
	if err := in.validate(); err != nil {
		return Canned{}, err
	}
	return scanCanned(s.pool.QueryRow(ctx, `UPDATE canned_responses SET title = $3, text = $4, updated_by = $5, updated_at = now()
		WHERE queue_id = $1 AND id = $2 RETURNING `+cannedColumns, q, id, in.Title, in.Text, p.UserID))
}

// DeleteCanned removes queue key's canned response id, for admins.
func (s *Store) DeleteCanned(ctx context.Context, p auth.Principal, key string, id CannedID) error {
	q, err := s.cannedQueue(ctx, p, key)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM canned_responses WHERE queue_id = $1 AND id = $2`, q, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return Detail(ErrNotFound, "no such canned response")
	}
	return nil
}

// OrderCanned puts queue key's canned responses in the order of ids,
// which names each of them once, for admins, and answers the list.
func (s *Store) OrderCanned(ctx context.Context, p auth.Principal, key string, ids []CannedID) ([]Canned, error) {
	q, err := s.cannedQueue(ctx, p, key)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM canned_responses WHERE queue_id = $1 ORDER BY id FOR UPDATE`, q)
		if err != nil {
			return err
		}
		have, err := pgx.CollectRows(rows, pgx.RowTo[CannedID])
		if err != nil {
			return err
		}
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		if !slices.Equal(have, sorted) {
			return Bad("ids: each of the queue's canned responses once, in the new order")
		}
		_, err = tx.Exec(ctx, `UPDATE canned_responses c SET position = o.n
			FROM unnest($2::bigint[]) WITH ORDINALITY AS o(id, n) WHERE c.queue_id = $1 AND c.id = o.id`, q, ids)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Canned(ctx, p, key)
}

// CannedFor lists the canned responses of every queue p is a member of,
// each queue's in its order: what p's desk offers in the chats of those
// queues. Staff only; a queue p is not a member of shows none.
func (s *Store) CannedFor(ctx context.Context, p auth.Principal) ([]CannedItem, error) {
	if !p.IsStaff() {
		return nil, Detail(ErrForbidden, "canned responses are for staff")
	}
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.queue_id, c.title, c.text FROM canned_responses c
		JOIN queue_members m ON m.queue_id = c.queue_id AND m.user_id = $1
		ORDER BY c.queue_id, c.position, c.id`, p.UserID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[CannedItem])
}
