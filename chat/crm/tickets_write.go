package crm

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
	"parley/mail"
)

// Origin is the chat a ticket is made from: its queue, contact, customer
// and e-mail (the chat layer reads them, having checked that the caller
// may read the chat).
type Origin struct {
	ConversationID int64
	QueueID        queues.QueueID
	ContactID      *int64
	CustomerName   string
	CustomerEmail  string
}

// Create makes a ticket by hand (in.QueueID), in a queue whose tickets p
// sees; a ticket from a chat is CreateTx's, inside the chat's transaction.
func (s *Tickets) Create(ctx context.Context, p auth.Principal, in CreateInput) (Ticket, error) {
	if _, err := viewerOf(ctx, s.pool, p); err != nil {
		return Ticket{}, err
	}
	if err := in.check(); err != nil {
		return Ticket{}, err
	}
	if in.ConversationID != 0 {
		return Ticket{}, queues.Bad(`a ticket from a chat is made by the chat service`)
	}
	var id TicketID
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		id, err = CreateTx(ctx, tx, p, in, nil)
		return err
	})
	if err != nil {
		return Ticket{}, err
	}
	s.Tell(ctx, id)
	return readTicket(ctx, s.pool, p.UserID, id, false)
}

// CreateTx makes a ticket inside tx: from chat origin when it is not nil
// (the caller may read that chat; it links the chat itself), else by hand
// in in.QueueID. in is checked here.
func CreateTx(ctx context.Context, tx pgx.Tx, p auth.Principal, in CreateInput, origin *Origin) (TicketID, error) {
	v, err := viewerOf(ctx, tx, p)
	if err != nil {
		return 0, err
	}
	if err := in.check(); err != nil {
		return 0, err
	}
	source, customer, email := SourceManual, "", in.Email
	var contactID *int64
	if origin != nil {
		source, in.QueueID, contactID, customer = SourceAgent, origin.QueueID, origin.ContactID, origin.CustomerName
	} else {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM queues WHERE id = $1)`, in.QueueID).Scan(&exists); err != nil {
			return 0, err
		}
		if !exists || !v.mayMake(in.QueueID) {
			return 0, queues.Bad(`"queue_id": %d is not a queue whose tickets you see`, in.QueueID)
		}
		contactID = in.ContactID
	}
	if contactID != nil {
		var name, first string
		err := tx.QueryRow(ctx, `SELECT name, coalesce(emails[1], '') FROM contacts WHERE id = $1`, *contactID).Scan(&name, &first)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, queues.Bad(`"contact_id": there is no contact %d`, *contactID)
		}
		if err != nil {
			return 0, err
		}
		if customer == "" {
			customer = name
		}
		if email == "" {
			email = first
		}
	}
	if email == "" && origin != nil {
		email = origin.CustomerEmail
	}
	var assignee *Ref
	if in.AssigneeID != nil {
		if assignee, err = checkAssignee(ctx, tx, in.QueueID, *in.AssigneeID); err != nil {
			return 0, err
		}
	}
	state := StateUnassigned
	var assigneeID *int64
	if assignee != nil {
		state, assigneeID = StateAssigned, &assignee.ID
	}
	var conversationID *int64
	if origin != nil {
		conversationID = &origin.ConversationID
	}
	var id TicketID
	if err := tx.QueryRow(ctx, `INSERT INTO tickets (title, state, priority, queue_id, contact_id, assignee_id,
		conversation_id, source, email, customer_name, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		RETURNING id`, in.Title, state, in.Priority, in.QueueID, contactID, assigneeID, conversationID, source, email,
		customer, p.UserID).Scan(&id); err != nil {
		return 0, err
	}
	created := map[string]any{"source": source}
	if conversationID != nil {
		created["conversation_id"] = *conversationID
	}
	evs := []Event{staffEvent(id, p, EventCreated, "", created)}
	if assignee != nil {
		evs = append(evs, staffEvent(id, p, EventAssigned, "", map[string]any{"assignee": assignee}))
	}
	if in.Text != "" {
		evs = append(evs, staffEvent(id, p, EventNote, in.Text, nil))
	}
	for i := range evs {
		if err := appendEvent(ctx, tx, &evs[i]); err != nil {
			return 0, err
		}
	}
	return id, touchSearch(ctx, tx, id)
}

// SystemTx makes the unassigned ticket of conversation id, which the
// system ended before anyone answered it (SourceMaxWait,
// SourceQueueClosed) or which is an offline message (SourceOffline),
// inside the transaction that stores that: its queue, contact, customer
// and e-mail are the chat's, and the chat is linked to it. Once per chat
// (the unique index tickets_from_system): made is false when the chat
// already has one.
func SystemTx(ctx context.Context, tx pgx.Tx, conversationID int64, source, title string) (id TicketID, made bool, err error) {
	switch source {
	case SourceOffline, SourceMaxWait, SourceQueueClosed:
	default:
		return 0, false, fmt.Errorf("crm: %q is not a source the system makes tickets of", source)
	}
	err = tx.QueryRow(ctx, `INSERT INTO tickets (title, queue_id, contact_id, conversation_id, source, email, customer_name)
		SELECT $2, c.queue_id, c.contact_id, c.id, $3,
			coalesce(nullif(ct.emails[1], ''), c.customer_email, ''), c.customer_name
		FROM conversations c LEFT JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = $1
		ON CONFLICT (conversation_id) WHERE source IN ('offline', 'max_wait', 'queue_closed') DO NOTHING
		RETURNING id`, conversationID, title, source).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	ev := Event{TicketID: id, Kind: EventCreated, Author: EventAuthor{Kind: "system"},
		Data: mustJSON(map[string]any{"source": source, "conversation_id": conversationID})}
	if err := appendEvent(ctx, tx, &ev); err != nil {
		return 0, false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE conversations SET ticket_id = $2 WHERE id = $1`, conversationID, id); err != nil {
		return 0, false, err
	}
	return id, true, touchSearch(ctx, tx, id)
}

