package conversation

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// The log's tests need chats offered and accepted, which is the router's
// work (chat/routing, which imports this package). offer and accept leave
// a chat, its offers and its events as the router's offer and accept
// commit them (the agent's agent_status row, which these tests do not
// read, aside), through the log's own Lock, Get, Append and Publish;
// chat/routing's TestAnOfferAndAnAcceptCommitTheseRowsAndEvents checks
// that the router leaves them so.

// offer offers chat id to agents: a pending offer and a private offered
// event each, the chat offered.
func (f *writerFixture) offer(t *testing.T, id ID, agents ...auth.UserID) {
	t.Helper()
	ctx := context.Background()
	unlock := f.svc.Lock(id)
	defer unlock()
	var evs []Event
	err := pgx.BeginFunc(ctx, f.svc.pool, func(tx pgx.Tx) error {
		for _, a := range agents {
			if _, err := tx.Exec(ctx, `INSERT INTO offers (conversation_id, user_id, state, deadline)
				VALUES ($1, $2, 'pending', now() + interval '1 hour')`, id, a); err != nil {
				return err
			}
			var name string
			if err := tx.QueryRow(ctx, `SELECT display_name FROM users WHERE id = $1`, a).Scan(&name); err != nil {
				return err
			}
			ev := Event{ConversationID: id, Kind: KindOffered, Private: true, Author: AgentAuthor(name, a)}
			if err := Append(ctx, tx, &ev); err != nil {
				return err
			}
			evs = append(evs, ev)
		}
		_, err := tx.Exec(ctx, `UPDATE conversations SET state = 'offered' WHERE id = $1`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Publish(f.q, evs...)
}

// accept gives chat id to agent p: its pending offers end (accepted or
// taken), the chat is active with p as its agent, and an accepted event
// follows (the fixture's queue has no greeting).
func (f *writerFixture) accept(t *testing.T, id ID, p auth.Principal) {
	t.Helper()
	ctx := context.Background()
	unlock := f.svc.Lock(id)
	defer unlock()
	var ev Event
	err := pgx.BeginFunc(ctx, f.svc.pool, func(tx pgx.Tx) error {
		c, err := Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE offers SET state = CASE WHEN user_id = $2 THEN 'accepted' ELSE 'taken' END,
			ended_at = now() WHERE conversation_id = $1 AND state = 'pending'`, id, p.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'active', agent_id = $2, accepted_at = now()
			WHERE id = $1`, id, p.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_agents (conversation_id, user_id) VALUES ($1, $2)`,
			id, p.UserID); err != nil {
			return err
		}
		ev = Event{ConversationID: id, Kind: KindAccepted, Author: AuthorOf(p, c)}
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Publish(f.q, ev)
}

// join puts p in chat id's agents, as an accepted invitation does; as
// the lead, in place of the others, when lead is set (a transfer).
func (f *writerFixture) join(t *testing.T, id ID, p auth.Principal, lead bool) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, f.svc.pool, func(tx pgx.Tx) error {
		if lead {
			if _, err := tx.Exec(ctx, `DELETE FROM conversation_agents WHERE conversation_id = $1`, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE conversations SET agent_id = $2 WHERE id = $1`, id, p.UserID); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO conversation_agents (conversation_id, user_id) VALUES ($1, $2)`, id, p.UserID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
