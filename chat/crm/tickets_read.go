package crm

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// SearchInput is ticket.search: each filter optional.
type SearchInput struct {
	Text       string         `json:"text"`
	State      string         `json:"state"` // unassigned, assigned, closed, or open (not closed)
	Mine       bool           `json:"mine"`
	Favourites bool           `json:"favourites"`
	ContactID  int64          `json:"contact_id"`
	Company    string         `json:"company"`
	QueueID    queues.QueueID `json:"queue_id"`
	AssigneeID auth.UserID    `json:"assignee_id"`
	Limit      int            `json:"limit"`
	Cursor     string         `json:"cursor"`
}

// Page is a page of tickets, newest change first; Cursor asks for the
// next, "" on the last.
type Page struct {
	Tickets []Ticket `json:"tickets"`
	Cursor  string   `json:"cursor"`
}

// pageCursor is where a page ended: the last ticket's updated_at and id.
type pageCursor struct {
	at time.Time
	id TicketID
}

func (c pageCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.at.UnixMicro(), 10) + "." + c.id.String()))
}

func parseCursor(s string) (pageCursor, error) {
	bad := queues.Bad(`"cursor" is not one this server gave: %q`, s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageCursor{}, bad
	}
	at, id, ok := strings.Cut(string(b), ".")
	if !ok {
		return pageCursor{}, bad
	}
	us, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return pageCursor{}, bad
	}
	return pageCursor{time.UnixMicro(us), TicketID(n)}, nil
}

func (in *SearchInput) check() (after *pageCursor, err error) {
	if err := queues.BadText("text", in.Text, "company", in.Company, "cursor", in.Cursor); err != nil {
		return nil, err
	}
	in.Text, in.Company = strings.TrimSpace(in.Text), strings.TrimSpace(in.Company)
	switch {
	case len([]rune(in.Text)) > MaxTitle:
		return nil, queues.Bad(`"text" is %d characters, at most %d`, len([]rune(in.Text)), MaxTitle)
	case len([]rune(in.Company)) > MaxTitle:
		return nil, queues.Bad(`"company" is %d characters, at most %d`, len([]rune(in.Company)), MaxTitle)
	case in.State != "" && in.State != "open" && in.State != StateUnassigned && in.State != StateAssigned && in.State != StateClosed:
		return nil, queues.Bad(`"state" must be "unassigned", "assigned", "closed" or "open" (or left out), not %q`, in.State)
	case in.ContactID < 0:
		return nil, queues.Bad(`"contact_id" must be a contact id (a positive number)`)
	case in.QueueID < 0:
		return nil, queues.Bad(`"queue_id" must be a queue id (a positive number)`)
	case in.AssigneeID < 0:
		return nil, queues.Bad(`"assignee_id" must be a user id (a positive number)`)
	case in.Limit == 0:
		in.Limit = 20
	case in.Limit < 1 || in.Limit > 100:
		return nil, queues.Bad(`"limit" must be from 1 to 100, not %d`, in.Limit)
	}
	if in.Cursor == "" {
		return nil, nil
	}
	c, err := parseCursor(in.Cursor)
	return &c, err
}

