package conversation

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// Close ends a conversation. Agents give a status from the queue's list.
// One of several agents in an active chat who closes it leaves it to the
// others instead (chat.leave), and needs no status.
// When the customer ends a chat an agent has, the agent still owes it a
// status: the chat is closed to the customer at once and stays with its
// agent, wrap_up_due, counting toward the agent's chats, until the agent
// closes it again with a status (the wrap-up).
func (s *Log) Close(ctx context.Context, p auth.Principal, id ID, status string) error {
	c, q, acc, err := s.readable(ctx, p, id)
	if err != nil {
		return err
	}
	if err := queues.BadText("status", status); err != nil {
		return err
	}
	if !acc.Close {
		return queues.Detail(queues.ErrForbidden, "only the chat's agent closes it")
	}
	by := "customer"
	var badStatus error // a leave needs no status
	if p.IsStaff() {
		by = "agent"
		status = strings.TrimSpace(status)
		if len(q.Statuses) > 0 && !contains(q.Statuses, status) {
			badStatus = queues.Bad("status: choose one of %s", strings.Join(q.Statuses, ", "))
		}
	} else {
		status = ""
	}
	unlock := s.Lock(id)
	defer unlock()
	var ev Event
	var withdrawn []auth.UserID
	wrapUp, leave := false, false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err = Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		// One of several agents closing leaves the chat to the others.
		if by == "agent" && c.State == StateActive && HasAgent(c, p.UserID) && len(agentsOf(c)) > 1 {
			leave = true
			return leaveTx(ctx, tx, p, c, &ev)
		}
		if badStatus != nil {
			return badStatus
		}
		if c.State == StateClosed {
			if !c.WrapUpDue || by != "agent" {
				return queues.Conflict("the chat is already closed")
			}
			wrapUp = true
			return wrapUpTx(ctx, tx, p, c, status, &ev)
		}
		if withdrawn, err = withdrawOffersTx(ctx, tx, id); err != nil {
			return err
		}
		// Only a chat an agent is working on needs wrapping up.
		due := by == "customer" && c.State == StateActive
		if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'closed', closed_at = now(), closed_by = $2,
			close_status = nullif($3, ''), wrap_up_due = $4 WHERE id = $1`, id, by, status, due); err != nil {
			return err
		}
		if c.agentID != nil && !due {
			if err := TouchAgents(ctx, tx, *c.agentID); err != nil {
				return err
			}
		}
		ev = Event{ConversationID: id, Kind: KindClosed, Author: AuthorOf(p, c), Status: status}
		if err := Append(ctx, tx, &ev); err != nil {
			return err
		}
		return s.mailTranscriptOnCloseTx(ctx, tx, q, c)
	})
	if err != nil {
		return err
	}
	if leave {
		s.afterLeave(ctx, p, q, ev)
		return nil
	}
	if wrapUp {
		s.Publish(q, ev)
		s.hooks.WrappedUp(*c.agentID) // the agent has room again
		return nil
	}
	s.tellClosed(ctx, q, c, ev, withdrawn)
	return nil
}

// wrapUpTx records the agent's status for chat c, which the customer
// ended, inside tx, and writes the private wrapped_up event into ev.
func wrapUpTx(ctx context.Context, tx pgx.Tx, p auth.Principal, c Conversation, status string, ev *Event) error {
	if _, err := tx.Exec(ctx, `UPDATE conversations SET wrap_up_due = false, close_status = nullif($2, '')
		WHERE id = $1`, c.ID, status); err != nil {
		return err
	}
	if err := TouchAgents(ctx, tx, *c.agentID); err != nil {
		return err
	}
	*ev = Event{ConversationID: c.ID, Kind: KindWrappedUp, Private: true, Author: AuthorOf(p, c), Status: status}
	return Append(ctx, tx, ev)
}

// AuthorOf is p as the author of an event in c: a customer by the name it
// gave the pre-chat form.
func AuthorOf(p auth.Principal, c Conversation) Author {
	if p.IsStaff() {
		return Author{Kind: "agent", Name: p.Name, key: p.Key()}
	}
	return Author{Kind: "customer", Name: c.Customer.Name, key: p.Key()}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
