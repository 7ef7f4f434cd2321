package conversation

import (
	"context"
	"slices"

	"parley/auth"
	"parley/chat/queues"
)

// Who may read or write a conversation is decided here and nowhere else:
// Decide over a principal and the conversation's Relation. Every Go path
// (start and resume, history, send, typing, close, accept, the
// room of a conversation, the end of access) asks it, and the one SQL
// filter of access, the writer's (storeSQL), takes its condition from
// readSQL below, which TestOneAccessRuleInGoAndInTheWritersSQL runs
// against Decide over the same table.

// Relation is what a conversation's access depends on.
type Relation struct {
	// Visitor is its customer's subject, and QueueKey the key of the
	// queue it started in (a transfer to a queue does not change it): a
	// visitor token names both (Subject, Scope).
	Visitor, QueueKey string
	// Agents are the conversation's agents: every agent in the chat now
	// (conversation_agents), the lead included. Invites add to it;
	// leaving and transfers take from it.
	Agents []auth.UserID
	// Offered are the agents with a pending offer of it, and Members the
	// agents of its queue. A loader may list only the principal asking:
	// the rule looks up nobody else.
	Offered, Members []auth.UserID
	State            string
}

// RoomRole is how a principal takes part in a conversation's video room.
type RoomRole int

// Room roles.
const (
	RoomNone     RoomRole = iota // may not join it
	RoomCustomer                 // its customer: joins, and creates it when the queue allows customer calls
	RoomAgent                    // its agent: creates, joins and ends it
	RoomWatch                    // supervisors and admins: join it receive-only
)

// Access is what a principal may do with a conversation.
type Access struct {
	// Read: see it and follow its events. Otherwise the answer is
	// not_found, the same as for an id that does not exist, so ids cannot
	// be probed.
	Read bool
	// Write: send messages and typing in it. Read while it is open; a
	// reader of a closed chat is answered conflict.
	Write bool
	// ReadPrivate: its private rows (notes, offers, rejections, misses),
	// staff who read it. In a history of earlier chats, which have no
	// offers, that is supervisors, admins and the chat's agents.
	ReadPrivate bool
	// Take: accept it, as an agent it is offered to or an agent of its
	// queue (from the waiting list).
	Take bool
	// Close: end it (its customer) or close it with a status (its agents,
	// supervisors and admins).
	Close bool
	Room  RoomRole
}

// Decide is the access rule: a conversation is read by its own customer
// (the visitor token's subject, in its queue), its agents, an agent it is
// offered to, supervisors and admins; nobody else, guests included.
func Decide(p auth.Principal, r Relation) Access {
	var a Access
	own := p.Kind == auth.KindUser && slices.Contains(r.Agents, p.UserID)
	switch {
	case p.Kind == auth.KindVisitor:
		if p.Subject == r.Visitor && p.Scope == r.QueueKey {
			a.Read, a.Close, a.Room = true, true, RoomCustomer
		}
	case p.Kind != auth.KindUser:
	case own && p.Is(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin):
		a.Read, a.Close, a.Room = true, true, RoomAgent
	case SeesEveryQueue(p):
		a.Read, a.Close, a.Room = true, true, RoomWatch
	case p.Is(auth.RoleAgent):
		a.Read = slices.Contains(r.Offered, p.UserID)
	}
	a.Write = a.Read && r.State != StateClosed
	a.ReadPrivate = a.Read && p.IsStaff()
	a.Take = p.Is(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin) &&
		(slices.Contains(r.Offered, p.UserID) || slices.Contains(r.Members, p.UserID))
	return a
}

// SeesEveryQueue says whether staff member p follows the waiting list and
// reads the history of every queue (supervisors and admins); agents those
// of their own queues.
func SeesEveryQueue(p auth.Principal) bool {
	return p.Kind == auth.KindUser && p.Is(auth.RoleSupervisor, auth.RoleAdmin)
}

// How the writer's statement (storeSQL) names a sender: the Go rule's
// cases, in its order.
const (
	sendAsCustomer = "customer" // a visitor
	sendAsAgent    = "agent"    // an agent: its own chats and those offered to it
	sendAsSuper    = "super"    // supervisors and admins: any conversation
)

