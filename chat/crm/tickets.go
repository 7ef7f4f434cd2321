package crm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/chat/queues"
)

// Tickets: work that outlives a chat (docs/protocol.md, "Tickets
// (staff)"). A ticket is unassigned, assigned to an agent, or closed, and
// may be reopened; every change is a numbered event of its thread
// (ticket_events), written in the transaction of the change. Who may see
// a ticket is one rule (tickets_rule.go); every change is told to every
// staff member who may see the ticket (ticket.changed, tickets_tell.go).

// TicketID identifies a ticket.
type TicketID int64

func (id TicketID) String() string { return strconv.FormatInt(int64(id), 10) }

// Ticket states.
const (
	StateUnassigned = "unassigned"
	StateAssigned   = "assigned"
	StateClosed     = "closed"
)

// Ticket sources: how it came.
const (
	SourceAgent       = "agent"        // from a chat, by an agent
	SourceManual      = "manual"       // by hand
	SourceOffline     = "offline"      // the offline form
	SourceMaxWait     = "max_wait"     // a chat that waited too long
	SourceQueueClosed = "queue_closed" // a chat whose queue closed while it waited
)

// Ticket event kinds.
const (
	EventCreated    = "created"
	EventReply      = "reply"
	EventNote       = "note"
	EventAssigned   = "assigned"
	EventUnassigned = "unassigned"
	EventClosed     = "closed"
	EventReopened   = "reopened"
	EventLinked     = "linked"
	EventUnlinked   = "unlinked"
	EventChanged    = "changed"
)

// Priorities, lowest first.
var Priorities = []string{"low", "normal", "high", "urgent"}

// Ref names a queue, a contact or a user inside a ticket.
type Ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Ticket is a ticket as staff see it.
type Ticket struct {
	ID             TicketID   `json:"id"`
	Title          string     `json:"title"`
	State          string     `json:"state"`
	Priority       string     `json:"priority"`
	Queue          Ref        `json:"queue"`
	Contact        *Ref       `json:"contact"`
	Assignee       *Ref       `json:"assignee"`
	ConversationID *int64     `json:"conversation_id"`
	Source         string     `json:"source"`
	Email          string     `json:"email"`
	CustomerName   string     `json:"customer_name"`
	Favourite      bool       `json:"favourite"` // the reader's own star
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	LastSeq        int        `json:"last_seq"`
}

// queueID is the ticket's queue as the rule takes it.
func (t Ticket) queueID() queues.QueueID { return queues.QueueID(t.Queue.ID) }

// assigneeID is the ticket's assignee, 0 when none.
func (t Ticket) assigneeID() auth.UserID {
	if t.Assignee == nil {
		return 0
	}
	return auth.UserID(t.Assignee.ID)
}

// Event is one numbered thing in a ticket's thread.
type Event struct {
	TicketID  TicketID        `json:"ticket_id"`
	Seq       int             `json:"seq"`
	Kind      string          `json:"kind"`
	Channel   string          `json:"channel,omitempty"`
	Direction string          `json:"direction,omitempty"`
	Author    EventAuthor     `json:"author"`
	Text      string          `json:"text,omitempty"`
	Data      json.RawMessage `json:"data"`
	Time      time.Time       `json:"time"`

	authorID *auth.UserID
}

// EventAuthor wrote an event: a customer, an agent (any staff member) or
// the system.
type EventAuthor struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Tickets is the ticket store.
type Tickets struct {
	pool *pgxpool.Pool
	bus  bus.Bus
	log  *slog.Logger
}

// NewTickets makes the store; it holds nothing but its arguments, so
// making one is free.
func NewTickets(pool *pgxpool.Pool, b bus.Bus, log *slog.Logger) *Tickets {
	return &Tickets{pool: pool, bus: b, log: log}
}

// Querier is a pool, a connection or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ErrNoTicket answers a ticket that does not exist or that the caller may
// not see: the two are one answer, so ids cannot be probed.
var ErrNoTicket = queues.Detail(queues.ErrNotFound, "no such ticket")

// ticketColumns are a ticket's columns over ticketFrom, as scanTicket
// reads them; $1 is the reader, whose star Favourite is.
const ticketColumns = `t.id, t.title, t.state, t.priority, t.queue_id, q.name, t.contact_id, coalesce(ct.name, ''),
	t.assignee_id, coalesce(au.display_name, ''), t.conversation_id, t.source, t.email, t.customer_name,
	EXISTS (SELECT 1 FROM ticket_favourites f WHERE f.ticket_id = t.id AND f.user_id = $1),
	t.created_at, t.updated_at, t.closed_at, t.last_seq`

