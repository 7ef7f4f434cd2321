package bus

import "sync"

// MemoryBus is the single-node bus: subscribers are called directly on the
// publisher's goroutine. It doubles as the bus of tests.
type MemoryBus struct {
	mu   sync.RWMutex
	next uint64
	subs map[string]*subscribers
	// servers answer requests (request.go), one per subject.
	servers map[string]*memoryServer
}

// subscribers are one subject's handlers. Publish calls them from list, a
// copy made on the first publish after a change and never written again,
// so that each publish neither allocates nor walks a map (every message
// is published on two subjects).
type subscribers struct {
	byID map[uint64]Handler
	list []Handler // nil: changed since it was made
}

var _ Bus = (*MemoryBus)(nil)

// NewMemory returns an empty in-process bus.
func NewMemory() *MemoryBus {
	return &MemoryBus{subs: make(map[string]*subscribers)}
}

// Publish calls every handler of subject with frame. The handlers are
// those of the moment it was called, and they are called with no lock
// held, so a handler may subscribe or unsubscribe.
func (b *MemoryBus) Publish(subject string, frame []byte) error {
	for _, h := range b.handlers(subject) {
		h(frame)
	}
	return nil
}

// handlers returns subject's handlers as a list nobody writes to.
func (b *MemoryBus) handlers(subject string) []Handler {
	b.mu.RLock()
	s := b.subs[subject]
	if s == nil || s.list != nil {
		defer b.mu.RUnlock()
		if s == nil {
			return nil
		}
		return s.list
	}
	b.mu.RUnlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if s = b.subs[subject]; s == nil {
		return nil // its last subscriber left meanwhile
	}
	if s.list == nil {
		s.list = make([]Handler, 0, len(s.byID))
		for _, h := range s.byID {
			s.list = append(s.list, h)
		}
	}
	return s.list
}

// Subscribe adds h to subject.
func (b *MemoryBus) Subscribe(subject string, h Handler) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	id := b.next
	s := b.subs[subject]
	if s == nil {
		s = &subscribers{byID: make(map[uint64]Handler)}
		b.subs[subject] = s
	}
	s.byID[id] = h
	s.list = nil
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			s := b.subs[subject]
			if s == nil {
				return
			}
			delete(s.byID, id)
			s.list = nil
			if len(s.byID) == 0 {
				delete(b.subs, subject)
			}
		})
	}, nil
}
