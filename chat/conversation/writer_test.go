package conversation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
	"parley/chat/queues"
)

// writerFixture is a chat service (not running: the tests drive its
// writer) with a queue, two agents, a supervisor and customers.
type writerFixture struct {
	svc             *Log
	qs              *queues.Store
	q               queues.Queue
	alice, bob, sup auth.Principal
	published       atomic.Int64 // events on the staff subjects of the customers' chats
}

// fixtureSeq numbers what a test names itself.
var fixtureSeq atomic.Int64

func newWriterFixture(t *testing.T, opt ...Options) *writerFixture {
	t.Helper()
	pool, a := chattest.DB(t)
	staff := chattest.NewStaff(t, a)
	qs := queues.New(pool, queues.NewLocalCache())
	f := &writerFixture{svc: New(pool, bus.NewMemory(), chattest.Quiet, qs, append(opt, Options{})[0]), qs: qs,
		alice: staff.Alice, bob: staff.Bob, sup: staff.Sue}
	var err error
	f.q, err = f.qs.Create(context.Background(), queues.Queue{Key: chattest.Unique("writer"), Name: "Writer"},
		f.alice.UserID, f.bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// customer starts a chat as a new visitor.
func (f *writerFixture) customer(t *testing.T, name string) (auth.Principal, ID) {
	t.Helper()
	p := chattest.Visitor(name, f.q.Key)
	c, _, err := f.svc.Start(context.Background(), p, StartInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	unsub, err := f.svc.bus.Subscribe(StaffSubject(c.ID), func([]byte) { f.published.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return p, c.ID
}

// batch commits the messages as one batch of the writer and returns them
// answered.
func (f *writerFixture) batch(t *testing.T, msgs ...sendCase) []*sendReq {
	t.Helper()
	reqs := make([]*sendReq, len(msgs))
	for i, m := range msgs {
		r, err := newSendReq(m.p, SendInput{ConversationID: m.conv, ClientID: m.clientID, Text: m.text, Private: m.private})
		if m.refused != "" {
			// Text the database refuses no longer passes newSendReq: put
			// it in past the check, to see the writer keep it to itself.
			r, err = newSendReq(m.p, SendInput{ConversationID: m.conv, ClientID: m.clientID, Text: "placeholder", Private: m.private})
			if r != nil {
				r.ev.Text = m.refused
			}
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		reqs[i] = r
	}
	w := newBatchWriter(f.svc.pool, len(reqs))
	defer w.release()
	f.svc.commit(context.Background(), w, reqs)
	return reqs
}

type sendCase struct {
	p        auth.Principal
	conv     ID
	clientID string
	text     string
	private  bool
	refused  string // text the database refuses, given to the writer directly
}

// outcome is a send's answer in short: the seq, "dup 3", or the error code.
func outcome(r *sendReq) string {
	var coded interface{ Code() string }
	switch {
	case errors.As(r.err, &coded):
		return coded.Code()
	case r.err != nil:
		return r.err.Error()
	case r.res.Duplicate:
		return fmt.Sprintf("dup %d", r.res.Seq)
	default:
		return fmt.Sprint(r.res.Seq)
	}
}

func TestABatchIsCheckedNumberedAndStoredMessageByMessage(t *testing.T) {
	f := newWriterFixture(t)
	ctx := context.Background()
	vera, a := f.customer(t, "Vera")      // seq 1 queued
	walt, b := f.customer(t, "Walt")      // seq 1 queued
	cleo, closed := f.customer(t, "Cleo") // closed below
	// Each chat has its queued event (seq 1); the queue has no greeting.
	f.accept(t, a, f.alice)     // a: seq 2 accepted
	f.offer(t, b, f.bob.UserID) // b: seq 2 offered
	if err := f.svc.Close(ctx, f.sup, closed, ""); err != nil {
		t.Fatal(err)
	}
	stranger := vera
	stranger.Subject = "someone-else"
	otherQueue := vera
	otherQueue.Scope = "another-queue"

	reqs := f.batch(t,
		sendCase{p: vera, conv: a, clientID: "v1", text: "one"},
		sendCase{p: vera, conv: a, clientID: "v2", text: "two"},
		sendCase{p: vera, conv: a, clientID: "v1", text: "one, again"},
		sendCase{p: stranger, conv: a, clientID: "s1", text: "hello?"},
		sendCase{p: walt, conv: a, clientID: "w1", text: "not my chat"},
		sendCase{p: otherQueue, conv: a, clientID: "o1", text: "wrong queue"},
		sendCase{p: f.alice, conv: a, clientID: "a1", text: "Hi Vera"},
		sendCase{p: f.bob, conv: a, clientID: "b1", text: "not mine"},
		sendCase{p: f.sup, conv: a, clientID: "s1", text: "a note", private: true},
		sendCase{p: cleo, conv: closed, clientID: "c1", text: "too late"},
		sendCase{p: vera, conv: 1 << 40, clientID: "x1", text: "nowhere"},
		sendCase{p: f.bob, conv: b, clientID: "b2", text: "offered to me"},
		sendCase{p: walt, conv: b, clientID: "w2", text: "hi Bob"},
	)
	// Customers are answered in their own numbering: in b the private
	// offer is not counted, so Walt's message is b's third public event.
	want := []string{"3", "4", "dup 3", "not_found", "not_found", "not_found", "5", "not_found", "6", "conflict",
		"not_found", "3", "3"}
	for i, r := range reqs {
		if got := outcome(r); got != want[i] {
			t.Errorf("message %d (%q): %s, want %s", i, r.ev.Text, got, want[i])
		}
	}
	evs, err := f.svc.events(ctx, a, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%d %s %s", ev.Seq, ev.Author.Name, ev.Text))
	}
	wantEvs := []string{"3 Vera one", "4 Vera two", "5 Alice Hi Vera", "6 Sue a note"}
	if fmt.Sprint(got) != fmt.Sprint(wantEvs) {
		t.Fatalf("stored %q, want %q", got, wantEvs)
	}
	// The customer's numbering has no gaps where private events are.
	for conv, want := range map[ID]string{a: "[1 2 3 4 5]", b: "[1 2 3]"} {
		pub, err := f.svc.events(ctx, conv, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		var nums []int
		for _, ev := range pub {
			nums = append(nums, ev.publicSeq)
		}
		if fmt.Sprint(nums) != want {
			t.Errorf("conversation %d: public seqs %v, want %s", conv, nums, want)
		}
	}
	var firstResponse *time.Time
	if err := f.svc.pool.QueryRow(ctx, `SELECT first_response_at FROM conversations WHERE id = $1`, a).
		Scan(&firstResponse); err != nil || firstResponse == nil {
		t.Fatalf("first response not recorded: %v %v", firstResponse, err)
	}
	if reqs[0].ev.Author.Name != "Vera" || reqs[6].ev.Author.Name != "Alice" {
		t.Fatalf("authors %q and %q, want Vera and Alice", reqs[0].ev.Author.Name, reqs[6].ev.Author.Name)
	}
}

func TestAPrivateNoteIsNotAFirstResponse(t *testing.T) {
	f := newWriterFixture(t)
	ctx := context.Background()
	vera, a := f.customer(t, "Vera")
	f.accept(t, a, f.alice)
	f.batch(t, sendCase{p: f.alice, conv: a, clientID: "n1", text: "note to self", private: true},
		sendCase{p: vera, conv: a, clientID: "v1", text: "hello?"})
	var firstResponse *time.Time
	if err := f.svc.pool.QueryRow(ctx, `SELECT first_response_at FROM conversations WHERE id = $1`, a).
		Scan(&firstResponse); err != nil || firstResponse != nil {
		t.Fatalf("first response %v (%v), want none", firstResponse, err)
	}
}

func TestOneBadMessageDoesNotFailTheOthersOfItsBatch(t *testing.T) {
	f := newWriterFixture(t)
	vera, a := f.customer(t, "Vera")
	walt, b := f.customer(t, "Walt")
	reqs := f.batch(t,
		sendCase{p: vera, conv: a, clientID: "v1", text: "fine"},
		sendCase{p: walt, conv: b, clientID: "w1", refused: "PostgreSQL stores no \x00 in text"},
		sendCase{p: vera, conv: a, clientID: "v2", text: "fine too"},
	)
	if got := []string{outcome(reqs[0]), outcome(reqs[2])}; fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("good messages: %v, want [2 3]", got)
	}
	if reqs[1].err == nil {
		t.Fatal("the bad message was accepted")
	}
	if got := f.published.Load(); got != 2 {
		t.Fatalf("%d events published, want the 2 messages", got)
	}
}

// Texts, client ids and names reach the statement inside one JSON
// document: every character JSON escapes, and what it does not, is
// stored as it was sent; text PostgreSQL refuses (not UTF-8) is refused,
// not changed on the way.
func TestMessagesAreStoredExactlyAsSent(t *testing.T) {
	f := newWriterFixture(t)
	vera, a := f.customer(t, "Vera \"V\" \\ <Visitor>")
	texts := []string{
		"quotes \" and backslashes \\ \\\" \\u0041",
		"controls \t\n\r\b\f\x01\x1f and DEL \x7f",
		"<b>&amp;</b> \u2028\u2029 é ☃ 𝄞",
		`{"text":"not a field"},{"conv":1}`,
	}
	var cases []sendCase
	for i, text := range texts {
		cases = append(cases, sendCase{p: vera, conv: a, clientID: fmt.Sprintf("c\"%d\\\tx", i), text: text})
	}
	cases = append(cases, sendCase{p: vera, conv: a, clientID: "bad", refused: "not UTF-8: \xff\xfe"})
	reqs := f.batch(t, cases...)
	for i, r := range reqs[:len(texts)] {
		if r.err != nil {
			t.Fatalf("message %d: %v", i, r.err)
		}
	}
	if reqs[len(texts)].err == nil {
		t.Fatal("text that is not UTF-8 was accepted")
	}
	_, evs, err := f.svc.Resume(context.Background(), vera, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.Kind == KindMessage {
			got = append(got, ev.ClientID+" "+ev.Author.Name+" "+ev.Text)
		}
	}
	var want []string
	for i, text := range texts {
		want = append(want, fmt.Sprintf("c\"%d\\\tx", i)+" Vera \"V\" \\ <Visitor> "+text)
	}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("stored:\n%q\nsent:\n%q", got, want)
	}
}

// run runs the service, so Send works.
func (f *writerFixture) run(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.svc.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
}

func TestSendRightAfterACloseIsRefused(t *testing.T) {
	f := newWriterFixture(t)
	f.run(t)
	ctx := context.Background()
	vera, a := f.customer(t, "Vera")
	if _, err := f.svc.Send(ctx, vera, SendInput{ConversationID: a, ClientID: "v1", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(ctx, vera, a, ""); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Send(ctx, vera, SendInput{ConversationID: a, ClientID: "v2", Text: "one more thing"})
	if !errors.Is(err, queues.ErrConflict) {
		t.Fatalf("send after close: %v, want conflict", err)
	}
	// A resend of what was stored before is still answered.
	res, err := f.svc.Send(ctx, vera, SendInput{ConversationID: a, ClientID: "v1", Text: "hello"})
	if err != nil || !res.Duplicate || res.Seq != 2 {
		t.Fatalf("resend after close: %+v %v, want duplicate seq 2", res, err)
	}
}

func TestSendersOtherThanCustomersAndStaffAreRefusedBeforeTheWriter(t *testing.T) {
	guest := auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g"}
	if _, err := newSendReq(guest, SendInput{ConversationID: 1, ClientID: "g1", Text: "hi"}); !errors.Is(err, queues.ErrNotFound) {
		t.Fatalf("guest: %v, want not_found", err)
	}
	customer := auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "v"}
	if _, err := newSendReq(customer, SendInput{ConversationID: 1, ClientID: "v1", Text: "hi", Private: true}); !errors.Is(err, queues.ErrForbidden) {
		t.Fatalf("customer's private message: %v, want forbidden", err)
	}
}

func TestEventFrameIsTheBusFrame(t *testing.T) {
	ev := Event{ConversationID: 7, Seq: 3, Kind: KindMessage, Author: Author{Kind: "customer", Name: "Vera <v@x>"},
		Text: "a & b < c \u2028 \"quoted\" é", ClientID: "c1", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	want, err := bus.Frame("chat.event", ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := eventFrame(ev)
	if err != nil || string(got) != string(want) {
		t.Fatalf("eventFrame:\n%s (%v)\nbus.Frame:\n%s", got, err, want)
	}
}

func TestTwoWritersKeepEachChatsMessagesInOrder(t *testing.T) {
	f := newWriterFixture(t, Options{Writers: 2})
	f.run(t)
	ctx := context.Background()
	const chats, each = 6, 25
	var wg sync.WaitGroup
	ids := make([]ID, chats)
	for i := range chats {
		p, id := f.customer(t, fmt.Sprint("c", i))
		ids[i] = id
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				res, err := f.svc.Send(ctx, p, SendInput{ConversationID: id, ClientID: fmt.Sprint(n), Text: fmt.Sprint(n)})
				if err != nil || res.Seq != n+2 {
					t.Errorf("chat %d message %d: %+v %v, want seq %d", i, n, res, err, n+2)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, id := range ids {
		evs, err := f.svc.events(ctx, id, 1, true)
		if err != nil {
			t.Fatal(err)
		}
		for n, ev := range evs {
			if ev.Seq != n+2 || ev.Text != fmt.Sprint(n) {
				t.Fatalf("chat %d: event %d is seq %d %q", i, n, ev.Seq, ev.Text)
			}
		}
	}
	if got := f.published.Load(); got != chats*each {
		t.Fatalf("%d events published, want %d", got, chats*each)
	}
}

func TestAnOverLongMessageIsRefusedWholeNeverCut(t *testing.T) {
	f := newWriterFixture(t)
	f.run(t)
	ctx := context.Background()
	vera, a := f.customer(t, "Vera")
	// Characters are code points, as the pages count them: "é" is two bytes
	// and "🙂" four, and the limit is 4000 of them all the same.
	atLimit := strings.Repeat("é", queues.MaxText/2) + strings.Repeat("🙂", queues.MaxText/2)
	if _, err := f.svc.Send(ctx, vera, SendInput{ConversationID: a, ClientID: "v1", Text: atLimit}); err != nil {
		t.Fatalf("a message of exactly %d characters: %v", queues.MaxText, err)
	}
	for _, tc := range []struct{ who, text string }{
		{"one character over", atLimit + "!"},
		{"a 20,000-character paste", strings.Repeat("pasted text ", 20000/12)},
	} {
		for _, p := range []auth.Principal{vera, f.sup} {
			_, err := f.svc.Send(ctx, p, SendInput{ConversationID: a, ClientID: "long-" + p.Key(), Text: tc.text})
			var coded interface{ Code() string }
			if !errors.Is(err, queues.ErrTooLong) || !errors.As(err, &coded) || coded.Code() != "too_long" {
				t.Fatalf("%s from %s: %v, want too_long", tc.who, p.Kind, err)
			}
			want := fmt.Sprintf("text: %d characters, at most %d", utf8.RuneCountInString(tc.text), queues.MaxText)
			if err.Error() != want {
				t.Fatalf("%s: message %q, want %q", tc.who, err, want)
			}
		}
	}
	_, events, err := f.svc.Resume(ctx, vera, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, ev := range events {
		if ev.Kind == KindMessage {
			texts = append(texts, ev.Text)
		}
	}
	if len(texts) != 1 || texts[0] != atLimit {
		t.Fatalf("stored %d messages (lengths %v), want only the one at the limit, whole", len(texts), lengths(texts))
	}
}

func lengths(texts []string) []int {
	n := make([]int, len(texts))
	for i, s := range texts {
		n[i] = utf8.RuneCountInString(s)
	}
	return n
}

// A sender that finds its writer quiet commits its message itself: here
// no writer goroutine runs at all (the writer's role is set up as Run's
// would be, and its goroutine left out), and the sends are still stored,
// answered and published. One sender's messages one after the other
// never make the writer busy: each is committed at once, never lingered
// on (with nobody else sending, no other message would join it).
func TestALoneSendersMessagesAreCommittedByTheSenderAtOnce(t *testing.T) {
	f := newWriterFixture(t, Options{Linger: time.Minute}) // a linger would outlast the test
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, wr := range f.svc.writers {
		wr.open(ctx)
		t.Cleanup(wr.close)
	}
	vera, conv := f.customer(t, "Vera")
	for n := range 3 {
		res, err := f.svc.Send(ctx, vera, SendInput{ConversationID: conv, ClientID: fmt.Sprint("v", n), Text: "hello"})
		if err != nil || res.Seq != n+2 { // 1 is the chat's queued event
			t.Fatalf("message %d: %+v %v, want seq %d committed by its sender", n, res, err, n+2)
		}
	}
	if got := f.published.Load(); got != 3 {
		t.Fatalf("%d events published, want 3", got)
	}
}

// Once a batch held several messages, the writer is busy: messages that
// come then wait, a linger at most, to be committed together (one
// transaction, so one now() for both).
func TestMessagesThatComeTogetherAreCommittedTogether(t *testing.T) {
	f := newWriterFixture(t, Options{Linger: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vera, c1 := f.customer(t, "Vera")
	ivo, c2 := f.customer(t, "Ivo")
	// A batch of two, as the writer takes one when a second message
	// waits behind the first.
	wr := f.svc.writers[0]
	first := make([]*sendReq, 2)
	for i, m := range []struct {
		p    auth.Principal
		conv ID
	}{{vera, c1}, {ivo, c2}} {
		r, err := newSendReq(m.p, SendInput{ConversationID: m.conv, ClientID: "first", Text: "first"})
		if err != nil {
			t.Fatal(err)
		}
		first[i] = r
	}
	wr.in <- first[1]
	wr.mu.Lock()
	f.svc.commitFrom(ctx, wr, first[0])
	wr.mu.Unlock()
	if first[0].err != nil || first[1].err != nil || !first[0].res.Time.Equal(first[1].res.Time) {
		t.Fatalf("the first batch: %v %v, at %v and %v", first[0].err, first[1].err, first[0].res.Time, first[1].res.Time)
	}
	for _, wr := range f.svc.writers {
		go f.svc.writeLoop(ctx, wr)
	}
	var wg sync.WaitGroup
	res := make([]SendResult, 2)
	errs := make([]error, 2)
	for i, m := range []struct {
		p    auth.Principal
		conv ID
	}{{vera, c1}, {ivo, c2}} {
		wg.Go(func() {
			res[i], errs[i] = f.svc.Send(ctx, m.p, SendInput{ConversationID: m.conv, ClientID: "next", Text: "next"})
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if !res[0].Time.Equal(res[1].Time) || res[0].Time.Equal(first[0].res.Time) {
		t.Fatalf("stored at %v and %v, after the first batch at %v: want the two in one transaction, apart from the first",
			res[0].Time, res[1].Time, first[0].res.Time)
	}
	if res[0].Seq != 3 || res[1].Seq != 3 {
		t.Fatalf("seqs %d and %d, want 3 and 3", res[0].Seq, res[1].Seq)
	}
}
