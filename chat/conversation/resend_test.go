package conversation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"parley/chat/queues"
)

// A message sent again through another node while the first try is still
// being stored (the customer's connection moved) is stored once, and both
// sends are answered with its seq, one of them as a duplicate: never with
// the unique index's error.
func TestTheSameMessageThroughTwoNodesAtOnceIsStoredOnce(t *testing.T) {
	f := newWriterFixture(t)
	f.run(t)
	vera, conv := f.customer(t, "Vera")
	other := New(f.svc.pool, f.svc.bus, f.svc.log, queues.New(f.svc.pool, queues.NewLocalCache()), Options{DBTimeout: 5 * time.Second})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); other.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })

	type answer struct {
		res SendResult
		err error
	}
	for round := range 40 {
		in := SendInput{ConversationID: conv, ClientID: fmt.Sprintf("twice-%d", round), Text: "once, please"}
		answers := make(chan answer, 2)
		for _, log := range []*Log{f.svc, other} {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				res, err := log.Send(ctx, vera, in)
				answers <- answer{res, err}
			}()
		}
		a, b := <-answers, <-answers
		if a.err != nil || b.err != nil {
			t.Fatalf("round %d: %v / %v, want both answered", round, a.err, b.err)
		}
		if a.res.Seq != b.res.Seq || a.res.Duplicate == b.res.Duplicate {
			t.Fatalf("round %d: %+v and %+v, want one seq, one of them a duplicate", round, a.res, b.res)
		}
	}
}
