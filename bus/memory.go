package bus

import "sync"

// MemoryBus is the single-node bus: subscribers are called directly on the
// publisher's goroutine. It doubles as the bus of tests.
type MemoryBus struct {
	mu   sync.RWMutex
	next uint64
	subs map[string]map[uint64]Handler
	// servers answer requests (request.go), one per subject.
	servers map[string]*memoryServer
}

var _ Bus = (*MemoryBus)(nil)

// NewMemory returns an empty in-process bus.
func NewMemory() *MemoryBus {
	return &MemoryBus{subs: make(map[string]map[uint64]Handler)}
}

// Publish calls every handler of subject with frame. Handlers are copied
// under the lock and called after it is released, so a handler may
// subscribe or unsubscribe.
func (b *MemoryBus) Publish(subject string, frame []byte) error {
	b.mu.RLock()
	hs := make([]Handler, 0, len(b.subs[subject]))
	for _, h := range b.subs[subject] {
		hs = append(hs, h)
	}
	b.mu.RUnlock()
	for _, h := range hs {
		h(frame)
	}
	return nil
}

// Subscribe adds h to subject.
func (b *MemoryBus) Subscribe(subject string, h Handler) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	id := b.next
	if b.subs[subject] == nil {
		b.subs[subject] = make(map[uint64]Handler)
	}
	b.subs[subject][id] = h
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.subs[subject], id)
			if len(b.subs[subject]) == 0 {
				delete(b.subs, subject)
			}
		})
	}, nil
}
