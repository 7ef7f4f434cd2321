package conversation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"parley/auth"
	"parley/chat/queues"
)

// MaxPositions is how many conversations one Positions call may name.
const MaxPositions = 100

// Position is where a conversation's numbering stands for one reader: the
// seq of its last event that reader sees (a customer's numbering counts
// public events only).
type Position struct {
	ConversationID ID  `json:"conversation_id"`
	LastSeq        int `json:"last_seq"`
}

// positionSQL reads the positions of the conversations of a batch of
// checks, each by its own reader: for check n, $1..$5 give the reader
// (sender as sendAs names it, a visitor's subject and scope, a user's
// user_id) and $6/$7 pair n with each conversation it names. readSQL, the
// access rule's condition, is the filter, applied to each pair with that
// check's reader. One statement for the batch, an index probe per pair.
const positionSQL = `SELECT q.n, c.id, CASE WHEN i.sender = 'customer' THEN c.last_public_seq ELSE c.last_seq END
	FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS i(n, sender, subject, scope, user_id)
	JOIN unnest($6::int[], $7::bigint[]) AS q(n, id) ON q.n = i.n
	JOIN conversations c ON c.id = q.id
	WHERE ` + readSQL + `
	ORDER BY q.n, c.id`

// positionWindow is how long the first check of a batch waits for others
// before the batch is read. Every connected page checks every 15 s (139
// checks a second for C1's 2,080 connections, whether anyone writes or
// not), and a check read alone costs the server a round trip to
// PostgreSQL, which the batch shares; a check is not in a hurry.
const positionWindow = 40 * time.Millisecond

// maxPositionBatch bounds the conversations one batch names.
const maxPositionBatch = 4000

// posReq is one check waiting for its batch.
type posReq struct {
	as   string
	p    auth.Principal
	ids  []int64
	out  []Position
	err  error
	done chan struct{}
}

// Positions answers where each of the conversations ids stands for p, in
// p's numbering (the seq of the events Resume gives p), so a client that
// has shown less learns it lost events the bus did not bring. Ids p may
// not read, existing or not, are left out: nobody learns which exist.
// Between 1 and MaxPositions ids; a bad list is ErrBadInput. While the
// log runs, checks arriving within positionWindow are read together.
func (s *Log) Positions(ctx context.Context, p auth.Principal, ids []ID) ([]Position, error) {
	if len(ids) == 0 || len(ids) > MaxPositions {
		return nil, queues.Detail(queues.ErrBadInput, fmt.Sprintf(`"conversation_ids" must name 1 to %d conversations`, MaxPositions))
	}
	raw := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id <= 0 {
			return nil, queues.Detail(queues.ErrBadInput, `"conversation_ids" must be positive`)
		}
		raw = append(raw, int64(id))
	}
	// An id named twice is answered once.
	slices.Sort(raw)
	raw = slices.Compact(raw)
	r := &posReq{as: sendAs(p), p: p, ids: raw, done: make(chan struct{})}
	if r.as == "" {
		return []Position{}, nil // guests read no conversation
	}
	if !s.positionsRunning.Load() {
		s.readPositions(ctx, []*posReq{r})
		return r.out, r.err
	}
	select {
	case s.positions <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-r.done:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// positionLoop reads the checks in batches: the first waits
// positionWindow for others (or until maxPositionBatch conversations are
// named), then one statement answers them all.
func (s *Log) positionLoop(ctx context.Context) {
	var batch []*posReq
	timer := time.NewTimer(0)
	<-timer.C
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.positions:
			batch = append(batch[:0], r)
		}
		n := len(batch[0].ids)
		timer.Reset(positionWindow)
	fill:
		for n < maxPositionBatch {
			select {
			case r := <-s.positions:
				batch = append(batch, r)
				n += len(r.ids)
			case <-timer.C:
				break fill
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		timer.Stop()
		rctx, cancel := context.WithTimeout(ctx, s.opt.DBTimeout)
		s.readPositions(rctx, batch)
		cancel()
		clear(batch) // let the answered checks go
	}
}

// readPositions answers a batch of checks with one statement.
func (s *Log) readPositions(ctx context.Context, batch []*posReq) {
	var (
		ns, pairN     []int32
		senders, subj []string
		scopes        []string
		users, pairID []int64
	)
	for n, r := range batch {
		ns = append(ns, int32(n))
		senders = append(senders, r.as)
		subj = append(subj, r.p.Subject)
		scopes = append(scopes, r.p.Scope)
		users = append(users, int64(r.p.UserID))
		for _, id := range r.ids {
			pairN = append(pairN, int32(n))
			pairID = append(pairID, id)
		}
		r.out = make([]Position, 0, len(r.ids))
	}
	err := func() error {
		rows, err := s.pool.Query(ctx, positionSQL, ns, senders, subj, scopes, users, pairN, pairID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int32
			var pos Position
			if err := rows.Scan(&n, &pos.ConversationID, &pos.LastSeq); err != nil {
				return err
			}
			if n < 0 || int(n) >= len(batch) {
				return fmt.Errorf("conversation: position of check %d in a batch of %d", n, len(batch))
			}
			batch[n].out = append(batch[n].out, pos)
		}
		return rows.Err()
	}()
	for _, r := range batch {
		if err != nil {
			r.out, r.err = nil, err
		}
		close(r.done)
	}
}
