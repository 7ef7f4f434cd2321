package sfu

import (
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
)

// firstCheck lets a connection's lite agent take the first pair the
// client checks, instead of waiting for the client to nominate one.
//
// A lite agent is connected only once the client nominates a pair, and
// DTLS starts only then. Chromium nominates with its next check of a pair
// that has worked, 40-90 ms after its own ICE is connected and its DTLS
// ClientHello sent: every browser joining waited that long with the
// ClientHello in our buffer. A check that reached us with the right
// credentials proves the path from the client, and our answer to it goes
// back the same way, so the pair can carry DTLS at once. The client's
// nomination still wins when it comes: a lite agent switches to the pair
// nominated (Pion checks no priority there), so media ends on the pair
// the client chose.
//
// One is made per connection; the agent calls take on every binding
// request, after its own handling of it. The USERNAME (the two ufrags)
// marks one ICE session: after an ICE restart the first check of the new
// one is taken again.
type firstCheck struct {
	mu   sync.Mutex
	user string // the USERNAME of the session whose pair was taken or nominated
}

func (f *firstCheck) take(m *stun.Message, _, _ ice.Candidate, _ *ice.CandidatePair) bool {
	var user stun.Username
	if user.GetFrom(m) != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if string(user) == f.user {
		return false
	}
	f.user = string(user)
	// A nominating check has just been taken by the agent's own rule.
	return !m.Contains(stun.AttrUseCandidate)
}
