package conversation

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// A chat's team: the agents in it (conversation_agents, the lead in
// conversations.agent_id among them). Agents join by accepting an
// invitation or a transfer (the router's, chat/routing), and leave here:
// chat.leave, or chat.close by an agent while others remain.

// TeamChat reads conversation id for a team request of p (invite, leave,
// transfer…): not_found unless p may read it, forbidden unless p is one
// of its agents ("only the chat's agents may " + what), conflict when it
// is closed. Callers check again, with TeamCheck, on the row they lock.
func (s *Log) TeamChat(ctx context.Context, p auth.Principal, id ID, what string) (Conversation, queues.Queue, error) {
	c, q, _, err := s.readable(ctx, p, id)
	if err != nil {
		return c, q, err
	}
	return c, q, TeamCheck(p, c, what)
}

// TeamCheck is TeamChat's rule on a conversation already read.
func TeamCheck(p auth.Principal, c Conversation, what string) error {
	if !p.Is(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin) || !HasAgent(c, p.UserID) {
		return queues.Detail(queues.ErrForbidden, "only the chat's agents may "+what)
	}
	if c.State != StateActive {
		return queues.Conflict("the chat is closed")
	}
	return nil
}

// AgentsOf is the set of c's agents, the lead first, then the others in
// the order they joined.
func AgentsOf(c Conversation) []auth.UserID { return agentsOf(c) }

// TouchAgents notes, inside tx, that agents ids took, left or handed on
// a chat now: their last_activity_at, by which the router picks the agent
// idle longest. It is one statement that locks their rows in the order
// of their ids, and a transaction calls it once: two transactions that
// touched two agents each in their own order (a transfer from Alice to
// Bob accepted while one from Bob to Alice is) deadlocked, and
// PostgreSQL failed one of them. (Accept's statement, routing's
// accept.go, does the same for its one agent inside its CTE.)
func TouchAgents(ctx context.Context, tx pgx.Tx, ids ...auth.UserID) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO agent_status (user_id, last_activity_at)
		SELECT DISTINCT u, now() FROM unnest($1::bigint[]) AS u ORDER BY u
		ON CONFLICT (user_id) DO UPDATE SET last_activity_at = now()`, ids)
	return err
}

// Leave takes p out of chat id, leaving it to its other agents. The
// longest present of them becomes the lead if p was. The last agent
// cannot leave: it closes the chat instead.
func (s *Log) Leave(ctx context.Context, p auth.Principal, id ID) error {
	_, q, err := s.TeamChat(ctx, p, id, "leave it")
	if err != nil {
		return err
	}
	unlock := s.Lock(id)
	defer unlock()
	var ev Event
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := TeamCheck(p, c, "leave it"); err != nil {
			return err
		}
		return leaveTx(ctx, tx, p, c, &ev)
	})
	if err != nil {
		return err
	}
	s.afterLeave(ctx, p, q, ev)
	return nil
}

// leaveTx takes p out of c's agents inside tx, handing the lead on, and
// writes the public left event into ev.
func leaveTx(ctx context.Context, tx pgx.Tx, p auth.Principal, c Conversation, ev *Event) error {
	others := slices.DeleteFunc(agentsOf(c), func(u auth.UserID) bool { return u == p.UserID })
	if len(others) == 0 {
		return queues.Conflict("You are the last agent in this chat: close it instead")
	}
	if _, err := tx.Exec(ctx, `DELETE FROM conversation_agents WHERE conversation_id = $1 AND user_id = $2`,
		c.ID, p.UserID); err != nil {
		return err
	}
	if c.agentID != nil && *c.agentID == p.UserID {
		if _, err := tx.Exec(ctx, `UPDATE conversations SET agent_id = $2 WHERE id = $1`, c.ID, others[0]); err != nil {
			return err
		}
	}
	if err := TouchAgents(ctx, tx, p.UserID); err != nil {
		return err
	}
	*ev = Event{ConversationID: c.ID, Kind: KindLeft, Author: AuthorOf(p, c)}
	return Append(ctx, tx, ev)
}

// afterLeave tells of a committed leave: the event, the end of the
// leaver's access (unless it reads the chat as supervisor or admin), and
// the router, for whom the leaver has room again. The caller holds the
// conversation's stripe.
func (s *Log) afterLeave(ctx context.Context, p auth.Principal, q queues.Queue, ev Event) {
	s.Publish(q, ev)
	s.EndAccess(ctx, ev.ConversationID, []auth.UserID{p.UserID}, "left")
	s.hooks.WrappedUp(p.UserID)
}
