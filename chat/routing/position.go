package routing

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// QueuePosition is where a waiting chat stands in its queue, as its
// customer is told (chat.queue_position): Position 1 is next; nil when
// the chat no longer waits. EstimateSeconds is the wait it may expect
// (see estimate), nil when there is no figure to give.
type QueuePosition struct {
	ConversationID  conversation.ID `json:"conversation_id"`
	Position        *int            `json:"position"`
	EstimateSeconds *int            `json:"estimate_seconds"`
}

// AnswerWindow is how far back the answer times an estimate is made of
// go: the chats of the queue accepted within it.
const AnswerWindow = time.Hour

// DefaultPositionRefresh is how often, unless Options.PositionRefresh
// says otherwise, the node that routes a queue tells its waiting
// customers their place again: an estimate drifts as agents come and go
// and answer times change, which no change of the waiting list tells.
const DefaultPositionRefresh = 30 * time.Second

// estimate is the wait of the chat at place pos (1 is next) of a queue
// whose chats answered within AnswerWindow waited median seconds (nil:
// none was answered) and that onDuty agents serve now: each place ahead
// costs one median wait, shared among the agents on duty. Nil when no
// chat was answered in the window or nobody is on duty: the customer is
// told it will be soon rather than a number made up.
func estimate(median *float64, onDuty, pos int) *int {
	if median == nil || onDuty <= 0 || pos <= 0 {
		return nil
	}
	s := int(math.Ceil(*median * float64(pos) / float64(onDuty)))
	s = max(s, 1)
	return &s
}

// positions is what changed in the waiting lists since they were last
// told: chats queued or closed (whose queue is read with the lists) and
// queues. positionLoop tells them, coalescing a burst into one read.
type positions struct {
	mu     sync.Mutex
	convs  map[conversation.ID]bool
	queues map[queues.QueueID]bool
	kick   chan struct{}
}

func newPositions() *positions {
	return &positions{convs: map[conversation.ID]bool{}, queues: map[queues.QueueID]bool{}, kick: make(chan struct{}, 1)}
}

// chat marks the queue of chat id as changed.
func (p *positions) chat(id conversation.ID) {
	p.mu.Lock()
	p.convs[id] = true
	p.mu.Unlock()
	p.wake()
}

// queue marks queue id as changed.
func (p *positions) queue(id queues.QueueID) {
	p.mu.Lock()
	p.queues[id] = true
	p.mu.Unlock()
	p.wake()
}

func (p *positions) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// take empties the marks and returns them.
func (p *positions) take() ([]conversation.ID, []queues.QueueID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := make([]conversation.ID, 0, len(p.convs))
	for id := range p.convs {
		cs = append(cs, id)
	}
	qs := make([]queues.QueueID, 0, len(p.queues))
	for id := range p.queues {
		qs = append(qs, id)
	}
	clear(p.convs)
	clear(p.queues)
	return cs, qs
}

// positionGap is the least time between two tellings of this node: the
// changes of a busy queue within it make one telling (each sends a frame
// to every waiting customer of the queue), at the cost of a place told
// this much later.
const positionGap = 200 * time.Millisecond

// positionLoop tells waiting customers their place when their queue's
// waiting list changed (marked by this node: whichever node a chat was
// queued, taken or closed on tells, over the bus, every node's
// customers), and every PositionRefresh those of the queues this node
// routes.
func (s *Router) positionLoop(ctx context.Context) {
	t := time.NewTicker(s.opt.PositionRefresh)
	defer t.Stop()
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.pos.kick:
		case <-t.C:
			s.step(ctx, "queue positions: the queues routed here", s.markRouted)
		}
		select { // what comes meanwhile waits for this telling
		case <-ctx.Done():
			return
		case <-gap.C:
		}
		s.step(ctx, "queue positions", s.tellPositions)
		gap.Reset(positionGap)
	}
}

