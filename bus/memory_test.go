package bus

import (
	"fmt"
	"sync"
	"testing"
)

func TestMemoryBusDeliversToSubscribersOfTheSubjectOnly(t *testing.T) {
	b := NewMemory()
	var mu sync.Mutex
	got := map[string][]string{}
	sub := func(name, subject string) func() {
		unsub, err := b.Subscribe(subject, func(frame []byte) {
			mu.Lock()
			got[name] = append(got[name], string(frame))
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		return unsub
	}
	unsubA := sub("a", "conv.1")
	sub("b", "conv.1")
	sub("c", "conv.2")
	b.Publish("conv.1", []byte("one"))
	unsubA()
	unsubA() // twice is harmless
	b.Publish("conv.1", []byte("two"))
	b.Publish("conv.3", []byte("nobody"))
	if want := []string{"one"}; len(got["a"]) != 1 || got["a"][0] != want[0] {
		t.Errorf("a got %v, want %v", got["a"], want)
	}
	if len(got["b"]) != 2 || len(got["c"]) != 0 {
		t.Errorf("b got %v, c got %v", got["b"], got["c"])
	}
	if len(b.subs) != 2 {
		t.Errorf("%d subjects remain, want 2 (conv.1 for b, conv.2)", len(b.subs))
	}
}

func TestAHandlerMaySubscribeWhileBeingCalled(t *testing.T) {
	b := NewMemory()
	done := make(chan struct{})
	b.Subscribe("x", func([]byte) { //nolint:errcheck
		b.Subscribe("y", func([]byte) { close(done) }) //nolint:errcheck
	})
	b.Publish("x", nil)
	b.Publish("y", nil)
	<-done
}

func TestFrameIsAnEnvelope(t *testing.T) {
	f, err := Frame("chat.event", map[string]int{"seq": 3})
	if err != nil || string(f) != `{"type":"chat.event","data":{"seq":3}}` {
		t.Fatalf("%s %v", f, err)
	}
	if _, err := Frame("x.y", func() {}); err == nil {
		t.Fatal("a function was encoded")
	}
}

func TestMemoryBusPublishSeesSubscribeAndUnsubscribe(t *testing.T) {
	b := NewMemory()
	var got []string
	unsubA, _ := b.Subscribe("s", func([]byte) { got = append(got, "a") })
	b.Publish("s", nil)
	b.Subscribe("s", func([]byte) { got = append(got, "b") }) //nolint:errcheck
	b.Publish("s", nil)
	unsubA()
	b.Publish("s", nil)
	a, bs := 0, 0
	for _, g := range got {
		if g == "a" {
			a++
		} else {
			bs++
		}
	}
	if a != 2 || bs != 2 {
		t.Errorf("a called %d times, b %d; want 2 and 2 (%v)", a, bs, got)
	}
}

// BenchmarkMemoryBusPublish is a message's publish on a node with many
// subjects: a conversation's staff subject with its agent's two tabs.
func BenchmarkMemoryBusPublish(b *testing.B) {
	bus := NewMemory()
	for i := range 10000 {
		bus.Subscribe(fmt.Sprintf("conv.%d", i), func([]byte) {}) //nolint:errcheck
	}
	bus.Subscribe("conv.42", func([]byte) {}) //nolint:errcheck
	frame := []byte("x")
	b.ReportAllocs()
	for b.Loop() {
		bus.Publish("conv.42", frame)
	}
}
