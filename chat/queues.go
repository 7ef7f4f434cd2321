package chat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

const queueColumns = `id, key, name, title, color, greeting, show_agent_name, agent_alias, email_mode,
	extra_label, extra_mode, strategy, capacity, answer_seconds, allowed_origins, statuses, customer_calls, wait_alert_seconds, rr_last_user`

// scanQueue reads queueColumns, then extra columns selected after them
// into extra.
func scanQueue(row pgx.Row, extra ...any) (Queue, error) {
	var q Queue
	err := row.Scan(append([]any{&q.ID, &q.Key, &q.Name, &q.Title, &q.Color, &q.Greeting, &q.ShowAgentName, &q.AgentAlias,
		&q.EmailMode, &q.ExtraLabel, &q.ExtraMode, &q.Strategy, &q.Capacity, &q.AnswerSeconds,
		&q.AllowedOrigins, &q.Statuses, &q.CustomerCalls, &q.WaitAlertSeconds, &q.rrLast}, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return q, detail{ErrNotFound, "no such queue"}
	}
	return q, err
}

// QueueByKey finds a queue by its public key (the widget's).
func (s *Service) QueueByKey(ctx context.Context, key string) (Queue, error) {
	if err := badText("key", key); err != nil {
		return Queue{}, err
	}
	return scanQueue(s.pool.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE key = $1`, key))
}

// queueCache keeps queue settings for a few seconds: routing and most
// requests need them and they change rarely. (The send path reads what it
// needs of the queue in the writer's statement.)
type queueCache struct {
	mu      sync.Mutex
	entries map[QueueID]cachedQueue
}

type cachedQueue struct {
	q       Queue
	fetched time.Time
}

const queueCacheTTL = 5 * time.Second

// forgetQueue drops a queue from the cache after it changed.
func (s *Service) forgetQueue(id QueueID) {
	s.queues.mu.Lock()
	delete(s.queues.entries, id)
	s.queues.mu.Unlock()
}

func (s *Service) queue(ctx context.Context, id QueueID) (Queue, error) {
	s.queues.mu.Lock()
	e, ok := s.queues.entries[id]
	s.queues.mu.Unlock()
	if ok && time.Since(e.fetched) < queueCacheTTL {
		return e.q, nil
	}
	q, err := scanQueue(s.pool.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE id = $1`, id))
	if err != nil {
		return q, err
	}
	s.queues.mu.Lock()
	s.queues.entries[id] = cachedQueue{q, time.Now()}
	s.queues.mu.Unlock()
	return q, nil
}

// CreateQueue adds a queue with its members. Settings are checked and
// empty ones take their defaults, as for an admin's SaveQueue.
func (s *Service) CreateQueue(ctx context.Context, q Queue, members ...auth.UserID) (Queue, error) {
	if err := q.validate(); err != nil {
		return Queue{}, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO queues (key, name, title, color, greeting, show_agent_name, agent_alias,
			email_mode, extra_label, extra_mode, strategy, capacity, answer_seconds, allowed_origins, statuses, customer_calls,
			wait_alert_seconds)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
			q.Key, q.Name, q.Title, q.Color, q.Greeting, q.ShowAgentName, q.AgentAlias, q.EmailMode, q.ExtraLabel,
			q.ExtraMode, q.Strategy, q.Capacity, q.AnswerSeconds, q.AllowedOrigins, q.Statuses, q.CustomerCalls,
			q.WaitAlertSeconds).Scan(&q.ID)
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

// EnsureDemoQueue creates the demo queue (key "demo") with the given
// members when there is no queue at all, and reports whether it did.
func (s *Service) EnsureDemoQueue(ctx context.Context, origins []string, members ...auth.UserID) (bool, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM queues`).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	_, err := s.CreateQueue(ctx, Queue{
		Key: "demo", Name: "Sales", Title: "Chat with Acme", Color: "#2f6fed",
		Greeting:      "Hi! Thanks for reaching out to Acme. How can we help?",
		ShowAgentName: true, EmailMode: "optional", ExtraLabel: "Phone", ExtraMode: "optional",
		Strategy: LongestIdle, Capacity: 3, AnswerSeconds: 30,
		AllowedOrigins: origins, Statuses: []string{"Resolved", "Follow-up needed", "Spam"},
		CustomerCalls: true,
	}, members...)
	return err == nil, err
}
