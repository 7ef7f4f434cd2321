package mail_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/mail"
	"parley/mail/mailtest"
	"parley/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// waitFor waits (with a deadline) until cond holds, looking again each
// time the server receives something and every 50 ms (for the database).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func fresh(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := storetest.Pool(t, mail.Migrations)
	if _, err := pool.Exec(context.Background(), `TRUNCATE mail_outbox`); err != nil {
		t.Fatal(err)
	}
	return pool
}

func startSender(t *testing.T, pool *pgxpool.Pool, srv *mailtest.Server, opt mail.Options) func() {
	t.Helper()
	s, err := mail.NewSender(pool, mail.Settings{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "desk@example.com"},
		slog.New(slog.DiscardHandler), opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, pool *pgxpool.Pool, m mail.Message) int64 {
	t.Helper()
	var id int64
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		id, err = mail.Enqueue(context.Background(), tx, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func entry(t *testing.T, pool *pgxpool.Pool, id int64) mail.Entry {
	t.Helper()
	es, _, err := mail.List(context.Background(), pool, "", id+1, 1)
	if err != nil || len(es) != 1 || es[0].ID != id {
		t.Fatalf("outbox entry %d: %v %v", id, es, err)
	}
	return es[0]
}

func TestAnEnqueuedMessageIsSentOnceAtOnce(t *testing.T) {
	pool := fresh(t)
	srv := mailtest.Start(t)
	// A long tick: only the commit's NOTIFY can wake the sender in time.
	startSender(t, pool, srv, mail.Options{Tick: time.Hour})
	id := enqueue(t, pool, mail.Message{To: []string{"sales@example.com"}, ReplyTo: "ann@example.org",
		Subject: "Offline message from Ann", Body: "Do you ship to Mars?", Cause: "offline", CauseID: 7})
	waitFor(t, "the message", func() bool { return len(srv.Received()) == 1 })
	got := srv.Received()[0]
	if got.From != "desk@example.com" || len(got.To) != 1 || got.To[0] != "sales@example.com" {
		t.Fatalf("envelope %q → %q", got.From, got.To)
	}
	for _, want := range []string{"Subject: Offline message from Ann", "Reply-To: <ann@example.org>", "Do you ship to Mars?",
		"Message-ID: <parley.outbox."} {
		if !strings.Contains(got.Data, want) {
			t.Errorf("the message lacks %q:\n%s", want, got.Data)
		}
	}
	waitFor(t, "marked sent", func() bool { return entry(t, pool, id).State == "sent" })
	e := entry(t, pool, id)
	if e.Attempts != 1 || e.SentAt == nil || e.LastError != "" {
		t.Fatalf("entry after sending: %+v", e)
	}
	// Nothing more is sent: a poke finds nothing due.
	enqueue(t, pool, mail.Message{To: []string{"b@example.com"}, Subject: "second", Body: "b"})
	waitFor(t, "the second message", func() bool { return len(srv.Received()) == 2 })
	if n := srv.Tries(); n != 2 {
		t.Fatalf("the server was sent %d messages, want 2", n)
	}
}

func TestAMessageRolledBackIsNeverSent(t *testing.T) {
	pool := fresh(t)
	srv := mailtest.Start(t)
	startSender(t, pool, srv, mail.Options{Tick: time.Hour})
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mail.Enqueue(ctx, tx, mail.Message{To: []string{"x@example.com"}, Subject: "never", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx) //nolint:errcheck
	enqueue(t, pool, mail.Message{To: []string{"y@example.com"}, Subject: "kept", Body: "y"})
	waitFor(t, "the kept message", func() bool { return len(srv.Received()) == 1 })
	if got := srv.Received(); !strings.Contains(got[0].Data, "Subject: kept") {
		t.Fatalf("sent %q", got[0].Data)
	}
}

func TestATemporaryRefusalIsRetriedWithBackoffAndDeliveredLater(t *testing.T) {
	pool := fresh(t)
	srv := mailtest.Start(t)
	srv.Refuse(func(try int) error {
		if try <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	startSender(t, pool, srv, mail.Options{Tick: time.Hour, Backoff: 200 * time.Millisecond})
	start := time.Now()
	id := enqueue(t, pool, mail.Message{To: []string{"sales@example.com"}, Subject: "retry me", Body: "b"})
	waitFor(t, "a first refusal recorded", func() bool { e := entry(t, pool, id); return e.LastError != "" })
	e := entry(t, pool, id)
	if e.State != "pending" || !strings.Contains(e.LastError, "try again later") {
		t.Fatalf("after a refusal: %+v", e)
	}
	waitFor(t, "the delivery", func() bool { return len(srv.Received()) == 1 })
	// 200 ms after the first refusal, then 400 ms after the second.
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Fatalf("delivered after %v: the retries did not back off", took)
	}
	waitFor(t, "marked sent", func() bool { return entry(t, pool, id).State == "sent" })
	if e := entry(t, pool, id); e.Attempts != 3 || srv.Tries() != 3 {
		t.Fatalf("attempts %d in the outbox, %d at the server; want 3", e.Attempts, srv.Tries())
	}
}

func TestRefusalsMarkTheMessageFailedAfterTheAttemptsAndSendAgainRetriesIt(t *testing.T) {
	pool := fresh(t)
	srv := mailtest.Start(t)
	srv.Refuse(func(int) error {
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "mailbox busy"}
	})
	startSender(t, pool, srv, mail.Options{Tick: time.Hour, Backoff: 20 * time.Millisecond, MaxAttempts: 3})
	id := enqueue(t, pool, mail.Message{To: []string{"sales@example.com"}, Subject: "doomed", Body: "b"})
	waitFor(t, "failed", func() bool { return entry(t, pool, id).State == "failed" })
	if e := entry(t, pool, id); e.Attempts != 3 || !strings.Contains(e.LastError, "mailbox busy") || srv.Tries() != 3 {
		t.Fatalf("failed after %d attempts (server: %d): %+v", e.Attempts, srv.Tries(), e)
	}
	failed, _, err := mail.List(context.Background(), pool, "failed", 0, 10)
	if err != nil || len(failed) != 1 {
		t.Fatalf("failed list %v %v", failed, err)
	}

	srv.Refuse(nil)
	if _, err := mail.Retry(context.Background(), pool, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sent again", func() bool { return len(srv.Received()) == 1 })
	waitFor(t, "marked sent", func() bool { return entry(t, pool, id).State == "sent" })
	if _, err := mail.Retry(context.Background(), pool, id); err != mail.ErrNotFailed {
		t.Fatalf("retry of a sent message: %v, want ErrNotFailed", err)
	}
	if _, err := mail.Retry(context.Background(), pool, id+1000); err != mail.ErrNotFound {
		t.Fatalf("retry of no message: %v, want ErrNotFound", err)
	}
}

func TestAPermanentRefusalFailsAtOnce(t *testing.T) {
	pool := fresh(t)
	srv := mailtest.Start(t)
	srv.Refuse(func(int) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	})
	startSender(t, pool, srv, mail.Options{Tick: time.Hour, Backoff: 20 * time.Millisecond})
	id := enqueue(t, pool, mail.Message{To: []string{"nobody@example.com"}, Subject: "bounce", Body: "b"})
	waitFor(t, "failed", func() bool { return entry(t, pool, id).State == "failed" })
	if e := entry(t, pool, id); e.Attempts != 1 || !strings.Contains(e.LastError, "no such user") {
		t.Fatalf("after a permanent refusal: %+v", e)
	}
}

func TestARestartedSenderSendsNothingTwice(t *testing.T) {
	pool := fresh(t)
	srv := mailtest.Start(t)
	stop := startSender(t, pool, srv, mail.Options{Tick: time.Hour})
	first := enqueue(t, pool, mail.Message{To: []string{"a@example.com"}, Subject: "first", Body: "1"})
	waitFor(t, "marked sent", func() bool { return entry(t, pool, first).State == "sent" })
	stop()

	// A message claimed by a sender that stopped before sending it (a
	// crash between claim and mark) waits out its lease; it is not sent
	// at once by the next sender.
	claimed := enqueue(t, pool, mail.Message{To: []string{"c@example.com"}, Subject: "claimed", Body: "c"})
	if _, err := pool.Exec(context.Background(), `UPDATE mail_outbox SET attempts = 1, next_at = now() + interval '1 hour' WHERE id = $1`, claimed); err != nil {
		t.Fatal(err)
	}
	// Two senders over the same database, as two nodes.
	startSender(t, pool, srv, mail.Options{Tick: time.Hour})
	startSender(t, pool, srv, mail.Options{Tick: time.Hour})
	var ids []int64
	for i := range 10 {
		ids = append(ids, enqueue(t, pool, mail.Message{To: []string{"b@example.com"}, Subject: "after " + string(rune('a'+i)), Body: "2"}))
	}
	waitFor(t, "all marked sent", func() bool {
		for _, id := range ids {
			if entry(t, pool, id).State != "sent" {
				return false
			}
		}
		return true
	})
	got := srv.Received()
	seen := map[string]int{}
	for _, r := range got {
		for _, line := range strings.Split(r.Data, "\r\n") {
			if strings.HasPrefix(line, "Subject: ") {
				seen[line]++
			}
		}
	}
	if len(got) != 11 || seen["Subject: first"] != 1 || seen["Subject: claimed"] != 0 {
		t.Fatalf("received %d messages, by subject %v; want 11, each once, none claimed", len(got), seen)
	}
	for s, n := range seen {
		if n != 1 {
			t.Errorf("%s received %d times", s, n)
		}
	}
}

func TestAStoppingSenderGivesBackWhatItHasNotTried(t *testing.T) {
	pool := fresh(t)
	srv := mailtest.Start(t)
	unblock := make(chan struct{})
	srv.Refuse(func(try int) error {
		if try == 1 {
			<-unblock // the first message is being sent when the sender is told to stop
		}
		return nil
	})
	s, err := mail.NewSender(pool, mail.Settings{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone}, slog.New(slog.DiscardHandler),
		mail.Options{Tick: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// Three messages claimed together, before the sender runs.
	var ids []int64
	for _, subject := range []string{"one", "two", "three"} {
		ids = append(ids, enqueue(t, pool, mail.Message{To: []string{"a@example.com"}, Subject: subject, Body: "b"}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	waitFor(t, "the first message at the server", func() bool { return srv.Tries() == 1 })
	cancel()
	close(unblock)
	<-done

	if e := entry(t, pool, ids[0]); e.State != "sent" {
		t.Fatalf("the message being sent: %+v", e)
	}
	for _, id := range ids[1:] {
		e := entry(t, pool, id)
		if e.State != "pending" || e.Attempts != 0 || e.LastError != "" || e.NextAt.After(time.Now()) {
			t.Fatalf("a message not tried: %+v, want pending, due, no attempt", e)
		}
	}
}
