package conversation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/chat/queues"
)

// appendPrivateSQL numbers and stores a batch of private events: each
// conversation's last_seq moves by its events' count in one UPDATE, and
// its events take the seqs in between, in the order given. Private
// events take no public seq. When $6 is not null, the same UPDATE sets
// the conversations' state to it (the router's offers: one statement
// fewer a chunk).
const appendPrivateSQL = `WITH e AS (
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
			WITH ORDINALITY AS e(conv, kind, akind, akey, aname, ord)
	), n AS (
		SELECT conv, count(*)::int AS k FROM e GROUP BY conv
	), up AS (
		UPDATE conversations c SET last_seq = c.last_seq + n.k, state = coalesce($6::text, c.state) FROM n WHERE c.id = n.conv
		RETURNING c.id, c.last_seq - n.k AS base
	)
	INSERT INTO conversation_events (conversation_id, seq, kind, author_kind, author_key, author_name, private)
	SELECT e.conv, up.base + row_number() OVER (PARTITION BY e.conv ORDER BY e.ord), e.kind, e.akind, e.akey, e.aname, true
	FROM e JOIN up ON up.id = e.conv
	RETURNING conversation_id, seq, created_at`

// AppendPrivate stores private events of the router's kind (a kind and
// an author, nothing else) in one statement, where Append would take two
// statements for each: the router's offers of a pass go out as one
// batch. Each event's Seq and Time are set as Append sets them.
func AppendPrivate(ctx context.Context, tx pgx.Tx, evs []*Event) error {
	return appendPrivate(ctx, tx, evs, nil)
}

// AppendPrivateSetting is AppendPrivate that also sets the state of the
// events' conversations to state, in the same statement.
func AppendPrivateSetting(ctx context.Context, tx pgx.Tx, evs []*Event, state string) error {
	return appendPrivate(ctx, tx, evs, &state)
}

func appendPrivate(ctx context.Context, tx pgx.Tx, evs []*Event, state *string) error {
	if len(evs) == 0 {
		return nil
	}
	convs := make([]ID, len(evs))
	kinds := make([]string, len(evs))
	akinds := make([]string, len(evs))
	akeys := make([]string, len(evs))
	anames := make([]string, len(evs))
	for i, ev := range evs {
		if !ev.Private || ev.Text != "" || ev.ClientID != "" || ev.Status != "" || ev.RoomID != "" || ev.Target != nil ||
			len(ev.Mentions) > 0 || ev.Rating != 0 || ev.Reason != "" || ev.LimitSeconds != 0 || ev.Contact != nil || ev.Ticket != nil ||
			len(ev.Files) > 0 || len(ev.Options) > 0 || ev.Answered != nil || ev.Choice != nil {
			return fmt.Errorf("conversation: AppendPrivate takes private events of a kind and an author only (%s)", ev.Kind)
		}
		convs[i], kinds[i], akinds[i], akeys[i], anames[i] = ev.ConversationID, ev.Kind, ev.Author.Kind, ev.Author.key, ev.Author.Name
	}
	rows, err := tx.Query(ctx, appendPrivateSQL, convs, kinds, akinds, akeys, anames, state)
	if err != nil {
		return err
	}
	type stored struct {
		Conv ID
		Seq  int
		At   time.Time
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[stored])
	if err != nil {
		return err
	}
	if len(got) != len(evs) {
		return queues.ErrNotFound // a conversation that is not there
	}
	// Within a conversation, seqs rise in the order the events were given.
	sort.Slice(got, func(i, j int) bool {
		if got[i].Conv != got[j].Conv {
			return got[i].Conv < got[j].Conv
		}
		return got[i].Seq < got[j].Seq
	})
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return evs[order[i]].ConversationID < evs[order[j]].ConversationID })
	for k, i := range order {
		if got[k].Conv != evs[i].ConversationID {
			return errors.New("conversation: AppendPrivate: the stored events do not match those given")
		}
		evs[i].Seq, evs[i].Time, evs[i].publicSeq = got[k].Seq, got[k].At, 0
	}
	return nil
}