// likeArg is s as a LIKE pattern that finds it anywhere, lower-cased.
func likeArg(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// Search finds the tickets p may see that pass in's filters, newest
// change first, a page at a time.
func (s *Tickets) Search(ctx context.Context, p auth.Principal, in SearchInput) (Page, error) {
	v, err := viewerOf(ctx, s.pool, p)
	if err != nil {
		return Page{}, err
	}
	after, err := in.check()
	if err != nil {
		return Page{}, err
	}
	a := args{p.UserID} // $1: the reader (ticketColumns)
	where := []string{v.sql(&a)}
	if in.Text != "" {
		where = append(where, `t.search LIKE `+a.add(likeArg(in.Text)))
	}
	switch in.State {
	case "":
	case "open":
		where = append(where, `t.state <> 'closed'`)
	default:
		where = append(where, `t.state = `+a.add(in.State))
	}
	if in.Mine {
		where = append(where, `t.assignee_id = $1`)
	}
	if in.Favourites {
		where = append(where, `EXISTS (SELECT 1 FROM ticket_favourites f WHERE f.ticket_id = t.id AND f.user_id = $1)`)
	}
	if in.ContactID != 0 {
		where = append(where, `t.contact_id = `+a.add(in.ContactID))
	}
	if in.Company != "" {
		where = append(where, `lower(ct.company) LIKE `+a.add(likeArg(in.Company)))
	}
	if in.QueueID != 0 {
		where = append(where, `t.queue_id = `+a.add(in.QueueID))
	}
	if in.AssigneeID != 0 {
		where = append(where, `t.assignee_id = `+a.add(in.AssigneeID))
	}
	if after != nil {
		where = append(where, `(t.updated_at, t.id) < (`+a.add(after.at)+`, `+a.add(after.id)+`)`)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY t.updated_at DESC, t.id DESC LIMIT `+a.add(in.Limit+1), a...)
	if err != nil {
		return Page{}, err
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r) })
	if err != nil {
		return Page{}, err
	}
	out := Page{Tickets: ts}
	if len(ts) > in.Limit {
		out.Tickets = ts[:in.Limit]
		last := out.Tickets[in.Limit-1]
		out.Cursor = pageCursor{last.UpdatedAt, last.ID}.String()
	}
	return out, nil
}

// AgentCount is how many tickets an agent has; Agent nil for those
// without one.
type AgentCount struct {
	Agent *Ref `json:"agent"`
	Count int  `json:"count"`
}

// Counts are what the supervisor console's Tickets tab groups by.
type Counts struct {
	Unassigned int          `json:"unassigned"`
	Assigned   []AgentCount `json:"assigned"`
	// Closed are the tickets closed today (UTC), by their assignee.
	Closed []AgentCount `json:"closed"`
}

// Counts counts the tickets p may see: unassigned, assigned by agent, and
// closed today (UTC) by agent.
func (s *Tickets) Counts(ctx context.Context, p auth.Principal) (Counts, error) {
	v, err := viewerOf(ctx, s.pool, p)
	if err != nil {
		return Counts{}, err
	}
	var a args
	rows, err := s.pool.Query(ctx, `SELECT t.state, t.assignee_id, coalesce(u.display_name, ''), count(*)
		FROM tickets t LEFT JOIN users u ON u.id = t.assignee_id
		WHERE `+v.sql(&a)+` AND (t.state <> 'closed' OR t.closed_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
		GROUP BY 1, 2, 3 ORDER BY 3, 2`, a...)
	if err != nil {
		return Counts{}, err
	}
	defer rows.Close()
	out := Counts{Assigned: []AgentCount{}, Closed: []AgentCount{}}
	for rows.Next() {
		var state, name string
		var id *int64
		var n int
		if err := rows.Scan(&state, &id, &name, &n); err != nil {
			return Counts{}, err
		}
		var agent *Ref
		if id != nil {
			agent = &Ref{*id, name}
		}
		switch state {
		case StateUnassigned:
			out.Unassigned += n
		case StateAssigned:
			out.Assigned = append(out.Assigned, AgentCount{agent, n})
		case StateClosed:
			out.Closed = append(out.Closed, AgentCount{agent, n})
		}
	}
	return out, rows.Err()
}

// Thread is a ticket as ticket.get reads it in crm: the ticket, its
// events, and the chats linked to it (the chat layer reads those and the
// originating chat's transcript).
type Thread struct {
	Ticket Ticket
	Events []Event
	Chats  []int64
}

// Get reads ticket id's thread, for p who may see it; not_found for the
// others, as for an id that does not exist.
func (s *Tickets) Get(ctx context.Context, p auth.Principal, id TicketID) (Thread, error) {
	v, err := viewerOf(ctx, s.pool, p)
	if err != nil {
		return Thread{}, err
	}
	if err := checkID(id); err != nil {
		return Thread{}, err
	}
	var th Thread
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		var err error
		if th.Ticket, err = readTicket(ctx, tx, p.UserID, id, false); err != nil {
			return err
		}
		if !v.sees(th.Ticket.queueID(), th.Ticket.assigneeID()) {
			return ErrNoTicket
		}
		if th.Events, err = events(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM conversations WHERE ticket_id = $1 ORDER BY id`, id)
		if err != nil {
			return err
		}
		th.Chats, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil {
		return Thread{}, err
	}
	return th, nil
}
