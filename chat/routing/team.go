package routing

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"parley/auth"
	"parley/chat/conversation"
	"parley/chat/queues"
)

// Offer kinds: the router's own, an agent's invitation of a colleague
// into a chat, an agent's hand-over of a chat to a colleague.
const (
	KindRoute    = "route"
	KindInvite   = "invite"
	KindTransfer = "transfer"
)

// Target is whom an invitation or a transfer is for: a colleague
// (UserID) or any available agent of a queue (QueueID); exactly one.
type Target struct {
	UserID  auth.UserID    `json:"user_id"`
	QueueID queues.QueueID `json:"queue_id"`
}

func (t Target) check() error {
	if (t.UserID > 0) == (t.QueueID > 0) {
		return queues.Bad(`user_id, queue_id: give exactly one of "user_id" and "queue_id"`)
	}
	return nil
}

// Invitation is the answer to an invitation or a transfer to an agent.
type Invitation struct {
	User     Colleague `json:"user"`
	Deadline time.Time `json:"deadline"`
}

// QueueTransfer is the answer to a transfer to a queue.
type QueueTransfer struct {
	Queue conversation.QueueRef `json:"queue"`
}

// Invite asks a colleague, or an agent of a queue picked by its strategy,
// into p's chat id. One invitation or transfer is pending at a time.
func (s *Router) Invite(ctx context.Context, p auth.Principal, id conversation.ID, to Target) (Invitation, error) {
	if err := to.check(); err != nil {
		return Invitation{}, err
	}
	return s.offerColleague(ctx, p, id, to, KindInvite)
}

// Transfer hands p's chat id to a colleague (an offer, which p may
// cancel until it is answered) or to a queue (at once: the chat waits
// there at the head, and its agents leave it).
func (s *Router) Transfer(ctx context.Context, p auth.Principal, id conversation.ID, to Target) (any, error) {
	if err := to.check(); err != nil {
		return nil, err
	}
	if to.QueueID > 0 {
		qt, err := s.transferToQueue(ctx, p, id, to.QueueID)
		if err != nil {
			return nil, err
		}
		return map[string]any{"transfer": qt}, nil
	}
	inv, err := s.offerColleague(ctx, p, id, to, KindTransfer)
	if err != nil {
		return nil, err
	}
	return map[string]any{"transfer": inv}, nil
}

// verbs say what a team request does, for messages.
var verbs = map[string]string{KindInvite: "invite colleagues", KindTransfer: "transfer it"}

// offerColleague offers chat id to the target as kind (invite or
// transfer), in one transaction with its private event.
func (s *Router) offerColleague(ctx context.Context, p auth.Principal, id conversation.ID, to Target, kind string) (Invitation, error) {
	c, q, err := s.conv.TeamChat(ctx, p, id, verbs[kind])
	if err != nil {
		return Invitation{}, err
	}
	target, err := s.chooseTarget(ctx, p, c, to)
	if err != nil {
		return Invitation{}, err
	}
	unlock := s.conv.Lock(id)
	defer unlock()
	deadline := time.Now().Add(time.Duration(q.AnswerSeconds) * time.Second)
	var ev conversation.Event
	var offeredAt time.Time
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err = conversation.Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := conversation.TeamCheck(p, c, verbs[kind]); err != nil {
			return err
		}
		if err := pendingConflict(ctx, tx, id); err != nil {
			return err
		}
		// Read again under the lock: nothing half-done for a target that
		// became unavailable meanwhile.
		again, err := s.colleagues(ctx, tx, c, &target.ID)
		if err != nil {
			return err
		}
		if len(again) != 1 || !again[0].available() {
			return unavailable(target)
		}
		err = tx.QueryRow(ctx, `INSERT INTO offers (conversation_id, user_id, state, deadline, kind, by_user_id)
			VALUES ($1, $2, 'pending', $3, $4, $5) RETURNING offered_at`, id, target.ID, deadline, kind, p.UserID).
			Scan(&offeredAt)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // offers_one_team_pending: another came first
			return pendingConflict(ctx, tx, id)
		}
		if err != nil {
			return err
		}
		evKind := conversation.KindInvited
		if kind == KindTransfer {
			evKind = conversation.KindTransferRequested
		}
		ev = conversation.Event{ConversationID: id, Kind: evKind, Private: true, Author: conversation.AuthorOf(p, c),
			Target: &conversation.Target{Kind: "agent", Name: target.Name}}
		return conversation.Append(ctx, tx, &ev)
	})
	if err != nil {
		return Invitation{}, err
	}
	s.conv.Publish(q, ev)
	view, _ := s.conv.View(auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent}, q, c, nil)
	s.conv.PublishTo(auth.Principal{Kind: auth.KindUser, UserID: target.ID}.Key(), "chat.offer", map[string]any{
		"kind": kind, "by": Colleague{p.UserID, p.Name}, "conversation": view, "offered_at": offeredAt, "deadline": deadline,
	})
	return Invitation{User: target.Colleague, Deadline: deadline}, nil
}

