package routing

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// A supervisor steers the floor: it assigns a live chat of its queues to
// an agent or a queue, pauses an agent of its queues, or signs one out
// (docs/protocol.md, "Transfers", "Supervisor actions"). Who may is
// decided here: supervisors and admins (agents are forbidden), on chats
// they may read (conversation.Oversee: a supervisor's scope) and agents
// of the queues of their scope (agentInScope); anything outside it is
// not_found, as for an id that does not exist.

// Assign gives p's overseen chat id to an agent (at once: the agent
// becomes its only agent and lead, the agents it had lose it) or to a
// queue (at once: it waits there at the head). The target must be able
// to take it now, as for chat.transfer.
func (s *Router) Assign(ctx context.Context, p auth.Principal, id conversation.ID, to Target) (any, error) {
	if err := overseer(p, "assign chats"); err != nil {
		return nil, err
	}
	if err := to.check(); err != nil {
		return nil, err
	}
	c, q, err := s.conv.Oversee(ctx, p, id, "assign chats")
	if err != nil {
		return nil, err
	}
	if to.QueueID > 0 {
		qt, err := s.moveToQueue(ctx, p, c, q, to.QueueID, true, func(c conversation.Conversation) error {
			return conversation.OverseeCheck(p, c, "assign chats")
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{"assigned": qt}, nil
	}
	k, err := s.assignable(ctx, c, to.UserID)
	if err != nil {
		return nil, err
	}
	if err := s.assignAgent(ctx, p, c, q, k); err != nil {
		return nil, err
	}
	return map[string]any{"assigned": map[string]any{"user": k.Colleague}}, nil
}

// AssignTargets lists whom p may assign its overseen chat id to now: the
// agents who can take it and the queues with one of them (the answer of
// chat.transfer_targets).
func (s *Router) AssignTargets(ctx context.Context, p auth.Principal, id conversation.ID) (Targets, error) {
	if err := overseer(p, "assign chats"); err != nil {
		return Targets{}, err
	}
	c, _, err := s.conv.Oversee(ctx, p, id, "assign chats")
	if err != nil {
		return Targets{}, err
	}
	return s.targets(ctx, p, c)
}

// overseer answers forbidden unless p is a supervisor or an admin.
func overseer(p auth.Principal, what string) error {
	if p.Kind != auth.KindUser || !p.Is(auth.RoleSupervisor, auth.RoleAdmin) {
		return queues.Detail(queues.ErrForbidden, "only supervisors and admins may "+what)
	}
	return nil
}

// assignable is colleague user as the target of an assignment of chat c:
// not_found unless staff, conflict unless it can take c now.
func (s *Router) assignable(ctx context.Context, c conversation.Conversation, user auth.UserID) (colleague, error) {
	found, err := s.colleagues(ctx, s.pool, c, &user)
	if err != nil {
		return colleague{}, err
	}
	if len(found) != 1 {
		return colleague{}, queues.Detail(queues.ErrNotFound, "user_id: there is no such agent")
	}
	k := found[0]
	switch {
	case k.InChat && len(conversation.AgentsOf(c)) == 1:
		return k, queues.Conflict("%s already has this chat", k.Name)
	case !k.online || k.Status != StatusAvailable || (!k.InChat && !k.hasRoom()):
		return k, unavailable(k)
	}
	return k, nil
}

// assignAgent makes k chat c's only agent and its lead, at once: pending
// invitations and transfers are withdrawn, the other agents leave it
// (chat.access_ended "transferred"), the customer and the agents see
// transferred by k, and k's tabs are told (chat.assigned).
func (s *Router) assignAgent(ctx context.Context, p auth.Principal, c conversation.Conversation, q queues.Queue, k colleague) error {
	id := c.ID
	unlock := s.conv.Lock(id)
	var left []auth.UserID
	var withdrawn []withdrawnOffer
	var evs []conversation.Event
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		c, err = conversation.Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := conversation.OverseeCheck(p, c, "assign chats"); err != nil {
			return err
		}
		// Read again under the lock: nothing half-done for an agent who
		// became unavailable meanwhile.
		again, err := s.colleagues(ctx, tx, c, &k.ID)
		if err != nil {
			return err
		}
		if len(again) != 1 || !again[0].online || again[0].Status != StatusAvailable || (!again[0].InChat && !again[0].hasRoom()) {
			return unavailable(k)
		}
		left = slices.DeleteFunc(conversation.AgentsOf(c), func(u auth.UserID) bool { return u == k.ID })
		if withdrawn, evs, err = withdrawPending(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM conversation_agents WHERE conversation_id = $1 AND user_id <> $2`, id, k.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_agents (conversation_id, user_id) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, id, k.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET agent_id = $2 WHERE id = $1`, id, k.ID); err != nil {
			return err
		}
		if err := conversation.TouchAgents(ctx, tx, append([]auth.UserID{k.ID}, left...)...); err != nil {
			return err
		}
		ev := conversation.Event{ConversationID: id, Kind: conversation.KindTransferred,
			Author: conversation.AgentAuthor(k.Name, k.ID), Target: &conversation.Target{Kind: "agent", Name: k.Name}}
		if err := conversation.Append(ctx, tx, &ev); err != nil {
			return err
		}
		evs = append(evs, ev)
		c, err = conversation.Get(ctx, tx, id, false)
		return err
	})
	if err == nil {
		s.conv.Publish(q, evs...)
	}
	unlock()
	if err != nil {
		return err
	}
	for _, w := range withdrawn {
		s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: w.User}.Key(), "chat.offer_ended",
			map[string]any{"conversation_id": id, "reason": "cancelled"})
	}
	ended := left
	for _, w := range withdrawn {
		if w.User != k.ID {
			ended = append(ended, w.User)
		}
	}
	s.conv.EndAccess(ctx, id, ended, "transferred")
	view, _ := s.conv.View(auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent}, q, c, nil)
	s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: k.ID}.Key(), "chat.assigned", map[string]any{
		"conversation": view, "by": Colleague{p.UserID, p.Name},
	})
	for _, u := range append(ended, k.ID) {
		s.opt.OnStatus(u) // their open chats changed
	}
	s.Poke() // those who left have room again
	return nil
}

