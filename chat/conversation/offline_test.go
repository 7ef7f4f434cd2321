package conversation

import (
	"context"
	"testing"

	"parley/chat/chattest"
	"parley/chat/queues"
	"parley/mail"
	"parley/store"
)

// The offline form's conversation and its e-mail are one transaction:
// both are stored, or, when the mail cannot be written, neither.
func TestAnOfflineMessageAndItsMailCommitTogether(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	if err := store.Migrate(ctx, f.svc.pool, mail.Migrations); err != nil {
		t.Fatal(err)
	}
	q, err := f.qs.Create(ctx, queues.Queue{Key: chattest.Unique("offline"), Name: "Sales", OfflineForm: true,
		OfflineEmail: "sales@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ann := chattest.Visitor("Ann", q.Key)
	c, err := f.svc.Offline(ctx, ann, OfflineInput{Name: " Ann Lee ", Email: "ann@example.org", Message: "Do you ship to Mars?"})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != StateOffline || c.Customer.Name != "Ann Lee" || c.Customer.Email != "ann@example.org" {
		t.Fatalf("stored %+v", c)
	}
	msgs, _, err := mail.List(ctx, f.svc.pool, "", 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].CauseID == nil || *msgs[0].CauseID != int64(c.ID) ||
		msgs[0].ReplyTo != "ann@example.org" || msgs[0].Subject != "Offline message from Ann Lee via Sales" {
		t.Fatalf("outbox %+v %v", msgs, err)
	}

	// The outbox refuses the next mail: the conversation is not stored either.
	if _, err := f.svc.pool.Exec(ctx, `ALTER TABLE mail_outbox ADD CONSTRAINT test_refuse CHECK (reply_to <> 'bo@example.org')`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.svc.pool.Exec(ctx, `ALTER TABLE mail_outbox DROP CONSTRAINT test_refuse`) }) //nolint:errcheck
	bo := chattest.Visitor("Bo", q.Key)
	if _, err := f.svc.Offline(ctx, bo, OfflineInput{Email: "bo@example.org", Message: "Hello"}); err == nil {
		t.Fatal("stored although its mail could not be")
	}
	var n int
	if err := f.svc.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE visitor = $1`, bo.Subject).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d conversations of Bo (%v)", n, err)
	}
}
