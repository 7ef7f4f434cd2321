package chat

import (
	"context"

	"parley/auth"
	"parley/chat/queues"
	"parley/chat/routing"
)

// A supervisor's scope and its actions on chats and agents
// (chat/queues' supervisors.go, chat/routing's steer.go).

// SupervisorQueues is a supervisor's scope as an admin sets it.
type SupervisorQueues = queues.SupervisorQueues

// SupervisorQueues reads the queues an admin gave supervisor user (empty:
// every queue), for admins.
func (s *Service) SupervisorQueues(ctx context.Context, p auth.Principal, user auth.UserID) (SupervisorQueues, error) {
	return s.queues.SupervisedBy(ctx, p, user)
}

// Supervise gives supervisor user the queues ids (none: every queue),
// for admins. The supervisor's waiting lists of the queues it lost end
// at once (queue.access_ended).
func (s *Service) Supervise(ctx context.Context, p auth.Principal, user auth.UserID, ids []QueueID) (SupervisorQueues, error) {
	sq, lost, err := s.queues.Supervise(ctx, p, user, ids)
	if err != nil {
		return sq, err
	}
	for _, id := range lost {
		s.conv.EndQueueAccess(ctx, id, []auth.UserID{user})
	}
	return sq, nil
}

// Assign gives p's overseen chat id to an agent or a queue, at once.
func (s *Service) Assign(ctx context.Context, p auth.Principal, id ConversationID, to TeamTarget) (any, error) {
	return s.router.Assign(ctx, p, id, to)
}

// AssignTargets lists whom p may assign its overseen chat id to now.
func (s *Service) AssignTargets(ctx context.Context, p auth.Principal, id ConversationID) (Targets, error) {
	return s.router.AssignTargets(ctx, p, id)
}

// Pause pauses agent user of p's queues with reason.
func (s *Service) Pause(ctx context.Context, p auth.Principal, user auth.UserID, reason string) (AgentStatus, error) {
	return s.router.Pause(ctx, p, user, reason)
}

// LoggedOutChat is where a chat of an agent signed out went.
type LoggedOutChat = routing.LoggedOutChat

// Logout signs agent user of p's queues out, handing its chats to agent
// to, or back to their queues.
func (s *Service) Logout(ctx context.Context, p auth.Principal, user auth.UserID, to *auth.UserID) ([]LoggedOutChat, error) {
	return s.router.Logout(ctx, p, user, to)
}

// AgentInfo is what a supervisor reads of an agent of its queues.
type AgentInfo = routing.AgentInfo

// AgentInfo reads agent user of p's queues: status, queues, chats.
func (s *Service) AgentInfo(ctx context.Context, p auth.Principal, user auth.UserID) (AgentInfo, error) {
	return s.router.Info(ctx, p, user)
}

// Deactivated takes away what user had once admin p deactivated its
// account: status offline, offers withdrawn, its chats back to their
// queues.
func (s *Service) Deactivated(ctx context.Context, p auth.Principal, user auth.UserID) ([]LoggedOutChat, error) {
	return s.router.Deactivated(ctx, p, user)
}