// markRouted marks the queues with waiting chats that this node routes.
func (s *Router) markRouted(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT queue_id FROM conversations WHERE state IN ('queued', 'offered')`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[queues.QueueID])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if mine, err := s.opt.Turn.Routes(ctx, id); err != nil {
			return err
		} else if mine {
			s.pos.queue(id)
		}
	}
	return nil
}

// waitingList is a queue's waiting chats in the router's order and what
// its estimates are made of.
type waitingList struct {
	Queue   queues.QueueID
	Median  *float64 // seconds the chats answered within AnswerWindow waited
	Members []auth.UserID
	Waiting []conversation.ID
}

// waitingListsSQL reads, for the queues $1 and those of the chats $2,
// each queue's waiting chats (queued or offered) by (queued_at, id), the
// router's order; the median wait (queued to accepted) of its chats
// accepted within $3; and its members who are enabled and available
// (whether they are connected is presence's, asked in Go). One statement
// for every queue of a burst of changes.
const waitingListsSQL = `SELECT q.id,
		(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.accepted_at - r.queued_at))
			FROM conversations r WHERE r.queue_id = q.id AND r.accepted_at > now() - $3::interval),
		ARRAY(SELECT m.user_id FROM queue_members m
			JOIN users u ON u.id = m.user_id AND NOT u.disabled
			LEFT JOIN agent_status st ON st.user_id = m.user_id
			WHERE m.queue_id = q.id AND coalesce(st.status, 'available') = 'available'),
		ARRAY(SELECT w.id FROM conversations w WHERE w.queue_id = q.id AND w.state IN ('queued', 'offered')
			ORDER BY w.queued_at, w.id)
	FROM queues q
	WHERE q.id = ANY ($1::bigint[]) OR q.id IN (SELECT queue_id FROM conversations WHERE id = ANY ($2::bigint[]))`

// waitingLists reads the waiting lists of queues qs and of the queues of
// chats cs.
func (s *Router) waitingLists(ctx context.Context, qs []queues.QueueID, cs []conversation.ID) ([]waitingList, error) {
	rows, err := s.pool.Query(ctx, waitingListsSQL, qs, cs, AnswerWindow.String())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[waitingList])
}

// onDuty counts the members of l who are connected: the agents who serve
// the queue now.
func (s *Router) onDuty(l waitingList) int {
	n := 0
	for _, u := range l.Members {
		if s.presence.Online(auth.Principal{Kind: auth.KindUser, UserID: u}.Key()) {
			n++
		}
	}
	return n
}

// placesOf is every waiting chat of l with its place and estimate.
func (s *Router) placesOf(l waitingList) []QueuePosition {
	duty := s.onDuty(l)
	out := make([]QueuePosition, len(l.Waiting))
	for i, id := range l.Waiting {
		pos := i + 1
		out[i] = QueuePosition{ConversationID: id, Position: &pos, EstimateSeconds: estimate(l.Median, duty, pos)}
	}
	return out
}

// tellPositions publishes chat.queue_position to every waiting customer
// of the queues marked changed, on each chat's public subject. Marks
// that could not be told are kept for the next try.
func (s *Router) tellPositions(ctx context.Context) error {
	cs, qs := s.pos.take()
	if len(cs) == 0 && len(qs) == 0 {
		return nil
	}
	lists, err := s.waitingLists(ctx, qs, cs)
	if err != nil {
		for _, id := range cs {
			s.pos.chat(id)
		}
		for _, id := range qs {
			s.pos.queue(id)
		}
		return err
	}
	for _, l := range lists {
		for _, p := range s.placesOf(l) {
			s.conv.PublishSubject(conversation.PublicSubject(p.ConversationID), "chat.queue_position", p)
		}
	}
	return nil
}

// QueuePosition answers where customer p's chat id stands in its queue
// now (chat.queue_position): what the widget shows at once on connect,
// resume and resync, before the next change is pushed. A chat that no
// longer waits has no position. Only the chat's customer asks: others
// are refused, and a chat p may not read is not found.
func (s *Router) QueuePosition(ctx context.Context, p auth.Principal, id conversation.ID) (QueuePosition, error) {
	if p.Kind != auth.KindVisitor {
		return QueuePosition{}, queues.Detail(queues.ErrForbidden, "the queue position is for the waiting customer")
	}
	if id <= 0 {
		return QueuePosition{}, queues.Bad(`conversation_id: required`)
	}
	readable, err := s.conv.Positions(ctx, p, []conversation.ID{id})
	if err != nil {
		return QueuePosition{}, err
	}
	if len(readable) == 0 {
		return QueuePosition{}, queues.ErrNotFound
	}
	lists, err := s.waitingLists(ctx, nil, []conversation.ID{id})
	if err != nil {
		return QueuePosition{}, err
	}
	for _, l := range lists {
		for _, place := range s.placesOf(l) {
			if place.ConversationID == id {
				return place, nil
			}
		}
	}
	return QueuePosition{ConversationID: id}, nil
}
