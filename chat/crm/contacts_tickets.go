package crm

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// ContactTicket is a ticket among a contact's activities, as
// docs/protocol.md's Ticket object has it.
type ContactTicket struct {
	ID             int64      `json:"id"`
	Title          string     `json:"title"`
	State          string     `json:"state"`
	Priority       string     `json:"priority"`
	Queue          IDName     `json:"queue"`
	Contact        *IDName    `json:"contact"`
	Assignee       *IDName    `json:"assignee"`
	ConversationID *int64     `json:"conversation_id"`
	Source         string     `json:"source"`
	Email          string     `json:"email"`
	CustomerName   string     `json:"customer_name"`
	Favourite      bool       `json:"favourite"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	LastSeq        int        `json:"last_seq"`
}

// IDName names a queue, a contact or a user.
type IDName struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ticketSeenSQL is the tickets' rule (docs/protocol.md, "Who may see a
// ticket") as a condition on a ticket t, for a user $1 and that user's
// scope of supervised queues $2 (nil: the scope is every queue):
// admins and supervisors of every queue see every ticket, supervisors
// with queues those queues' tickets; every staff member the tickets of
// the queues they are a member of and those assigned to them.
const ticketSeenSQL = `($2::bigint[] IS NULL OR t.queue_id = ANY ($2)
	OR EXISTS (SELECT 1 FROM queue_members m WHERE m.user_id = $1 AND m.queue_id = t.queue_id)
	OR t.assignee_id = $1)`

// Tickets lists the tickets of contact that p may see, newest
// first (by when they were made), at most limit, those made before (at,
// id) when at is not zero: a contact's activities (contact.get).
func (s *Contacts) Tickets(ctx context.Context, p auth.Principal, contact ContactID, at time.Time, id int64, limit int) ([]ContactTicket, error) {
	if err := Staff(p); err != nil {
		return nil, err
	}
	scope, err := queues.Supervised(ctx, s.pool, p)
	if err != nil {
		return nil, err
	}
	var supervised []queues.QueueID // nil: every queue
	if !scope.All {
		supervised = append([]queues.QueueID{}, scope.Queues...)
	}
	var after *time.Time
	if !at.IsZero() {
		after = &at
	}
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.title, t.state, t.priority, t.queue_id, q.name, t.contact_id,
			coalesce(ct.name, ''), t.assignee_id, coalesce(au.display_name, ''), t.conversation_id, t.source, t.email,
			t.customer_name, EXISTS (SELECT 1 FROM ticket_favourites f WHERE f.ticket_id = t.id AND f.user_id = $1),
			t.created_at, t.updated_at, t.closed_at, t.last_seq
		FROM tickets t JOIN queues q ON q.id = t.queue_id
			LEFT JOIN contacts ct ON ct.id = t.contact_id LEFT JOIN users au ON au.id = t.assignee_id
		WHERE t.contact_id = $3 AND `+ticketSeenSQL+`
			AND ($4::timestamptz IS NULL OR (t.created_at, t.id) < ($4, $5))
		ORDER BY t.created_at DESC, t.id DESC LIMIT $6`, p.UserID, supervised, contact, after, id, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ContactTicket, error) {
		var t ContactTicket
		var contactID, assigneeID *int64
		var contactName, assigneeName string
		err := r.Scan(&t.ID, &t.Title, &t.State, &t.Priority, &t.Queue.ID, &t.Queue.Name, &contactID, &contactName,
			&assigneeID, &assigneeName, &t.ConversationID, &t.Source, &t.Email, &t.CustomerName, &t.Favourite,
			&t.CreatedAt, &t.UpdatedAt, &t.ClosedAt, &t.LastSeq)
		if contactID != nil {
			t.Contact = &IDName{*contactID, contactName}
		}
		if assigneeID != nil {
			t.Assignee = &IDName{*assigneeID, assigneeName}
		}
		return t, err
	})
}
