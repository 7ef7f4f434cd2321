package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/store"
)

// Channel is the PostgreSQL channel Enqueue notifies when its
// transaction commits: every node's sender wakes at once.
const Channel = "parley_mail"

// TLS modes of Settings.TLS.
const (
	TLSNone     = "none"     // plain text (a relay on the same host)
	TLSStartTLS = "starttls" // upgrade with STARTTLS, required (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// Settings say which SMTP server sends the mail and as whom.
type Settings struct {
	Host     string // empty: no SMTP, the mail waits in the outbox
	Port     int    // default 587
	TLS      string // TLSNone, TLSStartTLS (default) or TLSImplicit
	User     string // empty: no authentication
	Password string
	From     string // default parley@localhost
}

// Configured says whether mail can be sent at all.
func (s Settings) Configured() bool { return s.Host != "" }

// Options tune a Sender. Zero values take the defaults.
type Options struct {
	// Tick is the longest a sender sleeps without looking at the
	// outbox, whatever it was told. Default 30s.
	Tick time.Duration
	// Backoff is the wait after a first failed attempt; it doubles
	// after each further one up to MaxBackoff. Defaults 30s and 1h.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// MaxAttempts is how many temporary failures a message gets before
	// it is marked failed. Default 8.
	MaxAttempts int
	// Timeout bounds one SMTP delivery (connect, send, quit). Default 30s.
	Timeout time.Duration
	// Lease is how long a claimed message is not due again while it is
	// being sent: longer than Timeout, so no other node takes it
	// meanwhile. Only a sender that stopped between claiming and marking
	// leaves it to run out. Default 5m.
	Lease time.Duration
	// Batch is the most messages claimed at once. Default 20.
	Batch int
	// DBTimeout bounds each database step. Default 5s.
	DBTimeout time.Duration
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Tick, 30*time.Second)
	def(&o.Backoff, 30*time.Second)
	def(&o.MaxBackoff, time.Hour)
	def(&o.Timeout, 30*time.Second)
	def(&o.Lease, 5*time.Minute)
	def(&o.DBTimeout, 5*time.Second)
	if o.Lease < 2*o.Timeout {
		o.Lease = 2 * o.Timeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	return o
}

// backoff is the wait after the attempts-th failed attempt: Backoff,
// doubled each time, at most MaxBackoff.
func (o Options) backoff(attempts int) time.Duration {
	d := o.Backoff
	for i := 1; i < attempts && d < o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.MaxBackoff)
}

// Sender delivers the outbox over SMTP. Every node may run one: a
// message is claimed (FOR UPDATE SKIP LOCKED, then its next_at moved a
// lease ahead) before it is sent, so two senders never send the same
// one, and marked sent after.
type Sender struct {
	pool   *pgxpool.Pool
	set    Settings
	opt    Options
	log    *slog.Logger
	client *gomail.Client
	wake   chan struct{}
}

// NewSender makes a sender with the SMTP settings set (Host required).
// Call Run to send.
func NewSender(pool *pgxpool.Pool, set Settings, log *slog.Logger, opt Options) (*Sender, error) {
	if !set.Configured() {
		return nil, errors.New("mail: no SMTP host")
	}
	if set.Port == 0 {
		set.Port = 587
	}
	if set.From == "" {
		set.From = "parley@localhost"
	}
	opt = opt.withDefaults()
	opts := []gomail.Option{gomail.WithPort(set.Port), gomail.WithTimeout(opt.Timeout)}
	switch set.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSStartTLS, "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		return nil, fmt.Errorf("mail: TLS mode %q is none of none, starttls, tls", set.TLS)
	}
	if set.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(set.User), gomail.WithPassword(set.Password))
	}
	c, err := gomail.NewClient(set.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &Sender{pool: pool, set: set, opt: opt, log: log, client: c, wake: make(chan struct{}, 1)}, nil
}

