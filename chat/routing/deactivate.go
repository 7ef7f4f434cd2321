package routing

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Deactivated takes away what user had once admin p deactivated its
// account (auth.Service.Deactivate, which ends its sessions; its
// connections are closed by the caller): its status becomes offline (set
// by p), its pending offers are withdrawn, and each of its active chats
// goes back to its queue at the head (a chat it shares stays with the
// others), as agent.logout does with no agent to hand them to. Unlike
// Logout it takes any account, whatever its role and scope, and an
// account already deactivated: running it again does again what is left
// to do. A chat that cannot be handed back is logged and skipped.
func (s *Router) Deactivated(ctx context.Context, p auth.Principal, user auth.UserID) ([]LoggedOutChat, error) {
	if p.Kind != auth.KindUser || !p.Is(auth.RoleAdmin) {
		return nil, queues.Detail(queues.ErrForbidden, "only admins deactivate accounts")
	}
	agent := auth.Principal{Kind: auth.KindUser, UserID: user}
	err := s.pool.QueryRow(ctx, `SELECT display_name, role FROM users WHERE id = $1`, user).Scan(&agent.Name, &agent.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, queues.Detail(queues.ErrNotFound, "there is no such user")
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.setStatusOf(ctx, user, StatusOffline, "", &Colleague{p.UserID, p.Name}); err != nil {
		return nil, err
	}
	if err := s.withdrawOffers(ctx, user); err != nil {
		return nil, err
	}
	ids, err := conversation.ChatsOf(ctx, s.pool, user)
	if err != nil {
		return nil, err
	}
	out := make([]LoggedOutChat, 0, len(ids))
	for _, id := range ids {
		r, err := s.handBack(ctx, p, agent, id, colleague{})
		if err != nil {
			s.log.Error("deactivate: hand a chat back", "conversation", id, "user", user, "err", err)
			continue
		}
		out = append(out, r)
	}
	s.Poke()
	return out, nil
}
