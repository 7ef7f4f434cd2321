package conversation

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"parley/auth"
)

// Checks that arrive together are read with one statement, each by its
// own reader: a customer in the same batch as another learns nothing of
// the other's chat, and each gets its own answer.
func TestPositionsReadTogetherKeepEachReadersRule(t *testing.T) {
	f := newWriterFixture(t)
	f.run(t)
	ctx := context.Background()
	vera, a := f.customer(t, "Vera")
	walt, b := f.customer(t, "Walt")
	for i := range 2 {
		if _, err := f.svc.Send(ctx, vera, SendInput{ConversationID: a, ClientID: fmt.Sprint("v", i), Text: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	readers := []struct {
		p    auth.Principal
		want string
	}{
		{vera, fmt.Sprintf("[{%d 3}]", a)}, // the start event and two messages
		{walt, fmt.Sprintf("[{%d 1}]", b)},
	}
	// Many checks at once, by turns of the two readers, each naming both
	// chats (and one twice): they share batches.
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for n := range 40 {
		r := readers[n%2]
		wg.Go(func() {
			ps, err := f.svc.Positions(ctx, r.p, []ID{a, b, a})
			if got := fmt.Sprint(ps); err != nil || got != r.want {
				errs <- fmt.Sprintf("check %d: %s %v, want %s", n, got, err, r.want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