// Poke makes the sender look at the outbox now (Enqueue's NOTIFY does
// the same on every node once its transaction commits).
func (s *Sender) Poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due messages until ctx ends: when poked, when PostgreSQL
// notifies Channel, when the earliest pending message falls due, and at
// least every Tick.
func (s *Sender) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Poked on each notification, and on listening (anything enqueued
		// while it was not).
		store.Listen(ctx, s.pool, Channel, s.log, s.Poke, func(string) { s.Poke() })
	}()
	defer func() { <-done }()
	for {
		wait := s.opt.Tick
		if next, ok := s.pass(ctx); ok {
			wait = min(wait, max(time.Until(next), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// pass sends every due message, a batch at a time, and answers when the
// earliest message still pending falls due (ok false: none is).
func (s *Sender) pass(ctx context.Context) (next time.Time, ok bool) {
	for ctx.Err() == nil {
		batch, err := s.claim(ctx)
		if err != nil {
			s.log.Warn("mail: claiming the outbox", "err", err)
			return time.Now().Add(time.Second), true
		}
		for i, m := range batch {
			if ctx.Err() != nil {
				s.release(batch[i:])
				return time.Time{}, false
			}
			s.deliver(ctx, m)
		}
		if len(batch) < s.opt.Batch {
			break
		}
	}
	dctx, cancel := context.WithTimeout(ctx, s.opt.DBTimeout)
	defer cancel()
	err := s.pool.QueryRow(dctx, `SELECT min(next_at) FROM mail_outbox WHERE state = 'pending'`).Scan(&next)
	if err != nil || next.IsZero() {
		return time.Time{}, false
	}
	return next, true
}

type claimed struct {
	id       int64
	attempts int // this one included
	msg      Message
}

// claim takes due messages: each has its attempt counted and is not due
// again for a lease, in one transaction, skipping rows another sender is
// claiming at the same moment.
func (s *Sender) claim(ctx context.Context) ([]claimed, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.DBTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `UPDATE mail_outbox o SET attempts = o.attempts + 1, next_at = now() + $2 * interval '1 millisecond'
		FROM (SELECT id FROM mail_outbox WHERE state = 'pending' AND next_at <= now()
			ORDER BY next_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) due
		WHERE o.id = due.id
		RETURNING o.id, o.attempts, o.to_addrs, o.reply_to, o.subject, o.body, o.cause, coalesce(o.cause_id, 0)`,
		s.opt.Batch, s.opt.Lease.Milliseconds())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		err := r.Scan(&c.id, &c.attempts, &c.msg.To, &c.msg.ReplyTo, &c.msg.Subject, &c.msg.Body, &c.msg.Cause, &c.msg.CauseID)
		return c, err
	})
}

// release gives back messages claimed but not tried, when the sender
// stops: due at once, their attempt not counted, for the next sender.
func (s *Sender) release(cs []claimed) {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.id
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.DBTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `UPDATE mail_outbox SET attempts = attempts - 1, next_at = now()
		WHERE id = ANY($1) AND state = 'pending'`, ids); err != nil {
		s.log.Warn("mail: giving back unsent messages; they wait out their lease", "err", err)
	}
}

// deliver sends one claimed message and records what came of it.
func (s *Sender) deliver(ctx context.Context, c claimed) {
	err := s.send(ctx, c)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.DBTimeout)
	defer cancel()
	if err == nil {
		_, err = s.pool.Exec(dctx, `UPDATE mail_outbox SET state = 'sent', sent_at = now(), last_error = '' WHERE id = $1`, c.id)
		if err != nil {
			s.log.Error("mail: sent, but not marked sent; it will be sent again after the lease", "id", c.id, "err", err)
		}
		return
	}
	failed := permanent(err) || c.attempts >= s.opt.MaxAttempts
	state := "pending"
	if failed {
		state = "failed"
	}
	wait := s.opt.backoff(c.attempts)
	s.log.Warn("mail: not sent", "id", c.id, "attempt", c.attempts, "gave_up", failed, "retry_in", wait, "err", err)
	_, dbErr := s.pool.Exec(dctx, `UPDATE mail_outbox SET state = $2, last_error = $3, next_at = now() + $4 * interval '1 millisecond'
		WHERE id = $1`, c.id, state, truncate(err.Error(), 1000), wait.Milliseconds())
	if dbErr != nil {
		s.log.Warn("mail: recording a failed send", "id", c.id, "err", dbErr)
	}
}

func (s *Sender) send(ctx context.Context, c claimed) error {
	m := gomail.NewMsg()
	if err := m.From(s.set.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := m.To(c.msg.To...); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	if c.msg.ReplyTo != "" {
		if err := m.ReplyTo(c.msg.ReplyTo); err != nil {
			return fmt.Errorf("reply-to: %w", err)
		}
	}
	m.Subject(c.msg.Subject)
	m.SetBodyString(gomail.TypeTextPlain, c.msg.Body)
	m.SetDate()
	// The same Message-ID on every attempt of one outbox row: a receiver
	// can tell the rare second copy (see docs/architecture.md) for what it is.
	m.SetMessageIDWithValue(fmt.Sprintf("parley.outbox.%d@%s", c.id, domainOf(s.set.From)))
	sctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	return s.client.DialAndSendWithContext(sctx, m)
}

// permanent says whether the server refused for good (5xx), so that
// trying again cannot help. Anything else (4xx, no connection, a
// timeout) is worth another attempt.
func permanent(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return !se.IsTemp() && se.ErrorCode() >= 500 && se.ErrorCode() < 600
	}
	return false
}

func domainOf(addr string) string {
	addr = strings.TrimSuffix(strings.TrimSpace(addr), ">")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
