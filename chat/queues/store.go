package queues

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
)

// Store reads and writes the queues and their members.
type Store struct {
	pool  *pgxpool.Pool
	cache Cache
	// keys maps a queue's public key to its id, so that ByKey (every
	// visitor token, every chat.start) reads the settings from cache as
	// Get does. It is only a hint: what it points at is checked.
	keys sync.Map // string → QueueID

	// changed, when set, is told of each queue an admin saved, with the
	// members it lost.
	changed func(ctx context.Context, id QueueID, removed []auth.UserID)
}

// New makes the store over pool, keeping settings in cache (NewLocalCache
// on one node).
func New(pool *pgxpool.Pool, cache Cache) *Store {
	return &Store{pool: pool, cache: cache}
}

// OnChange sets the function told of each queue an admin saved and the
// members it lost (their access to its waiting list ends; waiting chats
// may go through); call it before the store is used.
func (s *Store) OnChange(f func(ctx context.Context, id QueueID, removed []auth.UserID)) {
	s.changed = f
}

// Get returns queue id's settings, from the cache when it has them.
func (s *Store) Get(ctx context.Context, id QueueID) (Queue, error) {
	if q, ok := s.cache.Get(id); ok {
		return q, nil
	}
	q, err := scanQueue(s.pool.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE id = $1`, id))
	if err != nil {
		return q, err
	}
	s.cache.Put(q)
	return q, nil
}

// Cached returns queue id's settings if the cache has them, reading
// nothing: for a caller inside a transaction, which must not wait for a
// second connection of the pool while it holds one.
func (s *Store) Cached(id QueueID) (Queue, bool) { return s.cache.Get(id) }

// Forget drops queue id from the cache after it changed.
func (s *Store) Forget(id QueueID) { s.cache.Forget(id) }

const queueColumns = `id, key, name, title, color, greeting, show_agent_name, agent_alias, email_mode,
	extra_label, extra_mode, strategy, capacity, answer_seconds, allowed_origins, statuses, customer_calls, wait_alert_seconds, rr_last_user,
	service_level_seconds, chat_time_limits, feedback, disabled, time_zone, hours, holidays, offline_message,
	unavailable_message, offline_form, offline_email, max_waiting, max_wait_seconds, auto_finish_seconds,
	missed_offers, verified_only, file_max_bytes, file_types, transcript_email`

// scanQueue reads queueColumns, then extra columns selected after them
// into extra.
func scanQueue(row pgx.Row, extra ...any) (Queue, error) {
	var q Queue
	err := row.Scan(append([]any{&q.ID, &q.Key, &q.Name, &q.Title, &q.Color, &q.Greeting, &q.ShowAgentName, &q.AgentAlias,
		&q.EmailMode, &q.ExtraLabel, &q.ExtraMode, &q.Strategy, &q.Capacity, &q.AnswerSeconds,
		&q.AllowedOrigins, &q.Statuses, &q.CustomerCalls, &q.WaitAlertSeconds, &q.RRLast,
		&q.ServiceLevelSeconds, &q.ChatTimeLimits, &q.Feedback, &q.Disabled, &q.TimeZone, &q.Hours, &q.Holidays,
		&q.OfflineMessage, &q.UnavailableMessage, &q.OfflineForm, &q.OfflineEmail, &q.MaxWaiting, &q.MaxWaitSeconds,
		&q.AutoFinishSeconds, &q.MissedOffers, &q.VerifiedOnly, &q.FileMaxBytes, &q.FileTypes, &q.TranscriptEmail}, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return q, Detail(ErrNotFound, "no such queue")
	}
	return q, err
}

// ByKey finds a queue by its public key (the widget's).
func (s *Store) ByKey(ctx context.Context, key string) (Queue, error) {
	if err := BadText("key", key); err != nil {
		return Queue{}, err
	}
	if id, ok := s.keys.Load(key); ok {
		// The cached queue is the one Get would answer; a queue renamed
		// or deleted since no longer matches, and is read again.
		if q, ok := s.cache.Get(id.(QueueID)); ok && q.Key == key {
			return q, nil
		}
	}
	q, err := scanQueue(s.pool.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE key = $1`, key))
	if err != nil {
		return q, err
	}
	s.cache.Put(q)
	s.keys.Store(key, q.ID)
	return q, nil
}

