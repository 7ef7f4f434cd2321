package conversation

import (
	"context"
	"fmt"

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

// positionSQL reads the positions of the conversations $5 that a reader
// ($1 sender as sendAs names it, $2 subject and $3 scope a visitor's, $4
// user_id a user's) may read: readSQL, the access rule's condition, is the
// filter. One statement for all of them, an index probe per id.
const positionSQL = `SELECT c.id, CASE WHEN i.sender = 'customer' THEN c.last_public_seq ELSE c.last_seq END
	FROM (SELECT $1::text AS sender, $2::text AS subject, $3::text AS scope, $4::bigint AS user_id) i
	JOIN conversations c ON c.id = ANY($5::bigint[])
	WHERE ` + readSQL + `
	ORDER BY c.id`

// Positions answers where each of the conversations ids stands for p, in
// p's numbering (the seq of the events Resume gives p), so a client that
// has shown less learns it lost events the bus did not bring. Ids p may
// not read, existing or not, are left out: nobody learns which exist.
// Between 1 and MaxPositions ids; a bad list is ErrBadInput.
func (s *Log) Positions(ctx context.Context, p auth.Principal, ids []ID) ([]Position, error) {
	if len(ids) == 0 || len(ids) > MaxPositions {
		return nil, queues.Detail(queues.ErrBadInput, fmt.Sprintf(`"conversation_ids" must name 1 to %d conversations`, MaxPositions))
	}
	raw := make([]int64, len(ids))
	for i, id := range ids {
		if id <= 0 {
			return nil, queues.Detail(queues.ErrBadInput, `"conversation_ids" must be positive`)
		}
		raw[i] = int64(id)
	}
	out := make([]Position, 0, len(ids))
	as := sendAs(p)
	if as == "" {
		return out, nil // guests read no conversation
	}
	rows, err := s.pool.Query(ctx, positionSQL, as, p.Subject, p.Scope, int64(p.UserID), raw)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pos Position
		if err := rows.Scan(&pos.ConversationID, &pos.LastSeq); err != nil {
			return nil, err
		}
		out = append(out, pos)
	}
	return out, rows.Err()
}
