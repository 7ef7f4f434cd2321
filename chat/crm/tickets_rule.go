package crm

import (
	"context"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// Who may see a ticket is decided here, once, in three forms that
// TestTheTicketRuleInGoAndInSQLAgree runs over one table of principals and
// tickets: sees (Go), sql (a condition on a ticket t, for search and
// counts) and watchersSQL (the users who may see one ticket, whom
// ticket.changed reaches):
//
//   - admins: every ticket;
//   - supervisors: the tickets of the queues they oversee
//     (queues.Supervised: every queue unless an admin gave them some);
//   - every staff member: the tickets of the queues they are a member of,
//     and those assigned to them;
//   - customers and guests: none, and they are told forbidden.
//
// Whoever may see a ticket may change it (reply, note, close, reopen,
// link, assign to a member of its queue).

// viewer is what a staff member may see.
type viewer struct {
	p      auth.Principal
	all    bool
	queues []queues.QueueID // overseen or a member of
}

// viewerOf reads p's rule: forbidden for anyone but staff.
func viewerOf(ctx context.Context, db Querier, p auth.Principal) (viewer, error) {
	if !p.IsStaff() {
		return viewer{}, queues.Detail(queues.ErrForbidden, "tickets are for staff")
	}
	scope, err := queues.Supervised(ctx, db, p)
	if err != nil {
		return viewer{}, err
	}
	v := viewer{p: p, all: scope.All}
	if v.all {
		return v, nil
	}
	rows, err := db.Query(ctx, `SELECT queue_id FROM queue_members WHERE user_id = $1`, p.UserID)
	if err != nil {
		return viewer{}, err
	}
	member, err := pgx.CollectRows(rows, pgx.RowTo[queues.QueueID])
	if err != nil {
		return viewer{}, err
	}
	v.queues = append(scope.Queues, member...)
	slices.Sort(v.queues)
	v.queues = slices.Compact(v.queues)
	return v, nil
}

// sees is the rule in Go.
func (v viewer) sees(queue queues.QueueID, assignee auth.UserID) bool {
	return v.all || slices.Contains(v.queues, queue) || (assignee != 0 && assignee == v.p.UserID)
}

// mayMake says whether v may make a ticket of queue by hand: a queue whose
// tickets it sees without being their assignee.
func (v viewer) mayMake(queue queues.QueueID) bool {
	return v.all || slices.Contains(v.queues, queue)
}

// sql is the rule as a condition on a ticket t, its values added to a.
func (v viewer) sql(a *args) string {
	if v.all {
		return "true"
	}
	return "(t.queue_id = ANY (" + a.add(v.queues) + ") OR t.assignee_id = " + a.add(v.p.UserID) + ")"
}

// watchersSQL selects the users who may see ticket $1 (id), and whether
// each starred it: the same rule, from the other side.
const watchersSQL = `SELECT u.id, EXISTS (SELECT 1 FROM ticket_favourites f WHERE f.user_id = u.id AND f.ticket_id = t.id)
	FROM tickets t, users u
	WHERE t.id = $1 AND NOT u.disabled AND (
		u.role = 'admin'
		OR (u.role = 'supervisor' AND (NOT EXISTS (SELECT 1 FROM supervisor_queues s WHERE s.user_id = u.id)
			OR EXISTS (SELECT 1 FROM supervisor_queues s WHERE s.user_id = u.id AND s.queue_id = t.queue_id)))
		OR EXISTS (SELECT 1 FROM queue_members m WHERE m.user_id = u.id AND m.queue_id = t.queue_id)
		OR u.id = t.assignee_id)`

// args are a statement's values, numbered $1, $2… as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}
