package floor

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat"
	"parley/chat/queues"
)

// ClosedPage is the most closed chats one supervisor.closed answers.
const ClosedPage = 100

// Closed is one page of a day's closed chats, newest first, with the
// day's count per agent.
type Closed struct {
	Day    string         `json:"day"`
	Chats  []ClosedChat   `json:"chats"`
	Agents []ClosedByWhom `json:"agents"`
	// NextBefore is the before of the next page; 0 (omitted) when this
	// page is the last.
	NextBefore chat.ConversationID `json:"next_before,omitempty"`
}

// ClosedChat is a chat closed that day.
type ClosedChat struct {
	ConversationID chat.ConversationID `json:"conversation_id"`
	QueueID        queues.QueueID      `json:"queue_id"`
	QueueName      string              `json:"queue_name"`
	CustomerName   string              `json:"customer_name"`
	CustomerEmail  string              `json:"customer_email"`
	// AgentID is the agent who had it last (null: nobody accepted it).
	AgentID     *auth.UserID `json:"agent_id"`
	AgentName   string       `json:"agent_name"`
	QueuedAt    time.Time    `json:"queued_at"`
	AcceptedAt  *time.Time   `json:"accepted_at"`
	ClosedAt    time.Time    `json:"closed_at"`
	ClosedBy    string       `json:"closed_by"`
	CloseStatus string       `json:"close_status"`
}

// ClosedByWhom counts one agent's chats closed that day (agent_id null:
// the chats nobody accepted).
type ClosedByWhom struct {
	AgentID   *auth.UserID `json:"agent_id"`
	AgentName string       `json:"agent_name"`
	Count     int          `json:"count"`
}

