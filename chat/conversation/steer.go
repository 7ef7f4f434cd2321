package conversation

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/bus"
	"parley/chat/queues"
)

// What supervisors and admins do to chats they oversee (assign), and to
// agents' connections (log out): the rule of who may is Decide's, with
// the role on top.

// CloseCodeSignedOut is the close code of every connection of a user
// whose sessions ended: signed out in a tab (reason "signed out"), or by
// a supervisor (agent.logout: the reason names who).
const CloseCodeSignedOut = 4001

// OverseeCheck is the rule of a supervisor's request on a chat it read:
// forbidden unless p is a supervisor or an admin ("only supervisors and
// admins may " + what), conflict unless the chat is active.
func OverseeCheck(p auth.Principal, c Conversation, what string) error {
	if p.Kind != auth.KindUser || !p.Is(auth.RoleSupervisor, auth.RoleAdmin) {
		return queues.Detail(queues.ErrForbidden, "only supervisors and admins may "+what)
	}
	if c.State != StateActive {
		if c.State == StateClosed {
			return queues.Conflict("the chat is closed")
		}
		return queues.Conflict("the chat waits in its queue: no agent has it yet")
	}
	return nil
}

// Oversee reads conversation id for a supervisor's request of p: forbidden
// unless p is a supervisor or an admin, not_found unless p may read it (a
// supervisor: its queue is in p's scope), conflict unless it is active.
// Callers check again, with OverseeCheck, on the row they lock.
func (s *Log) Oversee(ctx context.Context, p auth.Principal, id ID, what string) (Conversation, queues.Queue, error) {
	if p.Kind != auth.KindUser || !p.Is(auth.RoleSupervisor, auth.RoleAdmin) {
		return Conversation{}, queues.Queue{}, queues.Detail(queues.ErrForbidden, "only supervisors and admins may "+what)
	}
	c, q, _, err := s.readable(ctx, p, id)
	if err != nil {
		return c, q, err
	}
	return c, q, OverseeCheck(p, c, what)
}

// ChatsOf lists the active chats user is an agent of, oldest first.
func ChatsOf(ctx context.Context, db Querier, user auth.UserID) ([]ID, error) {
	rows, err := db.Query(ctx, `SELECT c.id FROM conversations c
		WHERE c.state = 'active' AND (c.agent_id = $1
			OR EXISTS (SELECT 1 FROM conversation_agents ca WHERE ca.conversation_id = c.id AND ca.user_id = $1))
		ORDER BY c.id`, user)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[ID])
}

// CloseUser closes every connection of user, on every node, with
// CloseCodeSignedOut and reason.
func (s *Log) CloseUser(user auth.UserID, reason string) {
	s.publishAccessEnded(bus.AccessEnded{Principal: auth.Principal{Kind: auth.KindUser, UserID: user}.Key(),
		Close: true, CloseCode: CloseCodeSignedOut, CloseReason: reason})
}
