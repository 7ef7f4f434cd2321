package chat

import (
	"strconv"
	"strings"

	"parley/auth"
)

// Connected and Disconnected are called by the websocket surface for each
// connection that opens and ends.
func (s *Service) Connected(pr auth.Principal) { s.presence.Add(pr.Key(), 1) }

// Disconnected: see Connected.
func (s *Service) Disconnected(pr auth.Principal) { s.presence.Add(pr.Key(), -1) }

// presenceChanged is told once in the deployment when the principal with
// key comes (its first connection on any node) or goes (its last one
// ends, or its node dies): an agent back online may take waiting chats,
// the staff directory shows it, and a customer's agents are told.
func (s *Service) presenceChanged(key string, online bool) {
	kind, id, _ := strings.Cut(key, ":")
	switch auth.Kind(kind) {
	case auth.KindUser:
		user, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return
		}
		s.dir.changed(auth.UserID(user)) // the staff directory shows who is connected
		if online {
			s.router.Poke() // an available agent came back: there may be chats for them
		}
	case auth.KindVisitor:
		s.conv.CustomerPresence(id, online)
	}
}

// Online reports whether the principal with key has a connection open.
func (s *Service) Online(key string) bool { return s.presence.Online(key) }
