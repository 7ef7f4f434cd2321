package bus

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// NATS is the bus of many nodes: frames travel as core NATS messages, so a
// frame published on one node reaches the subscribers of every node
// connected to the same NATS server or cluster.
//
// Subjects. A Parley subject may hold any characters (a principal's key,
// for one, is not ours to restrict), while NATS gives '.', '*', '>' and
// whitespace a meaning of their own. So each Parley subject becomes one
// NATS token: NATSSubjectPrefix followed by the subject in unpadded
// base64url ("conv.42.staff" → "parley.Y29udi40Mi5zdGFmZg"). That
// alphabet holds none of the special characters, the encoding is one to
// one, and a subscription is always to one literal subject: a '*' or '>'
// in a key is data, never a wildcard.
//
// Lanes and order. A node subscribes once per subject its connections
// follow: thousands of subscriptions. Rather than a goroutine each (what
// nats.go gives an asynchronous subscription), every subscription feeds
// one of a few lanes (NATSOptions.Lanes), chosen by its subject, and each
// lane's one goroutine calls the handlers of its frames, one at a time.
// So the frames of one subject published by one node arrive in the order
// they were published; frames of different subjects, or of different
// nodes, have no order between them. A handler must not block (Handler):
// it would hold up its lane.
//
// Delivery is at most once, as core NATS is. Publish only appends to the
// connection's buffer and never waits on subscribers. Each lane holds at
// most PendingMsgs frames its handlers have not taken yet; past that, NATS
// drops frames for the subscription that found it full, and the slow
// consumer error is logged and counted (SlowConsumers). While the
// connection is down the client reconnects; frames meant for this node
// meanwhile are lost to it, and what it publishes is buffered up to
// nats.go's reconnect buffer (8 MiB), past which Publish returns an error.
// Either loss calls NATSOptions.OnLoss, so the node can tell its clients to
// check what they follow against the database.
type NATS struct {
	nc   *nats.Conn
	log  *slog.Logger
	opts NATSOptions
	slow atomic.Int64

	lanes []chan *nats.Msg
	done  chan struct{} // closed by Close: the lanes stop
	mu    sync.RWMutex
	subs  map[*nats.Subscription]Handler

	closeOnce sync.Once
}

var _ Bus = (*NATS)(nil)

// NATSSubjectPrefix is the first token of every NATS subject the bus uses.
const NATSSubjectPrefix = "parley."

// NATSOptions are the limits of a NATS bus. Zero fields take the defaults
// of DefaultNATSOptions.
type NATSOptions struct {
	// PendingMsgs bounds the frames waiting in one lane for their
	// handlers. (PendingBytes is not used: nats.go counts only the frames
	// of the channels lanes are made of.)
	PendingMsgs  int
	PendingBytes int
	// Lanes is how many goroutines call the handlers (default: twice the
	// CPUs, at least 4).
	Lanes int
	// FlushTimeout bounds the round trip by which Subscribe makes its
	// subscription known to the server.
	FlushTimeout time.Duration
	// OnLoss, when set, is called when frames meant for this node may
	// have been lost: the connection came back after it was down (once
	// the server has the subscriptions again), or a subscription fell
	// behind and NATS dropped frames for it. It runs on a goroutine of the
	// NATS client and should be quick.
	OnLoss func()
}

// DefaultNATSOptions returns the default limits: 65,536 frames or 64 MiB
// waiting per subscription, and 5s for a subscription to reach the server.
func DefaultNATSOptions() NATSOptions {
	return NATSOptions{PendingMsgs: 1 << 16, PendingBytes: 64 << 20, FlushTimeout: 5 * time.Second}
}

// DialNATS connects to the NATS server(s) at url (a comma-separated list
// of nats:// URLs) as name, reconnecting without end when the connection
// drops, and returns a bus over that connection. Close closes it.
func DialNATS(url, name string, log *slog.Logger, opts NATSOptions) (*NATS, error) {
	b := newNATS(log, opts)
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ErrorHandler(b.asyncError),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted())
			// The client has sent the subscriptions again; after a round
			// trip the server has them, so whatever is read from the
			// database after OnLoss is either in the read or arrives live.
			if err := nc.FlushTimeout(b.opts.FlushTimeout); err != nil {
				b.log.Warn("nats reconnected: no round trip", "err", err)
			}
			b.lost()
		}),
	)
	if err != nil {
		b.closeOnce.Do(func() { close(b.done) })
		return nil, err
	}
	b.nc = nc
	return b, nil
}

