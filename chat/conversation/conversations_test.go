package conversation

import (
	"context"
	"reflect"
	"testing"

	"parley/chat/chattest"
)

// Start does not read back the chat it inserted (unless chat/crm paired
// it with a contact): what it returns, tells the waiting list and gives
// the customer's view is made of what it wrote, and its queued event is
// inserted with the chat in one statement. Both must be what is stored:
// the chat as Get reads it, the event as the events are read.
func TestAStartedChatAndItsQueuedEventAreWhatIsStored(t *testing.T) {
	f, _, secret := identityFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, visitor string
		in            StartInput
	}{
		{"a name only", "plain", StartInput{Name: "Pat Plain"}},
		{"a name and an e-mail", "mail", StartInput{Name: "  Mel Mail ", Email: "mel@example.com", Extra: "order 12"}},
		{"a verified identity (paired with a contact)", "vera", StartInput{Name: "Typed", Identity: f.token(secret)}},
		{"an e-mail verified alone", "mia", StartInput{Name: "Mia", Identity: f.token(secret, func(id *Identity) { id.ID, id.Name = "c-7", "" })}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, evs, err := f.svc.start(ctx, chattest.Visitor(c.visitor, f.q.Key), c.in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Get(ctx, f.svc.pool, got.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("start made\n%+v\nGet reads\n%+v", got, want)
			}
			stored, err := f.svc.events(ctx, got.ID, 0, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Kind != KindQueued || !reflect.DeepEqual(evs, stored) {
				t.Fatalf("start's events:\n%+v\nstored:\n%+v", evs, stored)
			}
		})
	}
}
