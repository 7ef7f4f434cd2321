package conversation

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

// Columns are a conversation's columns, as Scan reads them, over From:
// the router reads its waiting chats and offers with them.
const Columns = `c.id, c.queue_id, q.name, c.state, c.customer_name, c.customer_email, c.customer_extra,
	c.agent_id, coalesce(u.display_name, ''), c.queued_at, c.accepted_at, c.closed_at, c.closed_by, c.close_status,
	c.last_seq, c.wrap_up_due, c.wait_alert_at, c.visitor, c.last_public_seq, coalesce(c.origin_queue_id, c.queue_id),
	coalesce((SELECT json_agg(json_build_object('id', ca.user_id, 'name', au.display_name)
		ORDER BY ca.user_id IS DISTINCT FROM c.agent_id, ca.joined_at, ca.user_id)
		FROM conversation_agents ca JOIN users au ON au.id = ca.user_id WHERE ca.conversation_id = c.id), '[]'),
	c.feedback_rating IS NOT NULL,
	c.verified_id, c.verified_name, c.verified_email,
	c.important,
	(SELECT min(te.created_at) FROM conversation_events te WHERE te.conversation_id = c.id AND te.kind = 'message'
		AND NOT te.private AND te.author_kind = 'agent' AND te.client_id IS NOT NULL),
	(SELECT CASE WHEN te.author_kind = 'customer' THEN te.created_at END FROM conversation_events te
		WHERE te.conversation_id = c.id AND te.kind = 'message' AND NOT te.private
			AND (te.author_kind = 'customer' OR te.client_id IS NOT NULL) ORDER BY te.seq DESC LIMIT 1),
	(SELECT json_build_object('id', ct.id, 'name', ct.name, 'paired_by', c.contact_paired_by)
		FROM contacts ct WHERE ct.id = c.contact_id),
	(SELECT json_build_object('id', tk.id, 'title', tk.title, 'state', tk.state, 'priority', tk.priority)
		FROM tickets tk WHERE tk.id = c.ticket_id)`

// From is the FROM clause that Columns name: a conversation c, its queue
// q and its lead agent u (the set of agents is a subquery of Columns).
const From = ` FROM conversations c JOIN queues q ON q.id = c.queue_id LEFT JOIN users u ON u.id = c.agent_id `

// Scan reads Columns, then extra columns selected
// after them into extra.
func Scan(row pgx.Row, extra ...any) (Conversation, error) {
	var c Conversation
	var agentName string
	var verifiedID *string
	var verifiedName, verifiedEmail bool
	err := row.Scan(append([]any{&c.ID, &c.Queue.ID, &c.Queue.Name, &c.State, &c.Customer.Name, &c.Customer.Email,
		&c.Customer.Extra, &c.agentID, &agentName, &c.QueuedAt, &c.AcceptedAt, &c.ClosedAt, &c.ClosedBy,
		&c.CloseStatus, &c.LastSeq, &c.WrapUpDue, &c.WaitAlertAt, &c.visitor, &c.lastPublicSeq, &c.originQueue,
		&c.Agents, &c.FeedbackGiven,
		&verifiedID, &verifiedName, &verifiedEmail,
		&c.Important, &c.FirstResponseAt, &c.AwaitingReplySince, &c.Contact, &c.Ticket}, extra...)...)
	c.scanVerified(verifiedID, verifiedName, verifiedEmail)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, queues.ErrNotFound
	}
	if c.agentID != nil {
		id := *c.agentID
		c.Agent = &AgentRef{ID: &id, Name: agentName}
	}
	return c, err
}

// Querier is a pool or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Get reads conversation id, locking its row (FOR UPDATE) when lock is
// set and db is a transaction.
func Get(ctx context.Context, db Querier, id ID, lock bool) (Conversation, error) {
	sql := `SELECT ` + Columns + From + ` WHERE c.id = $1`
	if lock {
		sql += ` FOR UPDATE OF c`
	}
	return Scan(db.QueryRow(ctx, sql, id))
}

// mayRead answers queues.ErrNotFound unless p may read conversation c (Decide).
func (s *Log) mayRead(ctx context.Context, p auth.Principal, c Conversation) error {
	_, err := s.access(ctx, p, c)
	return err
}

func (s *Log) queueKey(ctx context.Context, id queues.QueueID) string {
	q, err := s.queue(ctx, id)
	if err != nil {
		return ""
	}
	return q.Key
}

// StartInput is the pre-chat form.
type StartInput struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Extra string `json:"extra"`
	// Identity is the company's signed token of who the customer is
	// (identity.go); its name and e-mail replace Name and Email.
	Identity string `json:"identity"`
}