// Create adds a queue with its members. Settings are checked and
// empty ones take their defaults, as for an admin's Save.
func (s *Store) Create(ctx context.Context, q Queue, members ...auth.UserID) (Queue, error) {
	if err := q.validate(); err != nil {
		return Queue{}, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO queues (key, name, title, color, greeting, show_agent_name, agent_alias,
			email_mode, extra_label, extra_mode, strategy, capacity, answer_seconds, allowed_origins, statuses, customer_calls,
			wait_alert_seconds, service_level_seconds, chat_time_limits, feedback, disabled, time_zone, hours, holidays,
			offline_message, unavailable_message, offline_form, offline_email, max_waiting, max_wait_seconds,
			auto_finish_seconds, missed_offers, verified_only, file_max_bytes, file_types, transcript_email)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
				$21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36) RETURNING id`,
			q.Key, q.Name, q.Title, q.Color, q.Greeting, q.ShowAgentName, q.AgentAlias, q.EmailMode, q.ExtraLabel,
			q.ExtraMode, q.Strategy, q.Capacity, q.AnswerSeconds, q.AllowedOrigins, q.Statuses, q.CustomerCalls,
			q.WaitAlertSeconds, q.ServiceLevelSeconds, q.ChatTimeLimits, q.Feedback, q.Disabled, q.TimeZone, q.Hours,
			q.Holidays, q.OfflineMessage, q.UnavailableMessage, q.OfflineForm, q.OfflineEmail, q.MaxWaiting,
			q.MaxWaitSeconds, q.AutoFinishSeconds, q.MissedOffers, q.VerifiedOnly, q.FileMaxBytes, q.FileTypes, q.TranscriptEmail).Scan(&q.ID)
		if err != nil {
			return err
		}
		for _, m := range members {
			if _, err := tx.Exec(ctx, `INSERT INTO queue_members (queue_id, user_id) VALUES ($1, $2)`, q.ID, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Queue{}, fmt.Errorf("chat: create queue %s: %w", q.Key, err)
	}
	return q, nil
}

// EnsureDemo creates the demo queue (key "demo") with the given
// members when there is no queue at all, and reports whether it did.
func (s *Store) EnsureDemo(ctx context.Context, origins []string, members ...auth.UserID) (bool, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM queues`).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	_, err := s.Create(ctx, Queue{
		Key: "demo", Name: "Sales", Title: "Chat with Acme", Color: "#2f6fed",
		Greeting:      "Hi! Thanks for reaching out to Acme. How can we help?",
		ShowAgentName: true, EmailMode: "optional", ExtraLabel: "Phone", ExtraMode: "optional",
		Strategy: LongestIdle, Capacity: 3, AnswerSeconds: 30,
		AllowedOrigins: origins, Statuses: []string{"Resolved", "Follow-up needed", "Spam"},
		CustomerCalls: true, Feedback: true,
	}, members...)
	return err == nil, err
}

func mustAdmin(p auth.Principal) error {
	if !p.Is(auth.RoleAdmin) {
		return detail{ErrForbidden, "configuring queues needs the admin role"}
	}
	return nil
}

