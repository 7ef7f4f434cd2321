package conversation

import (
	"context"
	"sync"
	"time"
)

// Presence counts the open connections of each principal (by its key).
// Routing offers chats only to agents with a connection; agents see
// whether their customer is still there. LocalPresence counts this
// process's connections, which is everything on one node; the cluster's
// presence (cluster.Presence) counts every live node's.
type Presence interface {
	// Online reports whether key has a connection open (on any node).
	Online(key string) bool
	// Add changes key's count of connections on this node by d.
	Add(key string, d int)
	// Watch sets f, told of each key that comes online (its first
	// connection anywhere) or goes offline (its last one ends, or the
	// node holding it dies): once in the whole deployment, on one node.
	// Call it before the first Add; f must not block for long.
	Watch(f func(key string, online bool))
}

var _ Presence = (*LocalPresence)(nil)

// LocalPresence is Presence in this process: Add tells the watcher at
// once, on the caller's goroutine.
type LocalPresence struct {
	mu    sync.Mutex
	count map[string]int
	watch func(key string, online bool)
}

// NewLocalPresence makes a presence with nobody connected.
func NewLocalPresence() *LocalPresence { return &LocalPresence{count: map[string]int{}} }

// Online implements Presence.
func (p *LocalPresence) Online(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count[key] > 0
}

// Add implements Presence.
func (p *LocalPresence) Add(key string, d int) {
	p.mu.Lock()
	before := p.count[key]
	after := before + d
	if after <= 0 {
		delete(p.count, key)
		after = 0
	} else {
		p.count[key] = after
	}
	watch := p.watch
	p.mu.Unlock()
	if (before == 0) != (after == 0) && watch != nil {
		watch(key, after > 0)
	}
}

// Watch implements Presence.
func (p *LocalPresence) Watch(f func(key string, online bool)) {
	p.mu.Lock()
	p.watch = f
	p.mu.Unlock()
}

// CustomerPresence tells the agents of the open conversations of the
// visitor with subject (its principal's Subject, which is the visitor's
// own; its key names no queue) that it came (online) or went, and
// records on them when it went (customer_left_at: auto finish).
func (s *Log) CustomerPresence(subject string, online bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	open, err := s.markCustomerLeft(ctx, subject, online) // auto finish (system_close.go)
	if err != nil {
		s.log.Warn("presence: open conversations", "err", err)
		return
	}
	for _, id := range open {
		s.PublishSubject(StaffSubject(id), "chat.presence", map[string]any{"conversation_id": id, "customer_online": online})
	}
}
