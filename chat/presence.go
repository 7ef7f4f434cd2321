package chat

import "parley/auth"

// Connected and Disconnected are called by the websocket surface for each
// connection that opens and ends.
func (s *Service) Connected(pr auth.Principal) { s.presenceChanged(pr, 1) }

// Disconnected: see Connected.
func (s *Service) Disconnected(pr auth.Principal) { s.presenceChanged(pr, -1) }

// presenceChanged counts pr's connection; when pr comes or goes, an agent
// back online may take waiting chats, and a customer's agents are told.
func (s *Service) presenceChanged(pr auth.Principal, d int) {
	if !s.presence.Add(pr.Key(), d) {
		return
	}
	online := d > 0
	switch pr.Kind {
	case auth.KindUser:
		s.dir.changed(pr.UserID) // the staff directory shows who is connected
		if online {
			s.router.Poke() // an available agent came back: there may be chats for them
		}
	case auth.KindVisitor:
		s.conv.CustomerPresence(pr, online)
	}
}

// Online reports whether the principal with key has a connection open.
func (s *Service) Online(key string) bool { return s.presence.Online(key) }