func (in *StartInput) validate(q queues.Queue) error {
	if err := queues.BadText("name", in.Name, "email", in.Email, "extra", in.Extra); err != nil {
		return err
	}
	in.Name, in.Email, in.Extra = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email), strings.TrimSpace(in.Extra)
	switch {
	case in.Name == "":
		return queues.Bad("name: your name is required")
	case utf8.RuneCountInString(in.Name) > 100:
		return queues.Bad("name: at most 100 characters")
	case in.Email == "" && q.EmailMode == "required":
		return queues.Bad("email: an e-mail address is required")
	case in.Email != "" && !validEmail(in.Email):
		return queues.Bad("email: a valid e-mail address is required")
	case q.ExtraMode == "hidden":
		in.Extra = ""
	case in.Extra == "" && q.ExtraMode == "required":
		return queues.Bad("extra: %s is required", strings.ToLower(q.ExtraLabel))
	case utf8.RuneCountInString(in.Extra) > 200:
		return queues.Bad("extra: at most 200 characters")
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// Start opens the visitor's conversation in its queue, or returns the one
// it already has open.
func (s *Log) Start(ctx context.Context, p auth.Principal, in StartInput) (Conversation, []Event, error) {
	c, q, evs, err := s.start(ctx, p, in)
	if err != nil {
		return Conversation{}, nil, err
	}
	c, evs = s.View(p, q, c, evs)
	return c, evs, nil
}

// start is Start before the view: the chat as staff see it. A new chat
// is told to the router as soon as its queued event is out, and is not
// read back: it is made of what its transaction wrote (started).
func (s *Log) start(ctx context.Context, p auth.Principal, in StartInput) (Conversation, queues.Queue, []Event, error) {
	if p.Kind != auth.KindVisitor {
		return Conversation{}, queues.Queue{}, nil, queues.Detail(queues.ErrForbidden, "only customers start chats")
	}
	q, err := s.queues.ByKey(ctx, p.Scope)
	if err != nil {
		return Conversation{}, queues.Queue{}, nil, err
	}
	if open, err := s.openOf(ctx, p); err != nil {
		return Conversation{}, queues.Queue{}, nil, err
	} else if len(open) > 0 {
		return s.resume(ctx, p, open[0].ID, 0)
	}
	if err := admit(q, time.Now()); err != nil { // the queue's rules (admit.go)
		return Conversation{}, queues.Queue{}, nil, err
	}
	v, err := s.identify(ctx, q, &in)
	if err != nil {
		return Conversation{}, queues.Queue{}, nil, err
	}
	if err := in.validate(q); err != nil {
		return Conversation{}, queues.Queue{}, nil, err
	}
	var id ID
	var at time.Time
	var paired bool
	var ev Event
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := admitWaitingTx(ctx, tx, q); err != nil {
			return err
		}
		// The chat is born with its first event's seq taken (queued, seq 1
		// and public seq 1: nothing else is appended before it), and the
		// event is inserted with it, in one statement, without Append's
		// UPDATE of the new row.
		ev = Event{Seq: 1, publicSeq: 1, Kind: KindQueued, Author: Author{Kind: "customer", Name: in.Name, key: p.Key()}}
		if err := tx.QueryRow(ctx, `WITH c AS (
				INSERT INTO conversations (queue_id, visitor, customer_name, customer_email, customer_extra, state,
					last_seq, last_public_seq)
				VALUES ($1, $2, $3, $4, $5, 'queued', 1, 1) RETURNING id, queued_at
			), e AS (
				INSERT INTO conversation_events (conversation_id, seq, kind, author_kind, author_key, author_name, private, text,
					status, public_seq)
				SELECT c.id, 1, $6, $7, $8, $3, false, '', '', 1 FROM c RETURNING created_at
			)
			SELECT c.id, c.queued_at, e.created_at FROM c, e`, q.ID, p.Subject, in.Name, in.Email, in.Extra,
			ev.Kind, ev.Author.Kind, ev.Author.key).Scan(&id, &at, &ev.Time); err != nil {
			return err
		}
		ev.ConversationID = id
		if err := v.save(ctx, tx, id); err != nil {
			return err
		}
		var err error
		paired, err = pairAtStart(ctx, tx, p, id, v, in) // pairing.go
		return err
	})
	if err != nil {
		return Conversation{}, queues.Queue{}, nil, err
	}
	var c Conversation
	if paired {
		// Its contact (id and name) is chat/crm's: read the chat back.
		if c, err = Get(ctx, s.pool, id, false); err != nil {
			return Conversation{}, queues.Queue{}, nil, err
		}
	} else {
		c = started(id, q, p, in, v, at)
	}
	unlock := s.Lock(id)
	s.Publish(q, ev)
	unlock()
	s.PublishWaiting(q, c)
	s.hooks.Queued(id)
	return c, q, []Event{ev}, nil
}