// Closed answers the chats of p's scope closed on day (YYYY-MM-DD in the
// floor's zone; "" is today), newest (highest id) first, those below
// before when it is not 0.
func (f *Floor) Closed(ctx context.Context, p auth.Principal, day string, before chat.ConversationID) (Closed, error) {
	scope, err := f.scope(ctx, p)
	if err != nil {
		return Closed{}, err
	}
	start, end := f.day(time.Now())
	if day != "" {
		d, err := time.ParseInLocation(time.DateOnly, day, f.opt.Location)
		if err != nil {
			return Closed{}, queues.Bad("day: a date such as 2026-12-02")
		}
		start, end = f.day(d)
	}
	if before < 0 {
		return Closed{}, queues.Bad("before: a conversation id, or 0 for the first page")
	}
	out := Closed{Day: start.Format(time.DateOnly), Chats: []ClosedChat{}, Agents: []ClosedByWhom{}}
	sc := scopeArg(scope)
	err = pgx.BeginTxFunc(ctx, f.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT c.id, c.queue_id, q.name, c.customer_name, c.customer_email,
					c.agent_id, coalesce(u.display_name, ''), c.queued_at, c.accepted_at, c.closed_at,
					coalesce(c.closed_by, ''), coalesce(c.close_status, '')
				FROM conversations c JOIN queues q ON q.id = c.queue_id LEFT JOIN users u ON u.id = c.agent_id
				WHERE c.closed_at >= $2 AND c.closed_at < $3 AND `+inScope("c.queue_id")+`
					AND ($4::bigint = 0 OR c.id < $4::bigint)
				ORDER BY c.id DESC LIMIT $5`, sc, start, end, before, ClosedPage+1)
			if err != nil {
				return err
			}
			out.Chats, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClosedChat, error) {
				var c ClosedChat
				err := r.Scan(&c.ConversationID, &c.QueueID, &c.QueueName, &c.CustomerName, &c.CustomerEmail,
					&c.AgentID, &c.AgentName, &c.QueuedAt, &c.AcceptedAt, &c.ClosedAt, &c.ClosedBy, &c.CloseStatus)
				return c, err
			})
			if err != nil {
				return err
			}
			if len(out.Chats) > ClosedPage {
				out.Chats = out.Chats[:ClosedPage]
				out.NextBefore = out.Chats[ClosedPage-1].ConversationID
			}
			rows, err = tx.Query(ctx, `SELECT c.agent_id, coalesce(u.display_name, ''), count(*)
				FROM conversations c LEFT JOIN users u ON u.id = c.agent_id
				WHERE c.closed_at >= $2 AND c.closed_at < $3 AND `+inScope("c.queue_id")+`
				GROUP BY 1, 2 ORDER BY 2, 1`, sc, start, end)
			if err != nil {
				return err
			}
			out.Agents, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClosedByWhom, error) {
				var w ClosedByWhom
				err := r.Scan(&w.AgentID, &w.AgentName, &w.Count)
				return w, err
			})
			return err
		})
	return out, err
}

// AgentInfo is supervisor.agent's answer: an agent as the floor shows it,
// its queues and its figures of today.
type AgentInfo struct {
	Agent
	Queues []AgentQueue `json:"queues"`
	Today  AgentToday   `json:"today"`
}

// AgentQueue is a queue an agent is a member of.
type AgentQueue struct {
	ID       queues.QueueID `json:"id"`
	Name     string         `json:"name"`
	Capacity int            `json:"capacity"`
}

// AgentToday are an agent's figures of today: the chats it accepted
// (from the queue, an invite or a transfer) and the average time from
// accept to close of the chats it closed (it had last).
type AgentToday struct {
	Answered               int      `json:"answered"`
	AverageHandlingSeconds *float64 `json:"average_handling_seconds"`
}

// errNoAgent answers an agent outside p's scope as if it did not exist.
var errNoAgent = queues.Detail(queues.ErrNotFound, "no such agent on your floor")

// Agent answers user's info, if user is on p's floor: a member of one
// of its queues, or in one of their open chats.
func (f *Floor) Agent(ctx context.Context, p auth.Principal, user auth.UserID) (AgentInfo, error) {
	scope, err := f.scope(ctx, p)
	if err != nil {
		return AgentInfo{}, err
	}
	if user <= 0 {
		return AgentInfo{}, queues.Bad("user_id is required")
	}
	start, end := f.day(time.Now())
	sc := scopeArg(scope)
	var info AgentInfo
	err = pgx.BeginTxFunc(ctx, f.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			var onFloor bool
			err := scanAgent(tx.QueryRow(ctx, `SELECT `+agentColumns+`, `+openChats+`,
					($1::bigint[] IS NULL OR EXISTS (SELECT 1 FROM queue_members m WHERE m.user_id = u.id
						AND m.queue_id = ANY ($1::bigint[]))
					OR EXISTS (SELECT 1 FROM conversation_agents ca JOIN conversations c ON c.id = ca.conversation_id
						WHERE ca.user_id = u.id AND (c.state = 'active' OR c.wrap_up_due) AND c.queue_id = ANY ($1::bigint[])))
				FROM users u LEFT JOIN agent_status st ON st.user_id = u.id WHERE u.id = $2 AND NOT u.disabled`,
				sc, user), &info.Agent, &onFloor)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && !onFloor) {
				return errNoAgent
			}
			if err != nil {
				return err
			}
			info.Online = f.presence.Online(auth.Principal{Kind: auth.KindUser, UserID: user}.Key())
			rows, err := tx.Query(ctx, `SELECT q.id, q.name, q.capacity FROM queue_members m JOIN queues q ON q.id = m.queue_id
				WHERE m.user_id = $2 AND `+inScope("q.id")+` ORDER BY q.name, q.id`, sc, user)
			if err != nil {
				return err
			}
			if info.Queues, err = pgx.CollectRows(rows, pgx.RowToStructByPos[AgentQueue]); err != nil {
				return err
			}
			err = tx.QueryRow(ctx, `SELECT
					(SELECT count(DISTINCT o.conversation_id) FROM offers o JOIN conversations c ON c.id = o.conversation_id
					 WHERE o.user_id = $2 AND o.state = 'accepted' AND o.ended_at >= $3 AND o.ended_at < $4
						AND `+inScope("c.queue_id")+`),
					(SELECT avg(extract(epoch FROM c.closed_at - c.accepted_at))::float8 FROM conversations c
					 WHERE c.agent_id = $2 AND c.closed_at >= $3 AND c.closed_at < $4 AND c.accepted_at IS NOT NULL
						AND `+inScope("c.queue_id")+`)`,
				sc, user, start, end).Scan(&info.Today.Answered, &info.Today.AverageHandlingSeconds)
			if err != nil {
				return err
			}
			chats, err := liveChats(ctx, tx, sc, user)
			for _, c := range chats {
				info.Chats = append(info.Chats, c.LiveChat)
			}
			return err
		})
	return info, err
}
