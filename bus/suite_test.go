package bus

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The suite every Bus passes, the memory bus and NATS alike (as Centrifuge
// runs one suite over its memory and Redis engines). Delivery may be
// asynchronous, so each check waits for frames with a deadline.

// deadline is generous: the machine is shared, and a wait that ends on its
// event costs nothing.
const deadline = 30 * time.Second

// inbox records the frames a handler receives.
type inbox struct {
	ch chan string
}

func newInbox() *inbox { return &inbox{ch: make(chan string, 4096)} }

func (in *inbox) handler(frame []byte) { in.ch <- string(frame) }

// next is the next frame, or a test failure at the deadline.
func (in *inbox) next(t *testing.T, what string) string {
	t.Helper()
	select {
	case f := <-in.ch:
		return f
	case <-time.After(deadline):
		t.Fatalf("%s: no frame within %v", what, deadline)
		return ""
	}
}

// until reads frames up to and including end, and returns those before it.
func (in *inbox) until(t *testing.T, what, end string) []string {
	t.Helper()
	var got []string
	for {
		f := in.next(t, what)
		if f == end {
			return got
		}
		got = append(got, f)
	}
}

func subscribe(t *testing.T, b Bus, subject string, h Handler) func() {
	t.Helper()
	unsub, err := b.Subscribe(subject, h)
	if err != nil {
		t.Fatalf("subscribe %q: %v", subject, err)
	}
	return unsub
}

func publish(t *testing.T, b Bus, subject, frame string) {
	t.Helper()
	if err := b.Publish(subject, []byte(frame)); err != nil {
		t.Fatalf("publish %q: %v", subject, err)
	}
}

// runSuite runs the shared suite on buses made by newBus.
func runSuite(t *testing.T, newBus func(t *testing.T) Bus) {
	t.Run("PublishReachesASubscriber", func(t *testing.T) {
		b := newBus(t)
		in := newInbox()
		subscribe(t, b, "conv.42.staff", in.handler)
		publish(t, b, "conv.42.staff", "hello")
		if f := in.next(t, "subscriber"); f != "hello" {
			t.Fatalf("got %q, want hello", f)
		}
	})

	t.Run("EverySubscriberOfASubjectGetsTheFrame", func(t *testing.T) {
		b := newBus(t)
		ins := []*inbox{newInbox(), newInbox(), newInbox()}
		for _, in := range ins {
			subscribe(t, b, "principal.user:7", in.handler)
		}
		publish(t, b, "principal.user:7", "tab")
		for i, in := range ins {
			if f := in.next(t, fmt.Sprint("subscriber ", i)); f != "tab" {
				t.Errorf("subscriber %d got %q, want tab", i, f)
			}
		}
	})

	t.Run("UnsubscribeStopsDelivery", func(t *testing.T) {
		b := newBus(t)
		gone, stays := newInbox(), newInbox()
		unsub := subscribe(t, b, "room.9.staff", gone.handler)
		subscribe(t, b, "room.9.staff", stays.handler)
		publish(t, b, "room.9.staff", "before")
		if gone.next(t, "first") != "before" || stays.next(t, "second") != "before" {
			t.Fatal("the frame before unsubscribe was not delivered to both")
		}
		unsub()
		unsub() // twice is harmless
		publish(t, b, "room.9.staff", "after")
		publish(t, b, "room.9.staff", "end")
		if got := stays.until(t, "the remaining subscriber", "end"); len(got) != 1 || got[0] != "after" {
			t.Fatalf("the remaining subscriber got %q before end, want [after]", got)
		}
		// The frames reached the other subscriber of the same subject in
		// order: had the first one still been subscribed, "after" would
		// have been in its inbox by now.
		select {
		case f := <-gone.ch:
			t.Fatalf("an unsubscribed handler got %q", f)
		default:
		}
	})

	t.Run("FramesOfOneSubjectArriveInOrder", func(t *testing.T) {
		b := newBus(t)
		in := newInbox()
		subscribe(t, b, "queue.3", in.handler)
		const n = 2000
		for i := range n {
			publish(t, b, "queue.3", strconv.Itoa(i))
		}
		for i := range n {
			if f := in.next(t, "ordered frames"); f != strconv.Itoa(i) {
				t.Fatalf("frame %d is %q", i, f)
			}
		}
	})

	t.Run("SubjectsDoNotLeakIntoEachOther", func(t *testing.T) {
		b := newBus(t)
		// Neighbours by prefix, and subjects holding what NATS would
		// read as separators or wildcards.
		subjects := []string{
			"conv.1", "conv.10", "conv.1.staff", "conv", "conv.*", "conv.>",
			"principal.visitor:a.b", "principal.visitor:a", "principal.visitor:*",
			"principal.visitor:>", "principal.visitor:a b", "principal.visitor:a\tb",
			"access", "broadcast", ">", "*", ".", "..", "parley", "parley.conv.1",
		}
		ins := make(map[string]*inbox)
		for _, s := range subjects {
			ins[s] = newInbox()
			subscribe(t, b, s, ins[s].handler)
		}
		for _, s := range subjects {
			publish(t, b, s, "to "+s)
		}
		// A leaked frame would come before the subject's own "end": one
		// publisher's frames reach a subscription in order.
		for _, s := range subjects {
			publish(t, b, s, "end")
		}
		for _, s := range subjects {
			got := ins[s].until(t, s, "end")
			if len(got) != 1 || got[0] != "to "+s {
				t.Errorf("subscriber of %q got %q, want only its own frame", s, got)
			}
		}
	})

	t.Run("ConcurrentPublishAndSubscribe", func(t *testing.T) {
		b := newBus(t)
		shared := newInbox()
		subscribe(t, b, "broadcast", shared.handler)
		const workers, frames = 8, 100
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				subject := fmt.Sprintf("conv.%d", w)
				in := newInbox()
				unsub, err := b.Subscribe(subject, in.handler)
				if err != nil {
					errs <- err
					return
				}
				defer unsub()
				for i := range frames {
					if err := b.Publish(subject, []byte(strconv.Itoa(i))); err != nil {
						errs <- err
						return
					}
					if err := b.Publish("broadcast", []byte(subject)); err != nil {
						errs <- err
						return
					}
				}
				for i := range frames {
					select {
					case f := <-in.ch:
						if f != strconv.Itoa(i) {
							errs <- fmt.Errorf("%s: frame %d is %q", subject, i, f)
							return
						}
					case <-time.After(deadline):
						errs <- fmt.Errorf("%s: frame %d did not arrive", subject, i)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		counts := map[string]int{}
		for range workers * frames {
			counts[shared.next(t, "broadcast")]++
		}
		for w := range workers {
			if c := counts[fmt.Sprintf("conv.%d", w)]; c != frames {
				t.Errorf("broadcast had %d frames of worker %d, want %d", c, w, frames)
			}
		}
	})
}

func TestMemoryBusPassesTheSuite(t *testing.T) {
	runSuite(t, func(*testing.T) Bus { return NewMemory() })
}
