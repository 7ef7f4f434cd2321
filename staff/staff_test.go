package staff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"parley/auth"
	"parley/fault"
	"parley/staff"
)

// A message is stored before anyone hears of it: when its event reaches
// the other user, the row is already committed (read on another
// connection), and the sender's answer comes after both.
func TestAMessageIsStoredBeforeItIsAcknowledgedOrDelivered(t *testing.T) {
	f := newFixture(t)
	sue := f.user(t, "Sue Supervisor", auth.RoleSupervisor)
	alice := f.user(t, "Alice Agent", auth.RoleAgent)
	var stored []bool
	var mu sync.Mutex
	in := f.inbox(t, alice, func(e envelope) {
		if e.Type != staff.EventMessage {
			return
		}
		var m staff.MessageEvent
		if err := json.Unmarshal(e.Data, &m); err != nil {
			t.Error(err)
			return
		}
		var n int
		err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM staff_messages WHERE thread_id = $1 AND seq = $2`,
			m.ThreadID, m.Seq).Scan(&n)
		mu.Lock()
		stored = append(stored, err == nil && n == 1)
		mu.Unlock()
	})
	res := send(t, f, sue, alice.UserID, "m-1", "How is the queue?")
	in.wait(t, staff.EventMessage, 1)
	mu.Lock()
	defer mu.Unlock()
	if len(stored) != 1 || !stored[0] {
		t.Fatalf("when the event went out the message was stored: %v", stored)
	}
	var text string
	if err := f.pool.QueryRow(ctxT(t), `SELECT text FROM staff_messages WHERE thread_id = $1 AND seq = $2`,
		res.ThreadID, res.Seq).Scan(&text); err != nil || text != "How is the queue?" {
		t.Fatalf("after the answer: %q, %v", text, err)
	}
	if res.Seq != 1 || res.Duplicate {
		t.Fatalf("answer %+v, want seq 1, not a duplicate", res)
	}
}

// Both users write at once from many connections: every message gets its
// own seq, 1…n with no gap, and each user's connections hear of them in
// seq order.
func TestSeqHasNoGapsUnderConcurrentSenders(t *testing.T) {
	f := newFixture(t)
	sue := f.user(t, "Sue", auth.RoleSupervisor)
	bob := f.user(t, "Bob", auth.RoleAgent)
	sueIn, bobIn := f.inbox(t, sue), f.inbox(t, bob)
	const senders, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for i := range senders {
		from, to := sue, bob
		if i%2 == 1 {
			from, to = bob, sue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				_, err := f.svc.Send(ctxT(t), from, staff.SendInput{Ref: staff.Ref{UserID: to.UserID},
					ClientID: fmt.Sprintf("c%d-%d", i, j), Text: fmt.Sprintf("message %d of sender %d", j, i)})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, msgs, more, err := f.svc.Resume(ctxT(t), sue, staff.Ref{UserID: bob.UserID}, 0)
	if err != nil || more {
		t.Fatal(err, more)
	}
	if len(msgs) != senders*each {
		t.Fatalf("%d messages stored, want %d", len(msgs), senders*each)
	}
	seen := map[string]bool{}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: a gap or a double", i, m.Seq)
		}
		if seen[m.ClientID] {
			t.Fatalf("client_id %s stored twice", m.ClientID)
		}
		seen[m.ClientID] = true
	}
	for who, in := range map[string]*inbox{"Sue": sueIn, "Bob": bobIn} {
		evs := in.wait(t, staff.EventMessage, senders*each)
		for i, e := range evs {
			var m staff.MessageEvent
			if err := json.Unmarshal(e.Data, &m); err != nil {
				t.Fatal(err)
			}
			if m.Seq != int64(i+1) {
				t.Fatalf("%s's event %d has seq %d: events out of order", who, i, m.Seq)
			}
		}
	}
}

// A resend (the answer was lost with the connection) stores nothing new:
// it answers the first's seq, marked duplicate, and tells no one again.
// Another author may use the same client_id.
func TestAResendWithTheSameClientIDIsStoredOnce(t *testing.T) {
	f := newFixture(t)
	sue := f.user(t, "Sue", auth.RoleSupervisor)
	bob := f.user(t, "Bob", auth.RoleAgent)
	bobIn := f.inbox(t, bob)
	first := send(t, f, sue, bob.UserID, "m-1", "Are you there?")
	var wg sync.WaitGroup
	results := make([]staff.SendResult, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = send(t, f, sue, bob.UserID, "m-1", "Are you there?")
		}()
	}
	wg.Wait()
	for _, r := range results {
		if !r.Duplicate || r.Seq != first.Seq || !r.Time.Equal(first.Time) {
			t.Fatalf("resend answered %+v, want the first's seq %d and duplicate", r, first.Seq)
		}
	}
	if r := send(t, f, bob, sue.UserID, "m-1", "Yes"); r.Duplicate || r.Seq != 2 {
		t.Fatalf("Bob's own m-1 answered %+v, want seq 2, new", r)
	}
	var n int
	if err := f.pool.QueryRow(ctxT(t), `SELECT count(*) FROM staff_messages WHERE thread_id = $1`, first.ThreadID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d rows stored, want 2 (%v)", n, err)
	}
	bobIn.wait(t, staff.EventMessage, 2)
	if c := bobIn.count(staff.EventMessage); c != 2 {
		t.Fatalf("Bob heard of %d messages, want 2", c)
	}
}

// Resume gives what came after after_seq, in order; by thread id as by
// the colleague's id; and an empty thread before the pair's first message.
func TestResumeGivesTheMessagesAfterAfterSeq(t *testing.T) {
	f := newFixture(t)
	sue := f.user(t, "Sue", auth.RoleSupervisor)
	bob := f.user(t, "Bob", auth.RoleAgent)
	th, msgs, more, err := f.svc.Resume(ctxT(t), bob, staff.Ref{UserID: sue.UserID}, 0)
	if err != nil || th.ID != 0 || len(msgs) != 0 || more || th.With.Name != "Sue" {
		t.Fatalf("before any message: %+v %v %v %v", th, msgs, more, err)
	}
	var id staff.ThreadID
	for i := 1; i <= 5; i++ {
		id = send(t, f, sue, bob.UserID, fmt.Sprint("m", i), fmt.Sprint("text ", i)).ThreadID
	}
	for _, ref := range []staff.Ref{{UserID: sue.UserID}, {ThreadID: id}} {
		th, msgs, more, err := f.svc.Resume(ctxT(t), bob, ref, 3)
		if err != nil || more {
			t.Fatal(err)
		}
		if len(msgs) != 2 || msgs[0].Seq != 4 || msgs[1].Seq != 5 || msgs[1].Text != "text 5" || msgs[0].Author.Name != "Sue" {
			t.Fatalf("after 3: %+v", msgs)
		}
		if th.ID != id || th.LastSeq != 5 || th.With.ID != sue.UserID || th.Unread != 5 {
			t.Fatalf("thread %+v", th)
		}
	}
	if _, _, _, err := f.svc.Resume(ctxT(t), bob, staff.Ref{UserID: sue.UserID}, -1); code(err) != fault.BadRequest {
		t.Fatalf("after_seq -1: %v", err)
	}
}

// The unread count is what the other wrote after one's read mark; the
// mark never goes back nor past the last message, one's own message
// marks everything before it read, and every connection of the reader
// hears of a new mark.
func TestUnreadCountsFollowTheReadMarks(t *testing.T) {
	f := newFixture(t)
	sue := f.user(t, "Sue", auth.RoleSupervisor)
	bob := f.user(t, "Bob", auth.RoleAgent)
	bobIn := f.inbox(t, bob)
	for i := 1; i <= 3; i++ {
		send(t, f, sue, bob.UserID, fmt.Sprint("m", i), fmt.Sprint("text ", i))
	}
	unread := func(p auth.Principal) int64 {
		t.Helper()
		ts, err := f.svc.Threads(ctxT(t), p)
		if err != nil || len(ts) != 1 {
			t.Fatalf("threads: %+v %v", ts, err)
		}
		if ts[0].Last == nil || ts[0].Last.Seq != ts[0].LastSeq {
			t.Fatalf("newest message %+v of %+v", ts[0].Last, ts[0])
		}
		return ts[0].Unread
	}
	if n := unread(bob); n != 3 {
		t.Fatalf("Bob has %d unread, want 3", n)
	}
	if n := unread(sue); n != 0 {
		t.Fatalf("Sue has %d unread of her own messages, want 0", n)
	}
	for _, step := range []struct {
		seq    int64
		unread int64
	}{{2, 1}, {1, 1}, {99, 0}} {
		th, err := f.svc.Read(ctxT(t), bob, staff.Ref{UserID: sue.UserID}, step.seq)
		if err != nil || th.Unread != step.unread {
			t.Fatalf("read to %d: %+v %v, want %d unread", step.seq, th, err, step.unread)
		}
		if n := unread(bob); n != step.unread {
			t.Fatalf("read to %d: Threads says %d unread, want %d", step.seq, n, step.unread)
		}
	}
	reads := bobIn.wait(t, staff.EventRead, 3)
	var last staff.ReadEvent
	if err := json.Unmarshal(reads[2].Data, &last); err != nil || last.ReadSeq != 3 || last.Unread != 0 || last.With != sue.UserID {
		t.Fatalf("staff.read event %s (%v)", reads[2].Data, err)
	}
	send(t, f, sue, bob.UserID, "m4", "one more")
	send(t, f, sue, bob.UserID, "m5", "and another")
	if n := unread(bob); n != 2 {
		t.Fatalf("Bob has %d unread, want 2", n)
	}
	send(t, f, bob, sue.UserID, "b1", "reading you")
	if n := unread(bob); n != 0 {
		t.Fatalf("after answering, Bob has %d unread, want 0", n)
	}
	if n := unread(sue); n != 1 {
		t.Fatalf("Sue has %d unread, want 1", n)
	}
}

// Every message reaches both users, each told whom the thread is with.
func TestAMessageReachesBothUsers(t *testing.T) {
	f := newFixture(t)
	sue := f.user(t, "Sue", auth.RoleSupervisor)
	bob := f.user(t, "Bob", auth.RoleAgent)
	other := f.user(t, "Carol", auth.RoleAgent)
	sueIn, bobIn, otherIn := f.inbox(t, sue), f.inbox(t, bob), f.inbox(t, other)
	send(t, f, sue, bob.UserID, "m1", "Hi Bob")
	for who, want := range map[*inbox]struct {
		with auth.UserID
	}{sueIn: {bob.UserID}, bobIn: {sue.UserID}} {
		var m staff.MessageEvent
		if err := json.Unmarshal(who.wait(t, staff.EventMessage, 1)[0].Data, &m); err != nil {
			t.Fatal(err)
		}
		if m.With.ID != want.with || m.Author.ID != sue.UserID || m.Author.Name != "Sue" || m.Text != "Hi Bob" || m.ClientID != "m1" {
			t.Fatalf("event %+v, want with %d", m, want.with)
		}
	}
	if n := otherIn.count(staff.EventMessage); n != 0 {
		t.Fatalf("Carol, not in the thread, heard %d messages", n)
	}
}

// What a message may hold: 1–4000 characters of text the database
// stores, and a client_id of 1–64 characters.
func TestBadMessagesAreRefusedAndNothingIsStored(t *testing.T) {
	f := newFixture(t)
	sue := f.user(t, "Sue", auth.RoleSupervisor)
	bob := f.user(t, "Bob", auth.RoleAgent)
	for _, tc := range []struct {
		name, clientID, text, code, says string
	}{
		{"too long", "m1", strings.Repeat("é", staff.MaxText+1), fault.TooLong, "text: 4001 characters, at most 4000"},
		{"empty", "m1", "  \n ", fault.BadRequest, "empty"},
		{"no client_id", " ", "hi", fault.BadRequest, "client_id"},
		{"client_id too long", strings.Repeat("x", 65), "hi", fault.BadRequest, "client_id"},
		{"a NUL in the text", "m1", "a\x00b", fault.BadRequest, "text"},
		{"bytes that are not UTF-8 in client_id", "m\xff", "hi", fault.BadRequest, "client_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Send(ctxT(t), sue, staff.SendInput{Ref: staff.Ref{UserID: bob.UserID}, ClientID: tc.clientID, Text: tc.text})
			if code(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %s %v, want %s saying %q", code(err), err, tc.code, tc.says)
			}
		})
	}
	if _, err := f.svc.Send(ctxT(t), sue, staff.SendInput{Ref: staff.Ref{UserID: bob.UserID}, ClientID: "ok",
		Text: strings.Repeat("é", staff.MaxText)}); err != nil {
		t.Fatalf("exactly 4000 characters: %v", err)
	}
	_, msgs, _, err := f.svc.Resume(ctxT(t), bob, staff.Ref{UserID: sue.UserID}, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d stored, want only the one that fits (%v)", len(msgs), err)
	}
}
