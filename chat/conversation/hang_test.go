package conversation

import (
	"context"
	"testing"
	"time"

	"parley/chat/queues"
	"parley/store"
	"parley/store/storetest"
)

// With the database hung (connections open, nothing answered), a send is
// answered unavailable within the writer's DBTimeout, the writer takes
// the next batch, and the message sent again once the database answers
// is stored once.
func TestAHungDatabaseAnswersSendersUnavailableWithinTheDeadline(t *testing.T) {
	f := newWriterFixture(t)
	vera, conv := f.customer(t, "Vera")
	proxy := storetest.NewProxy(t)
	hung := storetest.PoolAt(t, proxy.URL())
	svc := New(hung, f.svc.bus, f.svc.log, queues.New(hung, queues.NewLocalCache()), Options{DBTimeout: time.Second})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })

	send := func(clientID, text string) (SendResult, time.Duration, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		began := time.Now()
		res, err := svc.Send(ctx, vera, SendInput{ConversationID: conv, ClientID: clientID, Text: text})
		return res, time.Since(began), err
	}
	first, _, err := send("v1", "hello")
	if err != nil {
		t.Fatal(err)
	}

	proxy.Hang()
	for _, id := range []string{"v2", "v3"} { // the second: the writer is not stuck on the first
		_, took, err := send(id, "are you there?")
		if !store.IsUnavailable(err) || took > 10*time.Second {
			t.Fatalf("send %s with the database hung: %v after %v, want unavailable within about a second", id, err, took)
		}
	}
	proxy.Restore()

	res, _, err := send("v2", "are you there?")
	if err != nil || res.Seq != first.Seq+1 {
		t.Fatalf("v2 sent again: %+v %v, want seq %d", res, err, first.Seq+1)
	}
	var stored int
	if err := f.svc.pool.QueryRow(context.Background(), `SELECT count(*) FROM conversation_events
		WHERE conversation_id = $1 AND client_id = 'v2'`, conv).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Fatalf("v2 stored %d times, want once", stored)
	}
}
