package conversation

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Transcript reads every event of conversation id in seq order, private
// ones included: the staff's view, for whom the caller has already
// decided may read it (chat/search's history).
func Transcript(ctx context.Context, db Querier, id ID) ([]Event, error) {
	rows, err := db.Query(ctx, `SELECT `+eventColumns+` FROM conversation_events
		WHERE conversation_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) { return scanEvent(r) })
	if err != nil {
		return nil, err
	}
	return evs, withOptions(ctx, db, id, evs)
}
