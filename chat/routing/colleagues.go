package routing

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Colleague names a staff member on the wire.
type Colleague struct {
	ID   auth.UserID `json:"id"`
	Name string      `json:"name"`
}

// colleague is a staff member as a target of an invitation or a
// transfer of a chat: whether and how much they can take now.
type colleague struct {
	Colleague
	Status   string
	Open     int // chats they are in that count toward capacity
	Pending  int // offers waiting for their answer
	Capacity int
	LastBusy time.Time
	InChat   bool
	Queues   []queues.QueueID
	online   bool
}

// hasRoom says whether c may take one more chat now.
func (c colleague) hasRoom() bool { return c.Open+c.Pending < c.Capacity }

// available says whether c may be offered chat conv now: online,
// available, with room and not in it already.
func (c colleague) available() bool {
	return c.online && c.Status == StatusAvailable && c.hasRoom() && !c.InChat
}

// colleaguesSQL reads staff members (all, or $3 alone) as targets of chat
// $1 of queue $2. Their capacity is that of the chat's queue when they are
// its member, else the largest of their queues', else the chat's queue's.
const colleaguesSQL = `SELECT u.id, u.display_name, coalesce(st.status, 'available'),
		(SELECT count(*) FROM conversation_agents ca JOIN conversations oc ON oc.id = ca.conversation_id
			WHERE ca.user_id = u.id AND (oc.state = 'active' OR oc.wrap_up_due)),
		(SELECT count(*) FROM offers o WHERE o.user_id = u.id AND o.state = 'pending'),
		coalesce((SELECT q.capacity FROM queue_members m JOIN queues q ON q.id = m.queue_id
				WHERE m.user_id = u.id AND m.queue_id = $2),
			(SELECT max(q.capacity) FROM queue_members m JOIN queues q ON q.id = m.queue_id WHERE m.user_id = u.id),
			(SELECT capacity FROM queues WHERE id = $2)),
		coalesce(st.last_activity_at, 'epoch'),
		EXISTS (SELECT 1 FROM conversation_agents WHERE conversation_id = $1 AND user_id = u.id)
			OR u.id = (SELECT agent_id FROM conversations WHERE id = $1),
		coalesce((SELECT array_agg(m.queue_id ORDER BY m.queue_id) FROM queue_members m WHERE m.user_id = u.id), '{}')
	FROM users u LEFT JOIN agent_status st ON st.user_id = u.id
	WHERE NOT u.disabled AND u.role IN ('agent', 'supervisor', 'admin') AND ($3::bigint IS NULL OR u.id = $3)
	ORDER BY u.display_name, u.id`

// colleagues reads the staff as targets of chat c (only: one of them, or
// all when nil).
func (s *Router) colleagues(ctx context.Context, db conversation.Querier, c conversation.Conversation, only *auth.UserID) ([]colleague, error) {
	rows, err := db.Query(ctx, colleaguesSQL, c.ID, c.Queue.ID, only)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (colleague, error) {
		var k colleague
		err := r.Scan(&k.ID, &k.Name, &k.Status, &k.Open, &k.Pending, &k.Capacity, &k.LastBusy, &k.InChat, &k.Queues)
		return k, err
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].online = s.presence.Online(auth.Principal{Kind: auth.KindUser, UserID: out[i].ID}.Key())
	}
	return out, nil
}

// TargetAgent is a colleague who can take a chat now, for the
// transfer and invite picker.
type TargetAgent struct {
	Colleague
	Status    string      `json:"status"`
	OpenChats int         `json:"open_chats"`
	Capacity  int         `json:"capacity"`
	Queues    []TargetRef `json:"queues"`
}

// TargetRef names a queue of a TargetAgent.
type TargetRef struct {
	ID   queues.QueueID `json:"id"`
	Name string         `json:"name"`
}

// TargetQueue is a queue with an agent who can take a chat now.
type TargetQueue struct {
	TargetRef
	AvailableAgents int `json:"available_agents"`
	Waiting         int `json:"waiting"`
}

// Targets are whom p may invite into chat id or transfer it to now.
type Targets struct {
	Agents []TargetAgent `json:"agents"`
	Queues []TargetQueue `json:"queues"`
}

// TransferTargets lists the colleagues who can take p's chat id now
// (online, available, with room, not p and not in it already) and the
// queues with at least one of them.
func (s *Router) TransferTargets(ctx context.Context, p auth.Principal, id conversation.ID) (Targets, error) {
	c, _, err := s.conv.TeamChat(ctx, p, id, "transfer it")
	if err != nil {
		return Targets{}, err
	}
	return s.targets(ctx, p, c)
}

// targets lists the colleagues who can take chat c now (online,
// available, with room, not p and not in it already) and the queues with
// at least one of them.
func (s *Router) targets(ctx context.Context, p auth.Principal, c conversation.Conversation) (Targets, error) {
	all, err := s.colleagues(ctx, s.pool, c, nil)
	if err != nil {
		return Targets{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT q.id, q.name,
			(SELECT count(*) FROM conversations w WHERE w.queue_id = q.id AND w.state IN ('queued', 'offered'))
		FROM queues q ORDER BY q.name, q.id`)
	if err != nil {
		return Targets{}, err
	}
	qs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TargetQueue, error) {
		var t TargetQueue
		err := r.Scan(&t.ID, &t.Name, &t.Waiting)
		return t, err
	})
	if err != nil {
		return Targets{}, err
	}
	out := Targets{Agents: []TargetAgent{}, Queues: []TargetQueue{}}
	for _, k := range all {
		if k.ID == p.UserID || !k.available() {
			continue
		}
		a := TargetAgent{Colleague: k.Colleague, Status: k.Status, OpenChats: k.Open, Capacity: k.Capacity, Queues: []TargetRef{}}
		for i := range qs {
			if slices.Contains(k.Queues, qs[i].ID) {
				qs[i].AvailableAgents++
				a.Queues = append(a.Queues, qs[i].TargetRef)
			}
		}
		out.Agents = append(out.Agents, a)
	}
	for _, q := range qs {
		if q.AvailableAgents > 0 {
			out.Queues = append(out.Queues, q)
		}
	}
	return out, nil
}
