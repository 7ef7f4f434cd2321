package conversation

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"parley/bus"
	"parley/chat/queues"
)

func followFloor(t *testing.T, b bus.Bus) chan FloorChange {
	t.Helper()
	ch := make(chan FloorChange, 100)
	unsub, err := b.Subscribe(FloorSubject, func(frame []byte) {
		c, err := DecodeFloorChange(frame)
		if err != nil {
			t.Error(err)
		}
		select {
		case ch <- c:
		default: // more than the test looks at: Sent counts them
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return ch
}

func nextFloor(t *testing.T, ch chan FloorChange) FloorChange {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(2 * time.Second):
		t.Fatal("nothing published within 2 s")
		return FloorChange{}
	}
}

// The first change after a quiet window is published at once; the
// changes within the window after it are gathered into one publish at
// its end, whatever their number.
func TestChangesWithinAWindowArePublishedTogether(t *testing.T) {
	b := bus.NewMemory()
	ch := followFloor(t, b)
	const window = 100 * time.Millisecond
	n := NewFloorNotifier(b, slog.New(slog.DiscardHandler), window)
	start := time.Now()
	n.Queue(1)
	select {
	case c := <-ch: // the memory bus delivers before Publish returns
		if c.All || !slices.Equal(c.Queues, []queues.QueueID{1}) {
			t.Fatalf("first change %+v, want queue 1", c)
		}
	default:
		t.Fatal("the first change was not published at once")
	}
	for i := range 1000 {
		n.Queue(queues.QueueID(2 + i%3))
	}
	c := nextFloor(t, ch)
	if waited := time.Since(start); waited < window-5*time.Millisecond {
		t.Errorf("the gathered changes were published %v after the first, within the window (%v)", waited, window)
	}
	if c.All || !slices.Equal(c.Queues, []queues.QueueID{2, 3, 4}) {
		t.Fatalf("gathered change %+v, want queues 2, 3, 4", c)
	}
	if got := n.Sent(); got != 2 {
		t.Fatalf("%d publishes for 1,001 changes, want 2", got)
	}

	// Everything takes the queues marked with it in.
	n.Queue(7)
	n.All()
	if c := nextFloor(t, ch); !c.All || len(c.Queues) != 0 {
		t.Fatalf("change %+v, want everything", c)
	}
	// Flush publishes at once, and nothing when nothing is marked.
	n.Queue(8)
	n.Flush()
	select {
	case c := <-ch:
		if !slices.Equal(c.Queues, []queues.QueueID{8}) {
			t.Fatalf("flushed %+v, want queue 8", c)
		}
	default:
		t.Fatal("Flush published nothing")
	}
	n.Flush()
	select {
	case c := <-ch:
		t.Fatalf("an empty Flush published %+v", c)
	default:
	}
}
