package chat

import (
	"context"
	"sync"
	"time"

	"parley/auth"
)

// presence counts the open connections of each principal on this node.
// Routing offers chats only to agents with a connection; agents see whether
// their customer is still there.
type presence struct {
	mu    sync.Mutex
	count map[string]int
}

func (p *presence) online(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count[key] > 0
}

// add changes key's count by d and reports whether it went online or
// offline by it.
func (p *presence) add(key string, d int) (changed bool) {
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

// Connected and Disconnected are called by the websocket surface for each
// connection that opens and ends.
func (s *Service) Connected(pr auth.Principal) { s.presenceChanged(pr, 1) }

// Disconnected: see Connected.
func (s *Service) Disconnected(pr auth.Principal) { s.presenceChanged(pr, -1) }

func (s *Service) presenceChanged(pr auth.Principal, d int) {
	if !s.presence.add(pr.Key(), d) {
		return
	}
	online := d > 0
	switch pr.Kind {
	case auth.KindUser:
		if online {
			s.poke() // an available agent came back: there may be chats for them
		}
	case auth.KindVisitor:
		// Tell the agents of the visitor's open conversations.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		open, err := s.openOf(ctx, pr)
		if err != nil {
			s.log.Warn("presence: open conversations", "err", err)
			return
		}
		for _, c := range open {
			s.publishSubject(StaffSubject(c.ID), "chat.presence", map[string]any{"conversation_id": c.ID, "customer_online": online})
		}
	}
}

// Online reports whether the principal with key has a connection open to
// this node.
func (s *Service) Online(key string) bool { return s.presence.online(key) }