// started is chat id as Start's transaction left it, inserted at at in
// queue q for visitor p with the form in and the identity v, paired
// with no contact: what Get reads of it then, with the queue's name from
// the cache. It saves reading back the row just written before the
// router is told of it. (A pass started by another chat's poke may
// offer it between the commit and the waiting list's entry, as it could
// between the read back and the entry before.)
func started(id ID, q queues.Queue, p auth.Principal, in StartInput, v verified, at time.Time) Conversation {
	c := Conversation{ID: id, Queue: QueueRef{ID: q.ID, Name: q.Name}, State: StateQueued,
		Customer: Customer{Name: in.Name, Email: in.Email, Extra: in.Extra}, Agents: []AgentRef{},
		QueuedAt: at, LastSeq: 1, visitor: p.Subject, originQueue: q.ID, lastPublicSeq: 1}
	if v.ID != "" {
		c.scanVerified(&v.ID, v.Name, v.Email)
	}
	return c
}

// openOf lists p's open conversations: a customer's own (those started
// in its widget's queue, wherever they were transferred), the ones an
// agent is in and those it still has to wrap up.
func (s *Log) openOf(ctx context.Context, p auth.Principal) ([]Conversation, error) {
	var rows pgx.Rows
	var err error
	switch {
	case p.Kind == auth.KindVisitor:
		rows, err = s.pool.Query(ctx, `SELECT `+Columns+From+`
			JOIN queues oq ON oq.id = coalesce(c.origin_queue_id, c.queue_id)
			WHERE c.visitor = $1 AND oq.key = $2 AND c.state NOT IN ('closed', 'offline') ORDER BY c.id`, p.Subject, p.Scope)
	case p.IsStaff():
		rows, err = s.pool.Query(ctx, `SELECT `+Columns+From+`
			JOIN conversation_agents ca ON ca.conversation_id = c.id AND ca.user_id = $1
			WHERE c.state = 'active' OR c.wrap_up_due ORDER BY c.accepted_at, c.id`, p.UserID)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conversation, error) { return Scan(r) })
}

// Mine lists p's open conversations as p may see them.
func (s *Log) Mine(ctx context.Context, p auth.Principal) ([]Conversation, error) {
	cs, err := s.openOf(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]Conversation, 0, len(cs))
	for _, c := range cs {
		q, err := s.queue(ctx, c.Queue.ID)
		if err != nil {
			return nil, err
		}
		v, _ := s.View(p, q, c, nil)
		out = append(out, v)
	}
	return out, nil
}

// Resume returns a conversation p may read and its events after seq.
func (s *Log) Resume(ctx context.Context, p auth.Principal, id ID, after int) (Conversation, []Event, error) {
	c, q, evs, err := s.resume(ctx, p, id, after)
	if err != nil {
		return Conversation{}, nil, err
	}
	c, evs = s.View(p, q, c, evs)
	return c, evs, nil
}

// resume is Resume before the view: the chat as staff see it, its queue,
// and the events after after that p may read.
func (s *Log) resume(ctx context.Context, p auth.Principal, id ID, after int) (Conversation, queues.Queue, []Event, error) {
	c, q, _, err := s.readable(ctx, p, id)
	if err != nil {
		return Conversation{}, queues.Queue{}, nil, err
	}
	evs, err := s.events(ctx, id, after, p.IsStaff())
	if err != nil {
		return Conversation{}, queues.Queue{}, nil, err
	}
	return c, q, evs, nil
}

// Subject is the bus subject through which p follows conversation id:
// staff get every event, customers the public ones.
func Subject(p auth.Principal, id ID) string {
	if p.IsStaff() {
		return StaffSubject(id)
	}
	return PublicSubject(id)
}

// Typing tells the other side of a conversation that p is typing. A
// private typing (an agent writing a private note) goes to staff only: the
// customer must not learn that staff write privately, so it never hears of
// it.
func (s *Log) Typing(ctx context.Context, p auth.Principal, id ID, typing, private bool) error {
	if private && !p.IsStaff() {
		return queues.Detail(queues.ErrForbidden, "private typing is for agents")
	}
	c, q, acc, err := s.readable(ctx, p, id)
	if err != nil {
		return err
	}
	if !acc.Write {
		return queues.Conflict("the chat is closed")
	}
	a := AuthorOf(p, c)
	if !p.IsStaff() || private {
		s.PublishSubject(StaffSubject(id), "chat.typing",
			map[string]any{"conversation_id": id, "author": a, "typing": typing, "private": private})
		return nil
	}
	// Staff following the chat (a supervisor watching) hear of it too.
	s.PublishSubject(StaffSubject(id), "chat.typing",
		map[string]any{"conversation_id": id, "author": a, "typing": typing, "private": false})
	// Customers hear of the agent by the name the queue allows.
	if !q.ShowAgentName {
		a.Name = q.Alias()
	}
	s.PublishSubject(PublicSubject(id), "chat.typing", map[string]any{"conversation_id": id, "author": a, "typing": typing})
	return nil
}