// checkAssignee answers user as a ticket's assignee in queue: an active
// member of the queue (who therefore sees its tickets).
func checkAssignee(ctx context.Context, db Querier, queue queues.QueueID, user auth.UserID) (*Ref, error) {
	var r Ref
	err := db.QueryRow(ctx, `SELECT u.id, u.display_name FROM users u
		JOIN queue_members m ON m.user_id = u.id AND m.queue_id = $2 WHERE u.id = $1 AND NOT u.disabled`,
		user, queue).Scan(&r.ID, &r.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, queues.Bad(`"assignee_id": user %d is not an agent of the ticket's queue`, user)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// change runs f on ticket id, locked, inside one transaction, when p may
// see it; then tells the change and answers the ticket as it is now.
func (s *Tickets) change(ctx context.Context, p auth.Principal, id TicketID, f func(tx pgx.Tx, t Ticket) error) (Ticket, error) {
	var out Ticket
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := lockSeen(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := f(tx, t); err != nil {
			return err
		}
		if err := touchSearch(ctx, tx, id); err != nil {
			return err
		}
		out, err = readTicket(ctx, tx, p.UserID, id, false)
		return err
	})
	if err != nil {
		return Ticket{}, err
	}
	s.Tell(ctx, id)
	return out, nil
}

// lockSeen reads and locks ticket id inside tx, if p may see it.
func lockSeen(ctx context.Context, tx pgx.Tx, p auth.Principal, id TicketID) (Ticket, error) {
	v, err := viewerOf(ctx, tx, p)
	if err != nil {
		return Ticket{}, err
	}
	t, err := readTicket(ctx, tx, p.UserID, id, true)
	if err != nil {
		return Ticket{}, err
	}
	if !v.sees(t.queueID(), t.assigneeID()) {
		return Ticket{}, ErrNoTicket
	}
	return t, nil
}

// Update changes a ticket's title, priority, e-mail or contact: one
// changed event listing what changed (none when nothing did).
func (s *Tickets) Update(ctx context.Context, p auth.Principal, in UpdateInput) (Ticket, error) {
	if _, err := viewerOf(ctx, s.pool, p); err != nil {
		return Ticket{}, err
	}
	if err := in.check(); err != nil {
		return Ticket{}, err
	}
	return s.change(ctx, p, in.TicketID, func(tx pgx.Tx, t Ticket) error {
		type fieldChange struct {
			Field string `json:"field"`
			Old   any    `json:"old"`
			New   any    `json:"new"`
		}
		var fields []fieldChange
		if in.Title != nil && *in.Title != t.Title {
			fields = append(fields, fieldChange{"title", t.Title, *in.Title})
			t.Title = *in.Title
		}
		if in.Priority != nil && *in.Priority != t.Priority {
			fields = append(fields, fieldChange{"priority", t.Priority, *in.Priority})
			t.Priority = *in.Priority
		}
		if in.Email != nil && *in.Email != t.Email {
			fields = append(fields, fieldChange{"email", t.Email, *in.Email})
			t.Email = *in.Email
		}
		var contactID *int64
		if t.Contact != nil {
			contactID = &t.Contact.ID
		}
		if in.ContactID.Set && !sameID(in.ContactID.Value, contactID) {
			if v := in.ContactID.Value; v != nil {
				var exists bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1)`, *v).Scan(&exists); err != nil {
					return err
				}
				if !exists {
					return queues.Bad(`"contact_id": there is no contact %d`, *v)
				}
			}
			fields = append(fields, fieldChange{"contact_id", contactID, in.ContactID.Value})
			contactID = in.ContactID.Value
		}
		if len(fields) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET title = $2, priority = $3, email = $4, contact_id = $5
			WHERE id = $1`, t.ID, t.Title, t.Priority, t.Email, contactID); err != nil {
			return err
		}
		ev := staffEvent(t.ID, p, EventChanged, "", map[string]any{"fields": fields})
		return appendEvent(ctx, tx, &ev)
	})
}

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// Assign assigns ticket id to user (state assigned; a closed ticket stays
// closed), or unassigns it when user is nil. The assignee must be an
// agent of its queue. Assigning it to whom it already is changes nothing.
func (s *Tickets) Assign(ctx context.Context, p auth.Principal, id TicketID, user *auth.UserID) (Ticket, error) {
	if _, err := viewerOf(ctx, s.pool, p); err != nil {
		return Ticket{}, err
	}
	if err := checkID(id); err != nil {
		return Ticket{}, err
	}
	if user != nil && *user <= 0 {
		return Ticket{}, queues.Bad(`"assignee_id" must be a user id (a positive number) or null`)
	}
	return s.change(ctx, p, id, func(tx pgx.Tx, t Ticket) error {
		if user == nil {
			if t.Assignee == nil {
				return nil
			}
			if _, err := tx.Exec(ctx, `UPDATE tickets SET assignee_id = NULL,
				state = CASE WHEN state = 'closed' THEN state ELSE 'unassigned' END WHERE id = $1`, id); err != nil {
				return err
			}
			ev := staffEvent(id, p, EventUnassigned, "", map[string]any{"assignee": t.Assignee})
			return appendEvent(ctx, tx, &ev)
		}
		if t.Assignee != nil && auth.UserID(t.Assignee.ID) == *user {
			return nil
		}
		a, err := checkAssignee(ctx, tx, t.queueID(), *user)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET assignee_id = $2,
			state = CASE WHEN state = 'closed' THEN state ELSE 'assigned' END WHERE id = $1`, id, a.ID); err != nil {
			return err
		}
		ev := staffEvent(id, p, EventAssigned, "", map[string]any{"assignee": a})
		return appendEvent(ctx, tx, &ev)
	})
}

// Close closes ticket id; conflict when it is closed.
func (s *Tickets) Close(ctx context.Context, p auth.Principal, id TicketID) (Ticket, error) {
	if _, err := viewerOf(ctx, s.pool, p); err != nil {
		return Ticket{}, err
	}
	if err := checkID(id); err != nil {
		return Ticket{}, err
	}
	return s.change(ctx, p, id, func(tx pgx.Tx, t Ticket) error {
		if t.State == StateClosed {
			return queues.Conflict("ticket %d is already closed", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET state = 'closed', closed_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		ev := staffEvent(id, p, EventClosed, "", nil)
		return appendEvent(ctx, tx, &ev)
	})
}

// Reopen opens closed ticket id again: assigned when it has an assignee,
// else unassigned; conflict when it is open.
func (s *Tickets) Reopen(ctx context.Context, p auth.Principal, id TicketID) (Ticket, error) {
	if _, err := viewerOf(ctx, s.pool, p); err != nil {
		return Ticket{}, err
	}
	if err := checkID(id); err != nil {
		return Ticket{}, err
	}
	return s.change(ctx, p, id, func(tx pgx.Tx, t Ticket) error {
		if t.State != StateClosed {
			return queues.Conflict("ticket %d is open (%s), not closed", id, t.State)
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET closed_at = NULL,
			state = CASE WHEN assignee_id IS NULL THEN 'unassigned' ELSE 'assigned' END WHERE id = $1`, id); err != nil {
			return err
		}
		ev := staffEvent(id, p, EventReopened, "", nil)
		return appendEvent(ctx, tx, &ev)
	})
}

