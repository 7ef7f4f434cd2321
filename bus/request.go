package bus

import (
	"context"
	"errors"
	"sync"
)

// Requester asks one server a question and waits for its answer: request
// and reply, beside the bus's publish and subscribe. A node serves the
// requests of a subject of its own (as rooms serves "node.<id>.rooms"),
// and any node asks it. MemoryBus and NATS implement it; a request is
// a byte slice in each direction, encoded by the caller.
type Requester interface {
	// Request sends data to the server of subject and returns its reply,
	// or ErrNoResponders when nobody serves subject, or ctx's error when
	// the reply does not come before ctx ends.
	Request(ctx context.Context, subject string, data []byte) ([]byte, error)
	// Serve answers every request on subject with h until stop is
	// called. Each request runs h on a goroutine of its own, so a slow
	// one holds up no other; h's context ends when stop is called.
	Serve(subject string, h RequestHandler) (stop func(), err error)
}

// RequestHandler answers one request.
type RequestHandler func(ctx context.Context, data []byte) []byte

// ErrNoResponders is a request nobody serves.
var ErrNoResponders = errors.New("bus: no server for the request's subject")

var _ Requester = (*MemoryBus)(nil)

// memoryServer is one subject's server on a MemoryBus.
type memoryServer struct {
	h      RequestHandler
	ctx    context.Context
	cancel context.CancelFunc
}

// Request implements Requester: the subject's server is called on a
// goroutine of its own.
func (b *MemoryBus) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	b.mu.RLock()
	srv := b.servers[subject]
	b.mu.RUnlock()
	if srv == nil {
		return nil, ErrNoResponders
	}
	reply := make(chan []byte, 1)
	in := append([]byte(nil), data...)
	go func() { reply <- srv.h(srv.ctx, in) }()
	select {
	case r := <-reply:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Serve implements Requester. One subject has one server: a second Serve
// of it replaces the first.
func (b *MemoryBus) Serve(subject string, h RequestHandler) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := &memoryServer{h: h, ctx: ctx, cancel: cancel}
	b.mu.Lock()
	if b.servers == nil {
		b.servers = map[string]*memoryServer{}
	}
	b.servers[subject] = srv
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			if b.servers[subject] == srv {
				delete(b.servers, subject)
			}
			b.mu.Unlock()
			cancel()
		})
	}, nil
}