func newNATS(log *slog.Logger, opts NATSOptions) *NATS {
	def := DefaultNATSOptions()
	if opts.PendingMsgs <= 0 {
		opts.PendingMsgs = def.PendingMsgs
	}
	if opts.PendingBytes <= 0 {
		opts.PendingBytes = def.PendingBytes
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = def.FlushTimeout
	}
	if opts.Lanes <= 0 {
		opts.Lanes = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &NATS{log: log, opts: opts, done: make(chan struct{}), subs: make(map[*nats.Subscription]Handler)}
	b.lanes = make([]chan *nats.Msg, opts.Lanes)
	for i := range b.lanes {
		b.lanes[i] = make(chan *nats.Msg, opts.PendingMsgs)
		go b.drive(b.lanes[i])
	}
	return b
}

// drive calls the handlers of lane's frames until Close. A frame of a
// subscription ended meanwhile finds no handler and is dropped.
func (b *NATS) drive(lane chan *nats.Msg) {
	for {
		select {
		case m := <-lane:
			b.mu.RLock()
			h := b.subs[m.Sub]
			b.mu.RUnlock()
			if h != nil {
				h(m.Data)
			}
		case <-b.done:
			return
		}
	}
}

// lane is the lane of NATS subject s.
func (b *NATS) lane(s string) chan *nats.Msg {
	f := fnv.New32a()
	f.Write([]byte(s)) //nolint:errcheck // a hash never fails
	return b.lanes[f.Sum32()%uint32(len(b.lanes))]
}

// asyncError is the connection's handler of asynchronous errors, a slow
// consumer among them.
func (b *NATS) asyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrSlowConsumer) {
		b.slow.Add(1)
		subject := ""
		if sub != nil {
			subject, _ = ParleySubject(sub.Subject)
		}
		b.log.Warn("bus subscriber too slow: frames dropped", "subject", subject, "err", err)
		b.lost()
		return
	}
	b.log.Warn("nats error", "err", err)
}

// lost tells OnLoss that frames may have been lost.
func (b *NATS) lost() {
	if b.opts.OnLoss != nil {
		b.opts.OnLoss()
	}
}

// SlowConsumers is how many times a subscription fell behind and NATS
// dropped frames for it.
func (b *NATS) SlowConsumers() int64 { return b.slow.Load() }

// Publish sends frame on subject.
func (b *NATS) Publish(subject string, frame []byte) error {
	s, err := NATSSubject(subject)
	if err != nil {
		return err
	}
	if err := b.nc.Publish(s, frame); err != nil {
		return fmt.Errorf("bus: publish %q: %w", subject, err)
	}
	return nil
}

// Subscribe calls h with every frame on subject until unsubscribe is
// called. It returns once the NATS server it is connected to knows of the
// subscription, so a frame that server receives afterwards, from any node
// connected to it, is delivered. (In a cluster of NATS servers the
// subscription reaches the other servers shortly after.)
func (b *NATS) Subscribe(subject string, h Handler) (func(), error) {
	s, err := NATSSubject(subject)
	if err != nil {
		return nil, err
	}
	// Under the lock, so that a frame that comes before the subscription
	// is in subs waits for it.
	b.mu.Lock()
	sub, err := b.nc.ChanSubscribe(s, b.lane(s))
	if err == nil {
		b.subs[sub] = h
	}
	b.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %q: %w", subject, err)
	}
	unsubscribe := func() {
		sub.Unsubscribe() //nolint:errcheck // closed or already gone: nothing is delivered either way
		b.mu.Lock()
		delete(b.subs, sub)
		b.mu.Unlock()
	}
	if err := b.nc.FlushTimeout(b.opts.FlushTimeout); err != nil {
		unsubscribe()
		return nil, fmt.Errorf("bus: subscribe %q: %w", subject, err)
	}
	return unsubscribe, nil
}

// Close closes the connection, writing out the frames it still buffers
// first, and ends every subscription.
func (b *NATS) Close() {
	b.nc.Close()
	b.closeOnce.Do(func() { close(b.done) })
}

var subjectEncoding = base64.RawURLEncoding

// NATSSubject is the NATS subject that carries the Parley subject s. An
// empty subject has none.
func NATSSubject(s string) (string, error) {
	if s == "" {
		return "", errors.New("bus: empty subject")
	}
	return NATSSubjectPrefix + subjectEncoding.EncodeToString([]byte(s)), nil
}

// ParleySubject is the inverse of NATSSubject.
func ParleySubject(natsSubject string) (string, error) {
	enc, ok := strings.CutPrefix(natsSubject, NATSSubjectPrefix)
	if !ok {
		return "", fmt.Errorf("bus: %q is not a parley subject", natsSubject)
	}
	raw, err := subjectEncoding.Strict().DecodeString(enc)
	if err != nil || len(raw) == 0 {
		return "", fmt.Errorf("bus: %q is not a parley subject", natsSubject)
	}
	return string(raw), nil
}

// ConnectedURL is the URL of the server the bus is connected to, its
// password hidden.
func (b *NATS) ConnectedURL() string { return b.nc.ConnectedUrlRedacted() }