// Reply e-mails in.Text to the ticket's customer (in.To, else the
// ticket's e-mail): the message goes to the outbox in the transaction of
// the reply event, so both are made or neither. It carries the text and
// nothing of the chat. Answers the event.
func (s *Tickets) Reply(ctx context.Context, p auth.Principal, in ReplyInput) (Event, error) {
	if _, err := viewerOf(ctx, s.pool, p); err != nil {
		return Event{}, err
	}
	if err := in.check(); err != nil {
		return Event{}, err
	}
	var ev Event
	_, err := s.change(ctx, p, in.TicketID, func(tx pgx.Tx, t Ticket) error {
		to := in.To
		if to == "" {
			to = t.Email
		}
		if to == "" {
			return queues.Bad(`"to": ticket %d has no e-mail address; give one`, t.ID)
		}
		mailID, err := mail.Enqueue(ctx, tx, replyMail(t, p, to, in.Text))
		if err != nil {
			return err
		}
		ev = staffEvent(t.ID, p, EventReply, in.Text, map[string]any{"to": to, "mail_id": mailID})
		ev.Channel, ev.Direction = "email", "out"
		return appendEvent(ctx, tx, &ev)
	})
	return ev, err
}

// replyMail is the e-mail of a reply: the text, signed with the agent's
// name and the queue's; its subject names the ticket so that a reply to it
// can find the thread again.
func replyMail(t Ticket, p auth.Principal, to, text string) mail.Message {
	greeting := "Hello,"
	if t.CustomerName != "" {
		greeting = "Hello " + t.CustomerName + ","
	}
	return mail.Message{
		To:      []string{to},
		Subject: fmt.Sprintf("[#%d] %s", t.ID, t.Title),
		Body:    fmt.Sprintf("%s\n\n%s\n\n%s\n%s\n", greeting, text, p.Name, t.Queue.Name),
		Cause:   "ticket",
		CauseID: int64(t.ID),
	}
}