// agentInScope reads user as an agent p may act on: an enabled agent of
// a queue of p's scope (any agent for a scope of every queue); not_found
// otherwise, as for an id that does not exist.
func (s *Router) agentInScope(ctx context.Context, p auth.Principal, user auth.UserID) (Colleague, error) {
	scope, err := queues.Supervised(ctx, s.pool, p)
	if err != nil {
		return Colleague{}, err
	}
	var k Colleague
	var qs []queues.QueueID
	err = s.pool.QueryRow(ctx, `SELECT u.id, u.display_name,
			coalesce((SELECT array_agg(queue_id) FROM queue_members WHERE user_id = u.id), '{}')
		FROM users u WHERE u.id = $1 AND u.role = 'agent' AND NOT u.disabled`, user).Scan(&k.ID, &k.Name, &qs)
	if errors.Is(err, pgx.ErrNoRows) {
		return Colleague{}, queues.Detail(queues.ErrNotFound, "user_id: there is no such agent")
	}
	if err != nil {
		return Colleague{}, err
	}
	if !scope.All && !slices.ContainsFunc(qs, scope.Has) {
		return Colleague{}, queues.Detail(queues.ErrNotFound, "user_id: there is no such agent")
	}
	return k, nil
}

// Pause pauses agent user of p's queues with reason (1–100 characters):
// it is offered no chat until it makes itself available again, keeps the
// chats it has, and every tab of it hears who paused it and why.
func (s *Router) Pause(ctx context.Context, p auth.Principal, user auth.UserID, reason string) (AgentStatus, error) {
	if err := overseer(p, "pause agents"); err != nil {
		return AgentStatus{}, err
	}
	reason = strings.TrimSpace(reason)
	if err := queues.BadText("reason", reason); err != nil {
		return AgentStatus{}, err
	}
	if user <= 0 {
		return AgentStatus{}, queues.Bad(`user_id: "user_id" is required`)
	}
	if reason == "" || utf8.RuneCountInString(reason) > 100 {
		return AgentStatus{}, queues.Bad("reason: say why you pause the agent (1–100 characters)")
	}
	k, err := s.agentInScope(ctx, p, user)
	if err != nil {
		return AgentStatus{}, err
	}
	return s.setStatusOf(ctx, k.ID, StatusPaused, reason, &Colleague{p.UserID, p.Name})
}

