package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
)

var _ Requester = (*NATS)(nil)

// Request implements Requester with a core NATS request: the reply comes
// on a subject of this connection's own, and NATS says at once when the
// subject has no server (ErrNoResponders).
func (b *NATS) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	s, err := NATSSubject(subject)
	if err != nil {
		return nil, err
	}
	msg, err := b.nc.RequestWithContext(ctx, s, data)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, ErrNoResponders
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, fmt.Errorf("bus: request %q: %w", subject, err)
	}
	return msg.Data, nil
}

// Serve implements Requester: it subscribes to subject and answers each
// request on a goroutine of its own. It returns once the server knows of
// the subscription. stop waits for no answer: one that is still running
// replies into the void.
func (b *NATS) Serve(subject string, h RequestHandler) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := NATSSubject(subject)
	if err != nil {
		cancel()
		return nil, err
	}
	sub, err := b.nc.Subscribe(s, func(m *nats.Msg) {
		go func() {
			if m.Reply == "" {
				return // not a request: nobody to answer
			}
			m.Respond(h(ctx, m.Data)) //nolint:errcheck // the asker times out
		}()
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bus: serve %q: %w", subject, err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			sub.Unsubscribe() //nolint:errcheck // closed or already gone
			cancel()
		})
	}
	if err := b.nc.FlushTimeout(b.opts.FlushTimeout); err != nil {
		stop()
		return nil, fmt.Errorf("bus: serve %q: %w", subject, err)
	}
	return stop, nil
}
