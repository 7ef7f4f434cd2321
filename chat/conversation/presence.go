package conversation

import (
	"context"
	"sync"
	"time"

	"parley/auth"
)

// Presence counts the open connections of each principal (by its key).
// Routing offers chats only to agents with a connection; agents see
// whether their customer is still there. LocalPresence counts this
// node's connections, which is everything on one node; presence over
// several nodes adds an implementation that sums the nodes' counts.
type Presence interface {
	// Online reports whether key has a connection open.
	Online(key string) bool
	// Add changes key's count by d and reports whether key went online
	// or offline by it.
	Add(key string, d int) (changed bool)
}

var _ Presence = (*LocalPresence)(nil)

// LocalPresence is Presence in this process.
type LocalPresence struct {
	mu    sync.Mutex
	count map[string]int
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
func (p *LocalPresence) Add(key string, d int) (changed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before := p.count[key]
	after := before + d
	if after <= 0 {
		delete(p.count, key)
		after = 0
	} else {
		p.count[key] = after
	}
	return (before == 0) != (after == 0)
}

// CustomerPresence tells the agents of visitor pr's open conversations
// that it came (online) or went.
func (s *Log) CustomerPresence(pr auth.Principal, online bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	open, err := s.openOf(ctx, pr)
	if err != nil {
		s.log.Warn("presence: open conversations", "err", err)
		return
	}
	for _, c := range open {
		s.PublishSubject(StaffSubject(c.ID), "chat.presence", map[string]any{"conversation_id": c.ID, "customer_online": online})
	}
}
