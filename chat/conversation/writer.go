package conversation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"parley/auth"
	"parley/chat/queues"
	"parley/store"
)

// SendInput is one message.
type SendInput struct {
	ConversationID ID     `json:"conversation_id"`
	ClientID       string `json:"client_id"`
	Text           string `json:"text"`
	Private        bool   `json:"private"`
	// Options makes the message a question, Choice the customer's
	// answer to one (options.go).
	Options []string     `json:"options,omitempty"`
	Choice  *ChoiceInput `json:"choice,omitempty"`
	// Files are the message's files: up to MaxFilesPerMessage of the
	// sender's pending uploads in this conversation (files.go).
	Files []FileID `json:"files,omitempty"`
}

// SendResult is the acknowledgement of a committed message.
type SendResult struct {
	Seq       int       `json:"seq"`
	Time      time.Time `json:"time"`
	Duplicate bool      `json:"duplicate"`
}

type sendReq struct {
	ev    Event
	as    string // sendAs…
	p     auth.Principal
	queue queues.Queue // what customerView needs, as the statement read it
	res   SendResult
	err   error
	done  chan struct{}

	first *sendReq  // an earlier message of the batch with the same key: this one is its resend
	at    time.Time // when Send took it: a writer lingers from here
}

// Send stores a message and returns once it is committed. Messages that
// arrive together are committed with one statement by a writer, which
// also checks that p may write in the conversation and that it is open:
// nothing is read before, and nothing is cached, so a send right after a
// close or an accept by another agent is judged on the committed rows.
// With several nodes this stays true as it is (there is nothing to
// invalidate over the bus); only the stripes that order publishing are
// per node, as for every other event.
func (s *Log) Send(ctx context.Context, p auth.Principal, in SendInput) (SendResult, error) {
	if structured(in) {
		return s.sendStructured(ctx, p, in)
	}
	r, err := newSendReq(p, in)
	if err != nil {
		return SendResult{}, err
	}
	if len(in.Files) > 0 {
		if r.ev.Files, err = s.pendingFiles(ctx, p, in.ConversationID, in.Files); err != nil {
			return SendResult{}, err
		}
	}
	wr := s.writers[uint64(in.ConversationID)%uint64(len(s.writers))]
	r.at = time.Now()
	if wr.quiet(r.at, s.opt.Linger) && wr.mu.TryLock() {
		// No batch is being committed, and none lately held more than one
		// message: this sender commits its message itself, at once,
		// instead of waking the writer and being woken by it.
		if wctx := wr.ctx; wctx != nil && wctx.Err() == nil {
			err := s.commitOwn(ctx, wctx, wr, r)
			wr.mu.Unlock()
			return r.res, err
		}
		wr.mu.Unlock()
	}
	select {
	case wr.in <- r:
	case <-ctx.Done():
		return SendResult{}, ctx.Err()
	}
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		// The writer will still commit it; a resend with the same
		// client_id gets the stored seq.
		return SendResult{}, ctx.Err()
	}
}

// newSendReq checks a message and says who sends it: the rest of the
// checks are the writer's statement's (see storeSQL).
func newSendReq(p auth.Principal, in SendInput) (*sendReq, error) {
	in.ClientID = strings.TrimSpace(in.ClientID)
	if err := queues.BadText("client_id", in.ClientID, "text", in.Text); err != nil {
		return nil, err
	}
	switch {
	case in.ClientID == "" || len(in.ClientID) > 64:
		return nil, queues.Bad("client_id: 1–64 characters, unique per message")
	case strings.TrimSpace(in.Text) == "" && len(in.Files) == 0:
		return nil, queues.Bad("text: the message is empty")
	case utf8.RuneCountInString(in.Text) > queues.MaxText:
		return nil, queues.Detail(queues.ErrTooLong, fmt.Sprintf("text: %d characters, at most %d", utf8.RuneCountInString(in.Text), queues.MaxText))
	case in.Private && !p.IsStaff():
		return nil, queues.Detail(queues.ErrForbidden, "private messages are for agents")
	}
	r := &sendReq{
		ev: Event{ConversationID: in.ConversationID, Kind: KindMessage, Text: in.Text, Private: in.Private,
			ClientID: in.ClientID, Author: Author{Kind: "agent", Name: p.Name, key: p.Key()}},
		p:    p,
		done: make(chan struct{}),
	}
	switch r.as = sendAs(p); r.as {
	case "":
		return nil, queues.ErrNotFound
	case sendAsCustomer:
		// Named by the statement, as the pre-chat form named the customer.
		r.ev.Author = Author{Kind: "customer", key: r.ev.Author.key}
	}
	return r, nil
}

// writer commits one share of the conversations' messages (by id). Its
// role, mu, is held while a batch is committed: by its goroutine
// (writeLoop), woken by a message queued on in, or by a sender that
// found the writer quiet (Send), which commits its own message itself:
// at a few messages a second per writer, or from one sender at a time,
// batches are one message, and handing it to the writer's goroutine and
// being answered by it were two wake-ups for nothing. Once messages come
// together, the writer lingers instead (Options.Linger): at 1,000
// messages a second, committing each as it came made PostgreSQL the
// busiest process of the node, for transactions of one or two messages.
type writer struct {
	in chan *sendReq

	last atomic.Int64 // when a batch of several messages was last committed, in Unix nanoseconds

	mu    sync.Mutex
	ctx   context.Context // under mu: Run's while the writer runs, else nil
	bw    *batchWriter    // under mu
	batch []*sendReq      // under mu
}