// setStatusOf sets user's status as by did, and tells user's tabs.
func (s *Router) setStatusOf(ctx context.Context, user auth.UserID, status, reason string, by *Colleague) (AgentStatus, error) {
	var st AgentStatus
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		st, err = setStatusBy(ctx, tx, user, status, reason, by)
		return err
	})
	if err != nil {
		return AgentStatus{}, err
	}
	s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: user}.Key(), "agent.status", st)
	s.opt.OnStatus(user)
	return st, nil
}

// LoggedOutChat is where a chat of an agent signed out went: to a queue
// or to an agent; or it stayed with its other agents (Left).
type LoggedOutChat struct {
	ConversationID conversation.ID        `json:"conversation_id"`
	Queue          *conversation.QueueRef `json:"queue,omitempty"`
	User           *Colleague             `json:"user,omitempty"`
	Left           bool                   `json:"left,omitempty"`
}

// Logout signs agent user of p's queues out: its status becomes offline
// (set by p), its offers are withdrawn, its active chats go to agent to
// when given (who must be able to take them now; one it cannot take
// goes to its queue), else each back to its queue at the head (a chat
// the agent shares stays with the others), its sessions end and every
// tab of it is closed with CloseCodeSignedOut, "<p's name> signed you
// out". Chats waiting for its wrap-up stay so: the agent wraps them up
// when it signs in again.
func (s *Router) Logout(ctx context.Context, p auth.Principal, user auth.UserID, to *auth.UserID) ([]LoggedOutChat, error) {
	if err := overseer(p, "sign agents out"); err != nil {
		return nil, err
	}
	if user <= 0 {
		return nil, queues.Bad(`user_id: "user_id" is required`)
	}
	k, err := s.agentInScope(ctx, p, user)
	if err != nil {
		return nil, err
	}
	ids, err := conversation.ChatsOf(ctx, s.pool, k.ID)
	if err != nil {
		return nil, err
	}
	var dest colleague
	if to != nil {
		if *to == k.ID {
			return nil, queues.Bad("to: the agent you sign out cannot take its own chats")
		}
		if len(ids) > 0 {
			c, err := conversation.Get(ctx, s.pool, ids[0], false)
			if err != nil {
				return nil, err
			}
			if dest, err = s.assignable(ctx, c, *to); err != nil {
				if errors.Is(err, queues.ErrNotFound) {
					return nil, queues.Detail(queues.ErrNotFound, "to: there is no such agent")
				}
				return nil, err
			}
			if dest.Open+dest.Pending+len(ids) > dest.Capacity {
				return nil, queues.Conflict("%s has no room for %d more chats", dest.Name, len(ids))
			}
		}
	}
	if _, err := s.setStatusOf(ctx, k.ID, StatusOffline, "", &Colleague{p.UserID, p.Name}); err != nil {
		return nil, err
	}
	if err := s.withdrawOffers(ctx, k.ID); err != nil {
		return nil, err
	}
	agent := auth.Principal{Kind: auth.KindUser, UserID: k.ID, Name: k.Name, Role: auth.RoleAgent}
	out := make([]LoggedOutChat, 0, len(ids))
	for _, id := range ids {
		r, err := s.handBack(ctx, p, agent, id, dest)
		if err != nil {
			s.log.Error("logout: hand a chat back", "conversation", id, "agent", k.ID, "err", err)
			continue
		}
		out = append(out, r)
	}
	if err := s.opt.EndSessions(ctx, k.ID); err != nil {
		return out, err
	}
	s.conv.CloseUser(k.ID, p.Name+" signed you out")
	s.Poke()
	return out, nil
}

