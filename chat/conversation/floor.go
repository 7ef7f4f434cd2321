package conversation

import "parley/chat/queues"

// tellFloor marks what an event of kind in queue q changed on the
// supervisors' floor (chat/floor), once it is committed: the queue's
// waiting chats and figures, or with them (marking everything) an
// agent's open chats and last activity, which the floor shows in every
// queue the agent is a member of. Messages, comments and the rest change
// nothing there. Every change of a chat's state, agent, queue or times
// comes with one of these events; a chat that moves to another queue
// comes with transferred, which marks both.
func (s *Log) tellFloor(q queues.QueueID, kind string) {
	switch kind {
	case KindQueued, KindOffered, KindRejected, KindMissed:
		s.opt.Floor.Queue(q)
	case KindAccepted, KindClosed, KindWrappedUp, KindJoined, KindLeft, KindTransferred:
		s.opt.Floor.All()
	}
}