// List lists every queue with its members.
func (s *Store) List(ctx context.Context, p auth.Principal) ([]QueueConfig, error) {
	if err := mustAdmin(p); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+queueColumns+`,
		coalesce((SELECT array_agg(u.username ORDER BY u.username) FROM queue_members m JOIN users u ON u.id = m.user_id
		          WHERE m.queue_id = queues.id), '{}') FROM queues ORDER BY name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueConfig, error) {
		var c QueueConfig
		var err error
		c.Queue, err = scanQueue(r, &c.Members)
		return c, err
	})
}

// Save creates the queue c.Key or replaces its settings and members.
func (s *Store) Save(ctx context.Context, p auth.Principal, c QueueConfig) (QueueConfig, error) {
	if err := mustAdmin(p); err != nil {
		return QueueConfig{}, err
	}
	if err := c.validate(); err != nil {
		return QueueConfig{}, err
	}
	for _, m := range c.Members {
		if err := BadText("members", m); err != nil {
			return QueueConfig{}, err
		}
	}
	q := c.Queue
	var removed []auth.UserID
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		old, err := loadForSave(ctx, tx, q.Key) // the change log's "before"
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO queues (key, name, title, color, greeting, show_agent_name, agent_alias,
			email_mode, extra_label, extra_mode, strategy, capacity, answer_seconds, allowed_origins, statuses, customer_calls,
			wait_alert_seconds, service_level_seconds, chat_time_limits, feedback, disabled, time_zone, hours, holidays,
			offline_message, unavailable_message, offline_form, offline_email, max_waiting, max_wait_seconds,
			auto_finish_seconds, missed_offers, verified_only, file_max_bytes, file_types, transcript_email)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
				$21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36)
			ON CONFLICT (key) DO UPDATE SET name = $2, title = $3, color = $4, greeting = $5, show_agent_name = $6,
				agent_alias = $7, email_mode = $8, extra_label = $9, extra_mode = $10, strategy = $11, capacity = $12,
				answer_seconds = $13, allowed_origins = $14, statuses = $15, customer_calls = $16, wait_alert_seconds = $17,
				service_level_seconds = $18, chat_time_limits = $19, feedback = $20, disabled = $21, time_zone = $22,
				hours = $23, holidays = $24, offline_message = $25, unavailable_message = $26, offline_form = $27,
				offline_email = $28, max_waiting = $29, max_wait_seconds = $30, auto_finish_seconds = $31,
				missed_offers = $32, verified_only = $33, file_max_bytes = $34, file_types = $35, transcript_email = $36
			RETURNING id`,
			q.Key, q.Name, q.Title, q.Color, q.Greeting, q.ShowAgentName, q.AgentAlias, q.EmailMode, q.ExtraLabel,
			q.ExtraMode, q.Strategy, q.Capacity, q.AnswerSeconds, q.AllowedOrigins, q.Statuses, q.CustomerCalls,
			q.WaitAlertSeconds, q.ServiceLevelSeconds, q.ChatTimeLimits, q.Feedback, q.Disabled, q.TimeZone, q.Hours,
			q.Holidays, q.OfflineMessage, q.UnavailableMessage, q.OfflineForm, q.OfflineEmail, q.MaxWaiting,
			q.MaxWaitSeconds, q.AutoFinishSeconds, q.MissedOffers, q.VerifiedOnly, q.FileMaxBytes, q.FileTypes, q.TranscriptEmail).Scan(&q.ID)
		if err != nil {
			return err
		}
		var ids []auth.UserID
		if len(c.Members) > 0 {
			rows, err := tx.Query(ctx, `SELECT id FROM users WHERE username = ANY ($1)`, c.Members)
			if err != nil {
				return err
			}
			if ids, err = pgx.CollectRows(rows, pgx.RowTo[auth.UserID]); err != nil {
				return err
			}
			if len(ids) != len(uniq(c.Members)) {
				return Bad("members: every member must be an existing username")
			}
		}
		rows, err := tx.Query(ctx, `DELETE FROM queue_members WHERE queue_id = $1 AND NOT (user_id = ANY ($2))
			RETURNING user_id`, q.ID, ids)
		if err != nil {
			return err
		}
		if removed, err = pgx.CollectRows(rows, pgx.RowTo[auth.UserID]); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO queue_members (queue_id, user_id) SELECT $1, unnest($2::bigint[])
			ON CONFLICT DO NOTHING`, q.ID, ids)
		if err != nil {
			return err
		}
		return recordChange(ctx, tx, p, q.ID, old, QueueConfig{Queue: q, Members: c.Members})
	})
	var d detail
	if errors.As(err, &d) {
		return QueueConfig{}, d
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23514" { // a CHECK the validation missed
		return QueueConfig{}, Bad("%s", pe.Message)
	}
	if err != nil {
		return QueueConfig{}, fmt.Errorf("chat: save queue %s: %w", q.Key, err)
	}
	s.Forget(q.ID)
	if s.changed != nil {
		s.changed(ctx, q.ID, removed)
	}
	c.Queue = q
	return c, nil
}

func uniq(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
