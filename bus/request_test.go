package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The request/reply part of the suite, for every Requester.
func runRequestSuite(t *testing.T, newBus func(t *testing.T) Requester) {
	t.Run("ARequestGetsItsServersReply", func(t *testing.T) {
		b := newBus(t)
		stop, err := b.Serve("node.n1.rooms", func(_ context.Context, data []byte) []byte {
			return append([]byte("re: "), data...)
		})
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		got, err := b.Request(ctx, "node.n1.rooms", []byte("join"))
		if err != nil || string(got) != "re: join" {
			t.Fatalf("reply %q, %v", got, err)
		}
	})
	t.Run("ASubjectNobodyServesAnswersNoResponders", func(t *testing.T) {
		b := newBus(t)
		stop, err := b.Serve("node.n1.rooms", func(context.Context, []byte) []byte { return nil })
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if _, err := b.Request(ctx, "node.n2.rooms", []byte("x")); !errors.Is(err, ErrNoResponders) {
			t.Fatalf("unserved subject: %v, want ErrNoResponders", err)
		}
		stop()
		if _, err := b.Request(ctx, "node.n1.rooms", []byte("x")); !errors.Is(err, ErrNoResponders) {
			t.Fatalf("after stop: %v, want ErrNoResponders", err)
		}
	})
	t.Run("AServerThatDoesNotAnswerEndsAtTheDeadline", func(t *testing.T) {
		b := newBus(t)
		release := make(chan struct{})
		defer close(release)
		stop, err := b.Serve("node.slow.rooms", func(context.Context, []byte) []byte { <-release; return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if _, err := b.Request(ctx, "node.slow.rooms", []byte("x")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("slow server: %v, want the deadline", err)
		}
	})
	t.Run("RequestsAreAnsweredConcurrently", func(t *testing.T) {
		b := newBus(t)
		// Each request waits until all have arrived: served one at a
		// time, none would answer.
		const n = 8
		var arrived sync.WaitGroup
		arrived.Add(n)
		stop, err := b.Serve("node.n1.rooms", func(_ context.Context, data []byte) []byte {
			arrived.Done()
			arrived.Wait()
			return data
		})
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				want := fmt.Sprint(i)
				got, err := b.Request(ctx, "node.n1.rooms", []byte(want))
				if err == nil && string(got) != want {
					err = fmt.Errorf("request %s answered %q", want, got)
				}
				errs <- err
			}()
		}
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestMemoryBusPassesTheRequestSuite(t *testing.T) {
	runRequestSuite(t, func(*testing.T) Requester { return NewMemory() })
}

func TestNATSBusPassesTheRequestSuite(t *testing.T) {
	url := startNATS(t)
	runRequestSuite(t, func(t *testing.T) Requester { return dial(t, url, "suite", nil, NATSOptions{}) })
}

// A request asked on one node is served by another.
func TestNATSCarriesRequestsBetweenNodes(t *testing.T) {
	url := startNATS(t)
	a := dial(t, url, "node-a", nil, NATSOptions{})
	b := dial(t, url, "node-b", nil, NATSOptions{})
	stop, err := b.Serve("node.b.rooms", func(_ context.Context, data []byte) []byte { return append(data, " on b"...) })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	got, err := a.Request(ctx, "node.b.rooms", []byte("asked on a"))
	if err != nil || string(got) != "asked on a on b" {
		t.Fatalf("reply %q, %v", got, err)
	}
}