const ticketFrom = ` FROM tickets t JOIN queues q ON q.id = t.queue_id
	LEFT JOIN contacts ct ON ct.id = t.contact_id LEFT JOIN users au ON au.id = t.assignee_id `

func scanTicket(row pgx.Row) (Ticket, error) {
	var t Ticket
	var contactID, assigneeID *int64
	var contactName, assigneeName string
	err := row.Scan(&t.ID, &t.Title, &t.State, &t.Priority, &t.Queue.ID, &t.Queue.Name, &contactID, &contactName,
		&assigneeID, &assigneeName, &t.ConversationID, &t.Source, &t.Email, &t.CustomerName, &t.Favourite,
		&t.CreatedAt, &t.UpdatedAt, &t.ClosedAt, &t.LastSeq)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNoTicket
	}
	if contactID != nil {
		t.Contact = &Ref{*contactID, contactName}
	}
	if assigneeID != nil {
		t.Assignee = &Ref{*assigneeID, assigneeName}
	}
	return t, err
}

// readTicket reads ticket id for reader, locking its row when lock is set
// and db is a transaction.
func readTicket(ctx context.Context, db Querier, reader auth.UserID, id TicketID, lock bool) (Ticket, error) {
	sql := `SELECT ` + ticketColumns + ticketFrom + ` WHERE t.id = $2`
	if lock {
		sql += ` FOR UPDATE OF t`
	}
	return scanTicket(db.QueryRow(ctx, sql, reader, id))
}

const eventColumns = `ticket_id, seq, kind, channel, direction, author_kind, author_id, author_name, text, data, created_at`

func scanEvent(row pgx.Row) (Event, error) {
	var ev Event
	err := row.Scan(&ev.TicketID, &ev.Seq, &ev.Kind, &ev.Channel, &ev.Direction, &ev.Author.Kind, &ev.authorID,
		&ev.Author.Name, &ev.Text, &ev.Data, &ev.Time)
	return ev, err
}

// events are ticket id's events in seq order.
func events(ctx context.Context, db Querier, id TicketID) ([]Event, error) {
	rows, err := db.Query(ctx, `SELECT `+eventColumns+` FROM ticket_events WHERE ticket_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) { return scanEvent(r) })
}

// appendEvent numbers ev in its ticket and stores it inside tx; the
// ticket's row (locked by the UPDATE) orders concurrent writers, so the
// numbers have no gaps. The ticket's updated_at moves with it.
func appendEvent(ctx context.Context, tx pgx.Tx, ev *Event) error {
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage(`{}`)
	}
	err := tx.QueryRow(ctx, `UPDATE tickets SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1
		RETURNING last_seq`, ev.TicketID).Scan(&ev.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNoTicket
	}
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `INSERT INTO ticket_events
		(ticket_id, seq, kind, channel, direction, author_kind, author_id, author_name, text, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING created_at`,
		ev.TicketID, ev.Seq, ev.Kind, ev.Channel, ev.Direction, ev.Author.Kind, ev.authorID, ev.Author.Name,
		ev.Text, ev.Data).Scan(&ev.Time)
}

// staffEvent is an event of kind written by staff member p, with data.
func staffEvent(id TicketID, p auth.Principal, kind, text string, data any) Event {
	u := p.UserID
	return Event{TicketID: id, Kind: kind, Author: EventAuthor{Kind: "agent", Name: p.Name}, Text: text,
		Data: mustJSON(data), authorID: &u}
}

// mustJSON encodes data, which is always a map or a struct of plain
// values; nil is {}.
func mustJSON(data any) json.RawMessage {
	if data == nil {
		return json.RawMessage(`{}`)
	}
	b, err := json.Marshal(data)
	if err != nil {
		panic("crm: encode event data: " + err.Error())
	}
	return b
}

// searchText is what a ticket's text search looks in (tickets.search).
const searchSQL = `lower(t.title || ' ' || t.customer_name || ' ' || t.email)`

// touchSearch rewrites ticket id's search column from its fields.
func touchSearch(ctx context.Context, tx pgx.Tx, id TicketID) error {
	_, err := tx.Exec(ctx, `UPDATE tickets t SET search = `+searchSQL+` WHERE t.id = $1`, id)
	return err
}