// Note adds a note for staff to ticket id. Answers the event.
func (s *Tickets) Note(ctx context.Context, p auth.Principal, id TicketID, text string) (Event, error) {
	if _, err := viewerOf(ctx, s.pool, p); err != nil {
		return Event{}, err
	}
	if err := checkID(id); err != nil {
		return Event{}, err
	}
	if err := queues.BadText("text", text); err != nil {
		return Event{}, err
	}
	if err := checkText(text); err != nil {
		return Event{}, err
	}
	var ev Event
	_, err := s.change(ctx, p, id, func(tx pgx.Tx, t Ticket) error {
		ev = staffEvent(id, p, EventNote, text, nil)
		return appendEvent(ctx, tx, &ev)
	})
	return ev, err
}

// Favourite stars or unstars ticket id for p alone: no event, nobody else
// is told.
func (s *Tickets) Favourite(ctx context.Context, p auth.Principal, id TicketID, on bool) (Ticket, error) {
	if _, err := viewerOf(ctx, s.pool, p); err != nil {
		return Ticket{}, err
	}
	if err := checkID(id); err != nil {
		return Ticket{}, err
	}
	var out Ticket
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := lockSeen(ctx, tx, p, id); err != nil {
			return err
		}
		sql := `DELETE FROM ticket_favourites WHERE user_id = $1 AND ticket_id = $2`
		if on {
			sql = `INSERT INTO ticket_favourites (user_id, ticket_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`
		}
		if _, err := tx.Exec(ctx, sql, p.UserID, id); err != nil {
			return err
		}
		var err error
		out, err = readTicket(ctx, tx, p.UserID, id, false)
		return err
	})
	return out, err
}

// LockTx locks the rows of tickets ids inside tx, in the order of their
// ids: a caller that changes several locks them first, so that two such
// callers cannot deadlock.
func LockTx(ctx context.Context, tx pgx.Tx, ids ...TicketID) error {
	_, err := tx.Exec(ctx, `SELECT 1 FROM tickets WHERE id = ANY ($1) ORDER BY id FOR UPDATE`, ids)
	return err
}

// LinkTx records in ticket id's thread, inside tx, that conversation
// conv was linked to it (linked) or unlinked from it (unlinked), when p
// may see the ticket; the chat's own row and event are the caller's.
// Answers the ticket as it was.
func LinkTx(ctx context.Context, tx pgx.Tx, p auth.Principal, id TicketID, conv int64, linked bool) (Ticket, error) {
	t, err := lockSeen(ctx, tx, p, id)
	if err != nil {
		return Ticket{}, err
	}
	kind := EventLinked
	if !linked {
		kind = EventUnlinked
	}
	ev := staffEvent(id, p, kind, "", map[string]any{"conversation_id": conv})
	return t, appendEvent(ctx, tx, &ev)
}
