package routing

import (
	"context"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// QueueSaved tells queue id's members its settings as their desks show
// them (queue.settings, an AgentQueue: capacity, closing statuses, chat
// time limits), so a save changes what a desk shows without a reload,
// and marks the queue's waiting list for its customers' places (its
// members, and so the estimates, may have changed). Called on the node
// where the queue was saved; the frames go over the bus to every node.
// A failure is logged: the desks learn the settings at their next
// agent.state.
func (s *Router) QueueSaved(ctx context.Context, id queues.QueueID) {
	s.pos.queue(id)
	if err := s.tellSettings(ctx, id); err != nil {
		s.log.Warn("telling a queue's members its settings", "queue", id, "err", err)
	}
}

func (s *Router) tellSettings(ctx context.Context, id queues.QueueID) error {
	var q AgentQueue
	err := s.pool.QueryRow(ctx, `SELECT id, name, capacity, statuses, chat_time_limits, service_level_seconds FROM queues WHERE id = $1`, id).
		Scan(&q.ID, &q.Name, &q.Capacity, &q.Statuses, &q.ChatTimeLimits, &q.ServiceLevelSeconds)
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT user_id FROM queue_members WHERE queue_id = $1`, id)
	if err != nil {
		return err
	}
	members, err := pgx.CollectRows(rows, pgx.RowTo[auth.UserID])
	if err != nil {
		return err
	}
	for _, u := range members {
		s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: u}.Key(), "queue.settings", map[string]any{"queue": q})
	}
	return nil
}
