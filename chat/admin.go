package chat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"parley/auth"
)

// QueueConfig is a queue's settings as an admin sets them, with its
// members by username.
type QueueConfig struct {
	Queue
	Members []string `json:"members"`
}

var (
	keyRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{3,64}$`)
	colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// validate checks every setting and fills the defaults of empty ones.
func (q *Queue) validate() error {
	if err := badText("key", q.Key, "name", q.Name, "title", q.Title, "color", q.Color, "greeting", q.Greeting,
		"agent_alias", q.AgentAlias, "email_mode", q.EmailMode, "extra_label", q.ExtraLabel, "extra_mode", q.ExtraMode,
		"strategy", q.Strategy); err != nil {
		return err
	}
	for _, list := range []struct {
		name   string
		values []string
	}{{"allowed_origins", q.AllowedOrigins}, {"statuses", q.Statuses}} {
		for _, v := range list.values {
			if err := badText(list.name, v); err != nil {
				return err
			}
		}
	}
	q.Name, q.Title = strings.TrimSpace(q.Name), strings.TrimSpace(q.Title)
	if q.Title == "" {
		q.Title = "Chat with us"
	}
	if q.Color == "" {
		q.Color = "#2f6fed"
	}
	if q.EmailMode == "" {
		q.EmailMode = "optional"
	}
	if q.ExtraMode == "" {
		q.ExtraMode = "hidden"
	}
	if q.Strategy == "" {
		q.Strategy = LongestIdle
	}
	if q.Capacity == 0 {
		q.Capacity = 3
	}
	if q.AnswerSeconds == 0 {
		q.AnswerSeconds = 20
	}
	if q.WaitAlertSeconds == 0 {
		q.WaitAlertSeconds = DefaultWaitAlertSeconds
	}
	switch {
	case !keyRE.MatchString(q.Key):
		return bad("key: 3–64 of A-Z a-z 0-9 _ -")
	case q.Name == "" || utf8.RuneCountInString(q.Name) > 100:
		return bad("name: 1–100 characters")
	case utf8.RuneCountInString(q.Title) > 100:
		return bad("title: at most 100 characters")
	case !colorRE.MatchString(q.Color):
		return bad("color: #rrggbb")
	case utf8.RuneCountInString(q.Greeting) > MaxText:
		return bad("greeting: at most %d characters", MaxText)
	case q.EmailMode != "optional" && q.EmailMode != "required":
		return bad("email_mode: optional or required")
	case q.ExtraMode != "hidden" && q.ExtraMode != "optional" && q.ExtraMode != "required":
		return bad("extra_mode: hidden, optional or required")
	case q.ExtraMode != "hidden" && strings.TrimSpace(q.ExtraLabel) == "":
		return bad("extra_label: a shown extra field needs a label")
	case q.Strategy != LongestIdle && q.Strategy != LeastBusy && q.Strategy != RoundRobin && q.Strategy != RingAll:
		return bad("strategy: longest_idle, least_busy, round_robin or ring_all")
	case q.Capacity < 1 || q.Capacity > 100:
		return bad("capacity: 1–100 chats per agent")
	case q.AnswerSeconds < 1 || q.AnswerSeconds > 600:
		return bad("answer_seconds: 1–600")
	case q.WaitAlertSeconds < 1 || q.WaitAlertSeconds > 3600:
		return bad("wait_alert_seconds: 1–3600")
	}
	for _, o := range q.AllowedOrigins {
		if strings.Contains(o, "*") {
			return bad("allowed_origins: %q has a wildcard; list each web site's origin, such as https://www.example.com", o)
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" ||
			strings.ContainsAny(o, " ;,'\"") {
			return bad("allowed_origins: %q is not an origin such as https://www.example.com", o)
		}
	}
	for _, st := range q.Statuses {
		if strings.TrimSpace(st) == "" || utf8.RuneCountInString(st) > 50 {
			return bad("statuses: each 1–50 characters")
		}
	}
	if q.AllowedOrigins == nil {
		q.AllowedOrigins = []string{}
	}
	if q.Statuses == nil {
		q.Statuses = []string{}
	}
	return nil
}

func mustAdmin(p auth.Principal) error {
	if !p.Is(auth.RoleAdmin) {
		return detail{ErrForbidden, "configuring queues needs the admin role"}
	}
	return nil
}

// Queues lists every queue with its members.
func (s *Service) Queues(ctx context.Context, p auth.Principal) ([]QueueConfig, error) {
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

// SaveQueue creates the queue c.Key or replaces its settings and members.
func (s *Service) SaveQueue(ctx context.Context, p auth.Principal, c QueueConfig) (QueueConfig, error) {
	if err := mustAdmin(p); err != nil {
		return QueueConfig{}, err
	}
	if err := c.validate(); err != nil {
		return QueueConfig{}, err
	}
	for _, m := range c.Members {
		if err := badText("members", m); err != nil {
			return QueueConfig{}, err
		}
	}
	q := c.Queue
	var removed []auth.UserID
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO queues (key, name, title, color, greeting, show_agent_name, agent_alias,
			email_mode, extra_label, extra_mode, strategy, capacity, answer_seconds, allowed_origins, statuses, customer_calls,
			wait_alert_seconds)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			ON CONFLICT (key) DO UPDATE SET name = $2, title = $3, color = $4, greeting = $5, show_agent_name = $6,
				agent_alias = $7, email_mode = $8, extra_label = $9, extra_mode = $10, strategy = $11, capacity = $12,
				answer_seconds = $13, allowed_origins = $14, statuses = $15, customer_calls = $16, wait_alert_seconds = $17
			RETURNING id`,
			q.Key, q.Name, q.Title, q.Color, q.Greeting, q.ShowAgentName, q.AgentAlias, q.EmailMode, q.ExtraLabel,
			q.ExtraMode, q.Strategy, q.Capacity, q.AnswerSeconds, q.AllowedOrigins, q.Statuses, q.CustomerCalls,
			q.WaitAlertSeconds).Scan(&q.ID)
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
				return bad("members: every member must be an existing username")
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
		return err
	})
	var d detail
	if errors.As(err, &d) {
		return QueueConfig{}, d
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23514" { // a CHECK the validation missed
		return QueueConfig{}, bad("%s", pe.Message)
	}
	if err != nil {
		return QueueConfig{}, fmt.Errorf("chat: save queue %s: %w", q.Key, err)
	}
	s.forgetQueue(q.ID)
	s.endQueueAccess(ctx, q.ID, removed)
	s.poke() // new members or capacity may let waiting chats through
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
