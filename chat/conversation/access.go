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
	// Supervisors are the supervisors whose scope (queues.Supervised)
	// holds the queue the chat is in now. A loader may list only the
	// principal asking. Admins need no place here: they oversee all.
	Supervisors []auth.UserID
	State       string
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
// offered to, the supervisors of the queue it is in now (their scope) and
// admins; nobody else, guests included.
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
	case p.Is(auth.RoleAdmin),
		p.Is(auth.RoleSupervisor) && slices.Contains(r.Supervisors, p.UserID):
		a.Read, a.Close, a.Room = true, true, RoomWatch
	case p.Is(auth.RoleAgent, auth.RoleSupervisor):
		a.Read = slices.Contains(r.Offered, p.UserID)
	}
	a.Write = a.Read && r.State != StateClosed && r.State != StateOffline
	a.ReadPrivate = a.Read && p.IsStaff()
	a.Take = p.Is(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin) &&
		(slices.Contains(r.Offered, p.UserID) || slices.Contains(r.Members, p.UserID))
	return a
}

// SeesEveryQueue says whether staff member p oversees queues
// (supervisors and admins): it follows the waiting lists and reads the
// chats and the history of the queues of its scope (queues.Supervised:
// every queue for admins, and for supervisors unless an admin gave them
// some); agents those of their own queues.
func SeesEveryQueue(p auth.Principal) bool {
	return p.Kind == auth.KindUser && p.Is(auth.RoleSupervisor, auth.RoleAdmin)
}

// How the writer's statement (storeSQL) names a sender: the Go rule's
// cases, in its order.
const (
	sendAsCustomer = "customer" // a visitor
	sendAsAgent    = "agent"    // an agent: its own chats and those offered to it
	sendAsSuper    = "super"    // supervisors: their own chats, those offered to them and those of their queues
	sendAsAdmin    = "admin"    // admins: any conversation
)

// sendAs is how storeSQL names p, or "" when p may write in no
// conversation at all (guests).
func sendAs(p auth.Principal) string {
	switch {
	case p.Kind == auth.KindVisitor:
		return sendAsCustomer
	case p.Kind == auth.KindUser && p.Is(auth.RoleAdmin):
		return sendAsAdmin
	case p.Kind == auth.KindUser && p.Is(auth.RoleSupervisor):
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
// started in. A supervisor reads what an agent would, and the chats in
// the queues of its scope (supervisor_queues, read as queues.Supervised
// reads it: no row is every queue); admins read every chat.
const readSQL = `coalesce(CASE
				WHEN i.sender = 'customer' THEN c.visitor = i.subject AND EXISTS (SELECT 1 FROM queues oq
					WHERE oq.id = coalesce(c.origin_queue_id, c.queue_id) AND oq.key = i.scope)
				WHEN i.sender = 'admin' THEN c.id IS NOT NULL
				WHEN i.sender IN ('agent', 'super') AND (c.agent_id = i.user_id
					OR EXISTS (SELECT 1 FROM conversation_agents ca WHERE ca.conversation_id = c.id AND ca.user_id = i.user_id)
					OR EXISTS (SELECT 1 FROM offers o
					WHERE o.conversation_id = c.id AND o.user_id = i.user_id AND o.state = 'pending')) THEN true
				WHEN i.sender = 'super' THEN NOT EXISTS (SELECT 1 FROM supervisor_queues sq WHERE sq.user_id = i.user_id)
					OR EXISTS (SELECT 1 FROM supervisor_queues sq WHERE sq.user_id = i.user_id AND sq.queue_id = c.queue_id)
				ELSE false END, false)`

// relation reads what Decide needs to judge p on conversation c: its
// queue's key, whether a supervisor oversees the queue it is in now, and
// whether an agent it is not assigned to has an offer of it.
func (s *Log) relation(ctx context.Context, p auth.Principal, c Conversation) (Relation, error) {
	r := Relation{Visitor: c.visitor, State: c.State, Agents: agentsOf(c)}
	if p.Kind == auth.KindUser && p.Is(auth.RoleSupervisor) {
		if err := s.supervises(ctx, p, c, &r); err != nil {
			return r, err
		}
	}
	switch {
	case p.Kind == auth.KindVisitor:
		r.QueueKey = s.queueKey(ctx, c.originQueue)
	case p.Kind == auth.KindUser && p.Is(auth.RoleAgent, auth.RoleSupervisor) && !slices.Contains(r.Agents, p.UserID):
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

// supervises lists supervisor p in r.Supervisors when its scope holds
// the queue c is in now.
func (s *Log) supervises(ctx context.Context, p auth.Principal, c Conversation, r *Relation) error {
	scope, err := queues.Supervised(ctx, s.pool, p)
	if err != nil {
		return err
	}
	if scope.Has(c.Queue.ID) {
		r.Supervisors = []auth.UserID{p.UserID}
	}
	return nil
}

// historyRelation is an earlier conversation's Relation in a history for
// a reader whose scope is scope: closed chats have no pending offers.
func historyRelation(p auth.Principal, scope queues.Scope, c Conversation) Relation {
	r := Relation{Visitor: c.visitor, State: c.State, Agents: agentsOf(c)}
	if p.Is(auth.RoleSupervisor) && scope.Has(c.Queue.ID) {
		r.Supervisors = []auth.UserID{p.UserID}
	}
	return r
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