// handBack moves chat id away from agent, signed out by p: it leaves a
// chat shared with others; else the chat goes to dest (when set and it
// can take it) or back to its queue at the head.
func (s *Router) handBack(ctx context.Context, p, agent auth.Principal, id conversation.ID, dest colleague) (LoggedOutChat, error) {
	c, q, err := s.conv.WithQueue(ctx, id)
	if err != nil {
		return LoggedOutChat{}, err
	}
	r := LoggedOutChat{ConversationID: id}
	if c.State != conversation.StateActive {
		return r, queues.Conflict("the chat is closed")
	}
	if len(conversation.AgentsOf(c)) > 1 {
		r.Left = true
		return r, s.conv.Leave(ctx, agent, id)
	}
	if dest.ID != 0 {
		if k, err := s.assignable(ctx, c, dest.ID); err == nil {
			if err := s.assignAgent(ctx, p, c, q, k); err == nil {
				r.User = &Colleague{k.ID, k.Name}
				return r, nil
			}
		}
	}
	qt, err := s.moveToQueue(ctx, p, c, q, c.Queue.ID, false, func(c conversation.Conversation) error {
		if c.State != conversation.StateActive {
			return queues.Conflict("the chat is closed")
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	r.Queue = &qt.Queue
	return r, nil
}

// withdrawOffers ends every offer pending to user (cancelled): a route
// offer's chat is routed again at once.
func (s *Router) withdrawOffers(ctx context.Context, user auth.UserID) error {
	rows, err := s.pool.Query(ctx, `SELECT conversation_id FROM offers WHERE user_id = $1 AND state = 'pending'`, user)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[conversation.ID])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.endOffer(ctx, id, user, "cancelled"); err != nil && !errors.Is(err, errStale) {
			return err
		}
	}
	return nil
}

// AgentInfo is what a supervisor reads of an agent of its queues: its
// status (and who set it), its queues with their capacity, and the chats
// it has now.
type AgentInfo struct {
	User   Colleague                   `json:"user"`
	Status AgentStatus                 `json:"status"`
	Queues []AgentQueue                `json:"queues"`
	Chats  []conversation.Conversation `json:"chats"`
}

// Info reads agent user of p's queues for p.
func (s *Router) Info(ctx context.Context, p auth.Principal, user auth.UserID) (AgentInfo, error) {
	if err := overseer(p, "read agents"); err != nil {
		return AgentInfo{}, err
	}
	k, err := s.agentInScope(ctx, p, user)
	if err != nil {
		return AgentInfo{}, err
	}
	st, err := s.State(ctx, auth.Principal{Kind: auth.KindUser, UserID: k.ID, Name: k.Name, Role: auth.RoleAgent})
	if err != nil {
		return AgentInfo{}, err
	}
	info := AgentInfo{User: k, Status: st.AgentStatus, Queues: st.Queues, Chats: []conversation.Conversation{}}
	ids, err := conversation.ChatsOf(ctx, s.pool, k.ID)
	if err != nil {
		return AgentInfo{}, err
	}
	for _, id := range ids {
		c, q, err := s.conv.WithQueue(ctx, id)
		if err != nil {
			return AgentInfo{}, err
		}
		view, _ := s.conv.View(p, q, c, nil)
		info.Chats = append(info.Chats, view)
	}
	return info, nil
}
