package chat

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"parley/auth"
)

// Text the database cannot store is refused by every entry point of chat
// that writes or looks up text, as a bad request naming the field, before
// any SQL: the transports check it too, but chat does not rely on them.
func TestTextTheDatabaseCannotStoreIsABadRequestAtEveryEntryPoint(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	// A message the old code let through is committed by the running
	// writer; a deadline keeps any call that waits from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cust, conv := f.customer(t, "Vera")
	admin := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAdmin, UserID: f.sup.UserID, Name: "Ada"}
	for _, bad := range []string{"a\x00b", "a\xffb"} {
		for _, c := range []struct {
			field string
			call  func() error
		}{
			{"name", func() error {
				p := cust
				p.Subject += "-new"
				_, _, err := f.svc.Start(ctx, p, StartInput{Name: bad})
				return err
			}},
			{"extra", func() error {
				p := cust
				p.Subject += "-new"
				_, _, err := f.svc.Start(ctx, p, StartInput{Name: "Vera", Extra: bad})
				return err
			}},
			{"text", func() error {
				_, err := f.svc.Send(ctx, cust, SendInput{ConversationID: conv, ClientID: "c1", Text: bad})
				return err
			}},
			{"client_id", func() error {
				_, err := f.svc.Send(ctx, cust, SendInput{ConversationID: conv, ClientID: bad, Text: "hi"})
				return err
			}},
			{"reason", func() error {
				_, err := f.svc.SetStatus(ctx, f.alice, StatusPaused, bad)
				return err
			}},
			{"status", func() error { return f.svc.Close(ctx, f.sup, conv, bad) }},
			{"greeting", func() error {
				_, err := f.svc.SaveQueue(ctx, admin, QueueConfig{Queue: Queue{Key: f.q.Key, Name: "Writer", Greeting: bad}})
				return err
			}},
			{"statuses", func() error {
				_, err := f.svc.SaveQueue(ctx, admin, QueueConfig{Queue: Queue{Key: f.q.Key, Name: "Writer", Statuses: []string{bad}}})
				return err
			}},
			{"members", func() error {
				_, err := f.svc.SaveQueue(ctx, admin, QueueConfig{Queue: Queue{Key: f.q.Key, Name: "Writer"}, Members: []string{bad}})
				return err
			}},
			{"key", func() error {
				_, err := f.svc.QueueByKey(ctx, bad)
				return err
			}},
		} {
			err := c.call()
			if !errors.Is(err, ErrBadInput) || !strings.HasPrefix(err.Error(), c.field+": ") {
				t.Errorf("%s = %q: got %v, want a bad request naming %s", c.field, bad, err, c.field)
			}
		}
	}
}
