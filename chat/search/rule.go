package search

import (
	"context"
	"slices"
	"strconv"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Who may find, open and mark which conversation is decided here, once,
// in Go (sees) and in SQL (sql), and TestTheRuleInGoAndInSQLAgree runs
// both over the same table of principals and conversations:
//
//   - admins: every conversation;
//   - supervisors: the conversations of the queues they oversee
//     (queues.Supervised: every queue unless an admin gave them some);
//   - every staff member, agents included: the conversations they are an
//     agent of (the lead, conversations.agent_id, or one of
//     conversation_agents), the same set the access rule calls a chat's
//     agents;
//   - customers and guests: none, and they are told forbidden.
//
// A conversation in a queue is judged by the queue it is in now
// (conversations.queue_id: where a transfer put it).

// who is what a staff member may find.
type who struct {
	all    bool
	queues []queues.QueueID
	user   auth.UserID
}

// whoIs reads p's rule: forbidden for anyone but staff.
func whoIs(ctx context.Context, db conversation.Querier, p auth.Principal) (who, error) {
	if !p.IsStaff() {
		return who{}, queues.Detail(queues.ErrForbidden, "the history is for staff")
	}
	scope, err := queues.Supervised(ctx, db, p)
	if err != nil {
		return who{}, err
	}
	return who{all: scope.All, queues: scope.Queues, user: p.UserID}, nil
}

// sees is the rule in Go, over a conversation as conversation.Get reads it.
func (w who) sees(c conversation.Conversation) bool {
	return w.all || slices.Contains(w.queues, c.Queue.ID) || conversation.HasAgent(c, w.user)
}

// sql is the rule as a condition on a conversation c, its values added
// to a.
func (w who) sql(a *args) string {
	if w.all {
		return "true"
	}
	u := a.add(w.user)
	own := "(coalesce(c.agent_id = " + u + ", false) OR EXISTS (SELECT 1 FROM conversation_agents ca WHERE ca.conversation_id = c.id AND ca.user_id = " + u + "))"
	if len(w.queues) == 0 {
		return own
	}
	return "(c.queue_id = ANY (" + a.add(w.queues) + ") OR " + own + ")"
}

// args are a statement's values, numbered $1, $2… as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}