// sendAs is how storeSQL names p, or "" when p may write in no
// conversation at all (guests).
func sendAs(p auth.Principal) string {
	switch {
	case p.Kind == auth.KindVisitor:
		return sendAsCustomer
	case SeesEveryQueue(p):
		return sendAsSuper
	case p.Kind == auth.KindUser && p.Is(auth.RoleAgent):
		return sendAsAgent
	}
	return ""
}

// readSQL is Decide's Read in SQL, over a conversation c, its queue q and
// a sender i (sender: sendAs; subject and scope: a visitor's; user_id: a
// user's). Agents are the set conversation_agents, which holds the lead
// c.agent_id too (agentsOf reads both, as a row written with the lead
// alone is still its agent's). The customer's queue is the one it
// started in. Supervisors and admins who are a chat's agent read it as
// supervisors.
const readSQL = `coalesce(CASE i.sender
				WHEN 'customer' THEN c.visitor = i.subject AND EXISTS (SELECT 1 FROM queues oq
					WHERE oq.id = coalesce(c.origin_queue_id, c.queue_id) AND oq.key = i.scope)
				WHEN 'agent' THEN c.agent_id = i.user_id
					OR EXISTS (SELECT 1 FROM conversation_agents ca WHERE ca.conversation_id = c.id AND ca.user_id = i.user_id)
					OR EXISTS (SELECT 1 FROM offers o
					WHERE o.conversation_id = c.id AND o.user_id = i.user_id AND o.state = 'pending')
				WHEN 'super' THEN c.id IS NOT NULL
				ELSE false END, false)`

// relation reads what Decide needs to judge p on conversation c: its
// queue's key, and whether an agent it is not assigned to has an offer
// of it.
func (s *Log) relation(ctx context.Context, p auth.Principal, c Conversation) (Relation, error) {
	r := Relation{Visitor: c.visitor, State: c.State, Agents: agentsOf(c)}
	switch {
	case p.Kind == auth.KindVisitor:
		r.QueueKey = s.queueKey(ctx, c.originQueue)
	case p.Kind == auth.KindUser && p.Is(auth.RoleAgent) && !slices.Contains(r.Agents, p.UserID):
		var offered bool
		err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM offers
			WHERE conversation_id = $1 AND user_id = $2 AND state = 'pending')`, c.ID, p.UserID).Scan(&offered)
		if err != nil {
			return r, err
		}
		if offered {
			r.Offered = []auth.UserID{p.UserID}
		}
	}
	return r, nil
}

// access is Decide for p on conversation c, answering queues.ErrNotFound when p
// may not read it.
func (s *Log) access(ctx context.Context, p auth.Principal, c Conversation) (Access, error) {
	r, err := s.relation(ctx, p, c)
	if err != nil {
		return Access{}, err
	}
	a := Decide(p, r)
	if !a.Read {
		return a, queues.ErrNotFound
	}
	return a, nil
}

// readable reads conversation id and its queue for p, answering
// queues.ErrNotFound when p may not read it, and what p may do with it.
func (s *Log) readable(ctx context.Context, p auth.Principal, id ID) (Conversation, queues.Queue, Access, error) {
	c, err := Get(ctx, s.pool, id, false)
	if err != nil {
		return c, queues.Queue{}, Access{}, err
	}
	a, err := s.access(ctx, p, c)
	if err != nil {
		return c, queues.Queue{}, a, err
	}
	q, err := s.queue(ctx, c.Queue.ID)
	return c, q, a, err
}

// historyRelation is an earlier conversation's Relation in a history:
// closed chats have no pending offers.
func historyRelation(c Conversation) Relation {
	return Relation{Visitor: c.visitor, State: c.State, Agents: agentsOf(c)}
}

// agentsOf is the set of c's agents: its lead and the others in the chat.
func agentsOf(c Conversation) []auth.UserID {
	ids := make([]auth.UserID, 0, len(c.Agents)+1)
	if c.agentID != nil {
		ids = append(ids, *c.agentID)
	}
	for _, a := range c.Agents {
		if a.ID != nil && !slices.Contains(ids, *a.ID) {
			ids = append(ids, *a.ID)
		}
	}
	return ids
}

// HasAgent says whether user is one of c's agents.
func HasAgent(c Conversation, user auth.UserID) bool { return slices.Contains(agentsOf(c), user) }
