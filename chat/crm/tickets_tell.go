package crm

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/bus"
)

// ChangedType is the event every staff member who may see a ticket is
// told after any change to it.
const ChangedType = "ticket.changed"

// Tell sends ticket.changed of ticket id, after the commit of its change,
// to every user who may see it (watchersSQL), on the bus: each user's
// connections on every node get it through their principal's subject.
// The ticket is encoded twice at most, starred and not: Favourite is each
// reader's own. A failure is logged: the change is made, and the lists
// catch up at their next read.
func (s *Tickets) Tell(ctx context.Context, id TicketID) {
	if err := s.tell(ctx, id); err != nil {
		s.log.Warn("tell a ticket's change", "ticket", id, "err", err)
	}
}

func (s *Tickets) tell(ctx context.Context, id TicketID) error {
	t, err := readTicket(ctx, s.pool, 0, id, false)
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, watchersSQL, id)
	if err != nil {
		return err
	}
	type watcher struct {
		id   auth.UserID
		star bool
	}
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (watcher, error) {
		var w watcher
		return w, r.Scan(&w.id, &w.star)
	})
	if err != nil {
		return err
	}
	var frames [2][]byte // not starred, starred
	for _, w := range ws {
		i := 0
		if w.star {
			i = 1
		}
		if frames[i] == nil {
			t.Favourite = w.star
			if frames[i], err = bus.Frame(ChangedType, map[string]any{"ticket": t}); err != nil {
				return err
			}
		}
		key := auth.Principal{Kind: auth.KindUser, UserID: w.id}.Key()
		if err := s.bus.Publish(bus.PrincipalSubject(key), frames[i]); err != nil {
			return err
		}
	}
	return nil
}