// pendingConflict answers conflict, naming whom, when chat id has an
// invitation or a transfer pending.
func pendingConflict(ctx context.Context, db conversation.Querier, id conversation.ID) error {
	var name, kind string
	err := db.QueryRow(ctx, `SELECT u.display_name, o.kind FROM offers o JOIN users u ON u.id = o.user_id
		WHERE o.conversation_id = $1 AND o.state = 'pending' AND o.kind <> 'route'`, id).Scan(&name, &kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if kind == KindTransfer {
		return queues.Conflict("the chat is already being transferred to %s", name)
	}
	return queues.Conflict("%s is already invited to this chat", name)
}

func unavailable(c colleague) error {
	return queues.Conflict("%s is not available now", c.Name)
}

// chooseTarget finds the colleague named, or picks one of the queue's by
// its strategy, who can take chat c now.
func (s *Router) chooseTarget(ctx context.Context, p auth.Principal, c conversation.Conversation, to Target) (colleague, error) {
	if to.UserID > 0 {
		if to.UserID == p.UserID {
			return colleague{}, queues.Bad("user_id: you cannot invite yourself")
		}
		if err := pendingConflict(ctx, s.pool, c.ID); err != nil {
			return colleague{}, err
		}
		found, err := s.colleagues(ctx, s.pool, c, &to.UserID)
		if err != nil {
			return colleague{}, err
		}
		if len(found) != 1 {
			return colleague{}, queues.Detail(queues.ErrNotFound, "user_id: there is no such colleague")
		}
		k := found[0]
		switch {
		case k.InChat:
			return k, queues.Conflict("%s is already in this chat", k.Name)
		case !k.available():
			return k, unavailable(k)
		}
		return k, nil
	}
	tq, err := s.queue(ctx, to.QueueID)
	if errors.Is(err, queues.ErrNotFound) {
		return colleague{}, queues.Detail(queues.ErrNotFound, "queue_id: there is no such queue")
	}
	if err != nil {
		return colleague{}, err
	}
	if err := pendingConflict(ctx, s.pool, c.ID); err != nil {
		return colleague{}, err
	}
	free, err := s.availableIn(ctx, p, c, tq.ID)
	if err != nil {
		return colleague{}, err
	}
	if len(free) == 0 {
		return colleague{}, queues.Conflict("Nobody in %s is available now", tq.Name)
	}
	cands := make([]candidate, len(free))
	for i, k := range free {
		cands[i] = candidate{ID: k.ID, Load: k.Open + k.Pending, LastBusy: k.LastBusy}
	}
	if tq.Strategy == queues.RingAll { // one colleague is invited: the longest idle
		tq.Strategy = queues.LongestIdle
	}
	picked := pick(tq, cands)[0]
	for _, k := range free {
		if k.ID == picked {
			return k, nil
		}
	}
	return colleague{}, errors.New("chat: picked a colleague not offered")
}

// availableIn lists the members of queue qid who can take chat c now,
// p aside.
func (s *Router) availableIn(ctx context.Context, p auth.Principal, c conversation.Conversation, qid queues.QueueID) ([]colleague, error) {
	all, err := s.colleagues(ctx, s.pool, c, nil)
	if err != nil {
		return nil, err
	}
	var out []colleague
	for _, k := range all {
		if k.ID != p.UserID && k.available() && slices.Contains(k.Queues, qid) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Cancel withdraws the pending invitation (kind invite) or transfer
// (kind transfer) of p's chat id.
func (s *Router) Cancel(ctx context.Context, p auth.Principal, id conversation.ID, kind string) error {
	what := map[string]string{KindInvite: "withdraw its invitations", KindTransfer: "cancel its transfer"}[kind]
	if _, _, err := s.conv.TeamChat(ctx, p, id, what); err != nil {
		return err
	}
	var user auth.UserID
	err := s.pool.QueryRow(ctx, `SELECT user_id FROM offers WHERE conversation_id = $1 AND state = 'pending' AND kind = $2`,
		id, kind).Scan(&user)
	if errors.Is(err, pgx.ErrNoRows) {
		if kind == KindTransfer {
			return queues.Conflict("no transfer is pending")
		}
		return queues.Conflict("no invitation is pending")
	}
	if err != nil {
		return err
	}
	err = s.endOffer(ctx, id, user, "cancelled")
	if errors.Is(err, errStale) {
		return queues.Conflict("the %s was answered meanwhile", map[string]string{KindInvite: "invitation", KindTransfer: "transfer"}[kind])
	}
	return err
}