func newWriter(s *Log) *writer {
	return &writer{in: make(chan *sendReq, 4096), bw: newBatchWriter(s.pool, s.opt.BatchMax),
		batch: make([]*sendReq, 0, s.opt.BatchMax)}
}

// quietLingers is how many lingers without a batch of several messages
// make a writer quiet.
const quietLingers = 4

// quiet says whether the writer committed no batch of several messages
// within the last quietLingers lingers before now: its messages come one
// at a time, and waiting for another would only delay each.
func (wr *writer) quiet(now time.Time, linger time.Duration) bool {
	return linger <= 0 || now.UnixNano()-wr.last.Load() > int64(quietLingers*linger)
}

// open lets senders commit in the writer's place, within ctx (Run's).
func (wr *writer) open(ctx context.Context) {
	wr.mu.Lock()
	wr.ctx = ctx
	wr.mu.Unlock()
}

// close ends what open allowed and releases the writer's statement.
func (wr *writer) close() {
	wr.mu.Lock()
	wr.ctx = nil
	wr.bw.release()
	wr.mu.Unlock()
}

// writeLoop commits what arrives on the writer's queue until ctx ends.
func (s *Log) writeLoop(ctx context.Context, wr *writer) {
	wr.open(ctx)
	defer wr.close()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-wr.in:
			wr.mu.Lock()
			s.commitFrom(ctx, wr, r)
			wr.mu.Unlock()
		}
	}
}

// commitOwn commits r alone, on its sender's goroutine, within the
// writer's DBTimeout and the sender's own context: the sender gives up at
// its deadline, as it would waiting on the writer, and its message alone
// may then be committed or not (a resend finds it). The caller holds
// wr.mu.
func (s *Log) commitOwn(ctx, wctx context.Context, wr *writer, r *sendReq) error {
	// One context for both bounds (commit then adds no timeout of its
	// own): the earlier deadline, the writer's end, the sender's end.
	deadline := time.Now().Add(s.opt.DBTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	cctx, cancel := context.WithDeadline(wctx, deadline)
	stop := context.AfterFunc(ctx, cancel)
	batch := append(wr.batch[:0], r)
	s.commit(cctx, wr.bw, batch)
	clear(batch)
	stop()
	cancel()
	if r.err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return r.err
}

// commitFrom commits r and what else arrives until Linger after r did,
// up to BatchMax, with one statement, its own transaction; then everyone
// in the batch is answered. The caller holds wr.mu.
func (s *Log) commitFrom(ctx context.Context, wr *writer, r *sendReq) {
	batch := append(wr.batch[:0], r)
fill:
	for len(batch) < s.opt.BatchMax {
		select {
		case r := <-wr.in:
			batch = append(batch, r)
		default:
			break fill
		}
	}
	if wait := time.Until(r.at.Add(s.opt.Linger)); wait > 0 && len(batch) < s.opt.BatchMax {
		t := time.NewTimer(wait)
	linger:
		for len(batch) < s.opt.BatchMax {
			select {
			case r := <-wr.in:
				batch = append(batch, r)
			case <-t.C:
				break linger
			case <-ctx.Done():
				break linger // the commit fails, and its senders are told
			}
		}
		t.Stop()
	}
	s.commit(ctx, wr.bw, batch)
	if len(batch) > 1 {
		wr.last.Store(time.Now().UnixNano())
	}
	clear(batch) // let the answered requests go
}

// commit stores a batch within DBTimeout (or ctx's earlier deadline): on
// a database that hangs, its senders are answered unavailable and the
// writer takes the next batch.
func (s *Log) commit(ctx context.Context, w *batchWriter, batch []*sendReq) {
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > s.opt.DBTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opt.DBTimeout)
		defer cancel()
	}
	ids := w.ids[:0]
	for _, r := range batch {
		ids = append(ids, r.ev.ConversationID)
	}
	w.ids = ids
	unlock := s.Lock(ids...)
	defer unlock()
	err := storeOnce(ctx, w, batch)
	if err != nil && len(batch) > 1 && !store.IsUnavailable(err) {
		// One bad message must not fail the others: commit one by one.
		for _, r := range batch {
			if err := storeOnce(ctx, w, []*sendReq{r}); err != nil {
				r.err = err
			}
			s.finish(r)
		}
		return
	}
	for _, r := range batch {
		if err != nil {
			r.err = err
		}
		s.finish(r)
	}
}

// storeOnce stores a batch. A message of the batch may be stored by
// another transaction at the same moment: an earlier try the sender was
// told had failed (the database hung, then went on), or a resend through
// another node while the first is still in flight. The unique index then
// makes the insert wait for that transaction and fail when it commits;
// tried again, the statement finds the stored message and answers it as a
// duplicate.
func storeOnce(ctx context.Context, w *batchWriter, batch []*sendReq) error {
	err := w.store(ctx, batch)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "conversation_events_client" {
		err = w.store(ctx, batch)
	}
	return err
}

// finish answers the sender and, for a new message, tells the conversation.
// The caller holds the conversation's stripe.
func (s *Log) finish(r *sendReq) {
	if r.err == nil && !r.res.Duplicate {
		s.Publish(r.queue, r.ev)
	}
	close(r.done)
}
