package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RateLimit is a token bucket per key: Limiter in this process, or
// PGLimiter shared by every node of a deployment.
type RateLimit interface {
	// Allow takes one event from key's bucket. When it refuses, retry is
	// how long until the next event would be allowed.
	Allow(key string) (ok bool, retry time.Duration)
	// Blocked reports, without taking anything, whether key's bucket is
	// empty now, and if so how long until it holds one event again.
	Blocked(key string) (blocked bool, retry time.Duration)
}

var (
	_ RateLimit = (*Limiter)(nil)
	_ RateLimit = (*PGLimiter)(nil)
)

// PGLimiter is Limiter with its buckets in PostgreSQL (rate_limits), so
// one limit holds across every node: a client that spreads its attempts
// over the nodes gets no more than from one. Each Allow is one
// statement (the bucket refilled, checked and taken from under its row
// lock); Blocked is one read. The clock is the database's. A database
// that fails to answer (within a second) limits nothing: what the limit
// guards needs the database too. Buckets unused for a while are deleted.
type PGLimiter struct {
	pool  *pgxpool.Pool
	log   *slog.Logger
	name  string
	rate  float64 // tokens a second
	burst float64
	idle  time.Duration

	mu    sync.Mutex
	swept time.Time
}

// pgLimiterTimeout bounds each statement of a PGLimiter.
const pgLimiterTimeout = time.Second

// NewPGLimiter is NewLimiter over pool; name sets it apart from the
// other limits sharing the table.
func NewPGLimiter(pool *pgxpool.Pool, log *slog.Logger, name string, every time.Duration, burst int) *PGLimiter {
	return &PGLimiter{pool: pool, log: log, name: name, rate: float64(time.Second) / float64(every),
		burst: float64(burst), idle: every*time.Duration(burst) + time.Minute, swept: time.Now()}
}

// refilled is a bucket's tokens now, over its row r.
const refilled = `least($3::float8, r.tokens + extract(epoch FROM now() - r.at)::float8 * $4::float8)`

// Allow implements RateLimit.
func (l *PGLimiter) Allow(key string) (ok bool, retry time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), pgLimiterTimeout)
	defer cancel()
	l.sweep(ctx)
	var left float64
	err := l.pool.QueryRow(ctx, `INSERT INTO rate_limits AS r (name, key, tokens, at) VALUES ($1, $2, $3::float8 - 1, now())
		ON CONFLICT (name, key) DO UPDATE SET tokens = `+refilled+` - 1, at = now()
			WHERE `+refilled+` >= 1
		RETURNING tokens`, l.name, key, l.burst, l.rate).Scan(&left)
	if errors.Is(err, pgx.ErrNoRows) {
		_, retry = l.Blocked(key)
		return false, max(retry, time.Millisecond)
	}
	if err != nil {
		l.log.Warn("rate limit: the database did not answer: not limited", "limit", l.name, "err", err)
		return true, 0
	}
	return true, 0
}

// Blocked implements RateLimit.
func (l *PGLimiter) Blocked(key string) (blocked bool, retry time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), pgLimiterTimeout)
	defer cancel()
	var tokens float64
	err := l.pool.QueryRow(ctx, `SELECT `+refilled+` FROM rate_limits r WHERE name = $1 AND key = $2`,
		l.name, key, l.burst, l.rate).Scan(&tokens)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, 0
	}
	if err != nil {
		l.log.Warn("rate limit: the database did not answer: not limited", "limit", l.name, "err", err)
		return false, 0
	}
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) / l.rate * float64(time.Second))
}

// sweep deletes this limit's buckets unused for idle, at most once per
// idle.
func (l *PGLimiter) sweep(ctx context.Context) {
	l.mu.Lock()
	due := time.Since(l.swept) > l.idle
	if due {
		l.swept = time.Now()
	}
	l.mu.Unlock()
	if !due {
		return
	}
	if _, err := l.pool.Exec(ctx, `DELETE FROM rate_limits WHERE name = $1 AND at < now() - make_interval(secs => $2)`,
		l.name, l.idle.Seconds()); err != nil {
		l.log.Warn("rate limit: sweep", "limit", l.name, "err", err)
	}
}
