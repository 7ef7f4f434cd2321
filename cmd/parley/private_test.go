package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"parley/signaling/client"
)

// The private-path matrix: one row per way a customer can read a
// conversation (docs/architecture.md, Security: "Customers see only their
// side"). Each row has staff write private notes and type privately in an
// active chat, reads the conversation the way its path does, and checks
// that nothing private is there and that the customer's own numbering runs
// 1, 2, 3… without a gap. The e-mailed transcript does not exist yet; when
// it does it gets its row here.

// privateChat is an active chat with private notes in it: alice has it,
// sam (a supervisor) follows it, the customer is connected.
type privateChat struct {
	s          *chatServer
	alice, sam *client.Client
	cust       *client.Client
	token      string // the customer's visitor token
	id         int64
	note       string // what every private note contains
	contact    string // the name of the contact staff pair the chat with
	ticket     string // the title of the ticket made from the chat
	// start are the events of the customer's chat.start answer, and live
	// every chat.event the customer received, in order, until the last
	// public reply arrived.
	start, live []event
	liveRaw     string
	custAck     int // the seq the customer's own message was answered with
}

func newPrivateChat(t *testing.T, settings string) *privateChat {
	t.Helper()
	s := newChatServer(t, settings)
	pc := &privateChat{s: s, alice: s.agent(t, "alice"), token: s.visitorToken(t, ""),
		note: fmt.Sprintf("staff-only %d", time.Now().UnixNano())}
	pc.contact = "Contact of " + pc.note[len("staff-only "):]
	pc.ticket = "Ticket of " + pc.note[len("staff-only "):]
	pc.cust = s.customer(t, pc.token)
	var started withEvents
	request(t, pc.cust, "chat.start", map[string]any{"name": "Vera"}, &started)
	pc.id, pc.start = started.Conversation.ID, started.Events
	waitEvent(t, pc.alice, "chat.offer", offerOf(pc.id))
	request(t, pc.alice, "chat.accept", map[string]any{"conversation_id": pc.id}, nil)
	pc.sam = s.agent(t, "sam")
	request(t, pc.sam, "chat.resume", map[string]any{"conversation_id": pc.id, "after_seq": 0}, nil)
	return pc
}

// talk is the conversation the rows read: notes before, between and after
// public messages both ways, each note typed privately first.
func (pc *privateChat) talk(t *testing.T) {
	t.Helper()
	typing := func(on bool) {
		request(t, pc.alice, "chat.typing", map[string]any{"conversation_id": pc.id, "typing": on, "private": true}, nil)
	}
	typing(true)
	send(t, pc.alice, pc.id, "n1", pc.note+" 1", true)
	typing(false)
	send(t, pc.alice, pc.id, "p1", "public reply 1", false)
	send(t, pc.sam, pc.id, "n2", pc.note+" 2 (the supervisor's)", true)
	// A staff comment, mentioning alice, is private like a note.
	request(t, pc.sam, "chat.comment", map[string]any{"conversation_id": pc.id, "client_id": "k1",
		"text": "@alice " + pc.note + " 4 (a comment)"}, nil)
	// Pairing with a contact, by hand, is private too (seesNoNote looks for
	// the contact's name).
	var made struct {
		ID int64 `json:"id"`
	}
	request(t, pc.alice, "contact.create", map[string]any{"conversation_id": pc.id, "name": pc.contact}, &made)
	request(t, pc.sam, "chat.unpair", map[string]any{"conversation_id": pc.id}, nil)
	request(t, pc.alice, "chat.pair", map[string]any{"conversation_id": pc.id, "contact_id": made.ID}, nil)
	// So is a ticket made from the chat, unlinked and linked again
	// (seesNoNote looks for its title).
	var ticket struct {
		ID int64 `json:"id"`
	}
	request(t, pc.alice, "ticket.create", map[string]any{"conversation_id": pc.id, "title": pc.ticket}, &ticket)
	request(t, pc.sam, "ticket.link", map[string]any{"conversation_id": pc.id, "ticket_id": nil}, nil)
	request(t, pc.alice, "ticket.link", map[string]any{"conversation_id": pc.id, "ticket_id": ticket.ID}, nil)
	pc.custAck = send(t, pc.cust, pc.id, "c1", "the customer writes", false)
	typing(true)
	send(t, pc.alice, pc.id, "n3", pc.note+" 3", true)
	send(t, pc.alice, pc.id, "p2", "public reply 2", false)
	for {
		var ev client.Envelope
		select {
		case ev = <-pc.cust.Events():
		case <-ctxFor(t).Done():
			t.Fatal("the customer never received the last public reply")
		}
		if ev.Type != "chat.event" {
			continue
		}
		pc.liveRaw += string(ev.Data)
		var e event
		json.Unmarshal(ev.Data, &e) //nolint:errcheck
		pc.live = append(pc.live, e)
		if e.Text == "public reply 2" {
			return
		}
	}
}

// publicCount is how many events the customer may see: the public ones of
// the staff's transcript, which is the truth the rows are held to.
func (pc *privateChat) publicCount(t *testing.T) int {
	t.Helper()
	var staff withEvents
	request(t, pc.alice, "chat.resume", map[string]any{"conversation_id": pc.id, "after_seq": 0}, &staff)
	n, notes := 0, 0
	for _, e := range staff.Events {
		if !e.Private {
			n++
		}
		if strings.Contains(e.Text, pc.note) {
			notes++ // private or not: were one public, the rows say so
		}
	}
	if notes != 4 {
		t.Fatalf("the staff's transcript has %d of the 3 notes and the comment: the test would prove nothing", notes)
	}
	return n
}

// seesNoNote fails if what the customer got by path holds a note.
func (pc *privateChat) seesNoNote(t *testing.T, path, raw string) {
	t.Helper()
	if strings.Contains(raw, pc.note) {
		t.Errorf("%s: the customer received a private note: %s", path, raw)
	}
	if strings.Contains(raw, pc.contact) {
		t.Errorf("%s: the customer received the chat's contact: %s", path, raw)
	}
	if strings.Contains(raw, pc.ticket) {
		t.Errorf("%s: the customer received the chat's ticket: %s", path, raw)
	}
	if strings.Contains(raw, `"private":true`) {
		t.Errorf("%s: the customer received a private event: %s", path, raw)
	}
}

// staffKinds are the events that are private whoever writes them: the
// router's offers and their ends, the wrap-up, the feedback and the
// pairing with a contact by hand, the ticket linked to the chat.
var staffKinds = []string{"offered", "rejected", "missed", "wrapped_up", "feedback", "contact_paired", "contact_unpaired",
	"ticket_linked"}

// gapless fails unless evs, once each by seq, are exactly the customer's
// numbering 1…n (the same seq always the same event).
func gapless(t *testing.T, path string, evs []event, n int) {
	t.Helper()
	bySeq := map[int]event{}
	for _, e := range evs {
		if e.Private || slices.Contains(staffKinds, e.Kind) {
			t.Errorf("%s: a private event: %+v", path, e)
		}
		if seen, ok := bySeq[e.Seq]; ok && (seen.Kind != e.Kind || seen.Text != e.Text) {
			t.Errorf("%s: seq %d is both %+v and %+v", path, e.Seq, seen, e)
		}
		bySeq[e.Seq] = e
	}
	got := make([]int, 0, len(bySeq))
	for s := range bySeq {
		got = append(got, s)
	}
	sort.Ints(got)
	if !slices.Equal(got, oneToN(n)) {
		t.Errorf("%s: the customer's seqs are %v, want 1…%d with no gap", path, got, n)
	}
}

func TestPrivateNotesReachNoCustomerByAnyPath(t *testing.T) {
	t.Parallel()
	for _, row := range []struct {
		path string
		run  func(t *testing.T, pc *privateChat)
	}{
		{"live chat.event and the chat.send answer", func(t *testing.T, pc *privateChat) {
			n := pc.publicCount(t)
			pc.seesNoNote(t, "live", pc.liveRaw)
			gapless(t, "chat.start answer + live", append(pc.start, pc.live...), n)
			// queued, accepted, greeting, public reply 1, then the customer's own.
			if pc.custAck != 5 {
				t.Errorf("the customer's chat.send was answered with seq %d, want 5 (its own numbering)", pc.custAck)
			}
		}},
		{"chat.resume", func(t *testing.T, pc *privateChat) {
			n := pc.publicCount(t)
			for after := 0; after <= n; after++ {
				raw, err := pc.cust.Request(ctxFor(t), "chat.resume", map[string]any{"conversation_id": pc.id, "after_seq": after})
				if err != nil {
					t.Fatal(err)
				}
				var got withEvents
				json.Unmarshal(raw, &got) //nolint:errcheck
				pc.seesNoNote(t, fmt.Sprint("chat.resume after ", after), string(raw))
				if after == 0 {
					gapless(t, "chat.resume", got.Events, n)
				}
				if want := oneToN(n)[after:]; !slices.Equal(seqs(got.Events), want) {
					t.Errorf("chat.resume after %d: seqs %v, want %v", after, seqs(got.Events), want)
				}
				if got.Conversation.LastSeq != n {
					t.Errorf("chat.resume after %d: last_seq %d, want %d", after, got.Conversation.LastSeq, n)
				}
			}
		}},
		{"chat.start's answer", func(t *testing.T, pc *privateChat) {
			n := pc.publicCount(t)
			// A reload: a new connection of the same visitor starts again and
			// is given its open chat.
			again := pc.s.customer(t, pc.token)
			raw, err := again.Request(ctxFor(t), "chat.start", map[string]any{"name": "Vera"})
			if err != nil {
				t.Fatal(err)
			}
			var got withEvents
			json.Unmarshal(raw, &got) //nolint:errcheck
			if got.Conversation.ID != pc.id {
				t.Fatalf("chat.start gave conversation %d, want the open %d", got.Conversation.ID, pc.id)
			}
			pc.seesNoNote(t, "chat.start", string(raw))
			gapless(t, "chat.start", got.Events, n)
			if got.Conversation.LastSeq != n {
				t.Errorf("chat.start: last_seq %d, want %d", got.Conversation.LastSeq, n)
			}
		}},
		{"chat.mine", func(t *testing.T, pc *privateChat) {
			n := pc.publicCount(t)
			raw, err := pc.cust.Request(ctxFor(t), "chat.mine", nil)
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ Conversations []conv }
			json.Unmarshal(raw, &got) //nolint:errcheck
			pc.seesNoNote(t, "chat.mine", string(raw))
			if len(got.Conversations) != 1 || got.Conversations[0].LastSeq != n {
				t.Errorf("chat.mine: %s; want the one chat with last_seq %d (the customer's numbering)", raw, n)
			}
		}},
		{"the HTTP transcript", func(t *testing.T, pc *privateChat) {
			n := pc.publicCount(t)
			code, body := call(t, "GET", fmt.Sprintf("%s/api/conversations/%d/transcript", pc.s.base, pc.id), pc.token, "")
			var got withEvents
			if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil {
				t.Fatalf("transcript: %d %s", code, body)
			}
			pc.seesNoNote(t, "transcript", body)
			gapless(t, "transcript", got.Events, n)
			if got.Conversation.LastSeq != n {
				t.Errorf("transcript: last_seq %d, want %d", got.Conversation.LastSeq, n)
			}
		}},
		{"chat.history", func(t *testing.T, pc *privateChat) {
			// Customers may not call it at all.
			if code := requestErr(t, pc.cust, "chat.history", map[string]any{"conversation_id": pc.id}); code != "forbidden" {
				t.Errorf("a customer's chat.history: %s, want forbidden", code)
			}
			// Staff who were not in the earlier chat see its public rows only:
			// bob takes the customer's next chat and reads its history.
			request(t, pc.alice, "chat.close", map[string]any{"conversation_id": pc.id, "status": "Resolved"}, nil)
			request(t, pc.alice, "agent.status", map[string]any{"status": "paused", "reason": "test"}, nil)
			bob := pc.s.agent(t, "bob")
			next := startChat(t, pc.cust, "Vera")
			waitEvent(t, bob, "chat.offer", offerOf(next.ID))
			request(t, bob, "chat.accept", map[string]any{"conversation_id": next.ID}, nil)
			for _, who := range []struct {
				name  string
				c     *client.Client
				notes bool
			}{{"bob, an agent of another conversation", bob, false}, {"sam, a supervisor", pc.sam, true}} {
				raw, err := who.c.Request(ctxFor(t), "chat.history", map[string]any{"conversation_id": next.ID})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(raw), "public reply 2") {
					t.Fatalf("%s: the history lacks the earlier chat: %s", who.name, raw)
				}
				if strings.Contains(string(raw), pc.note) != who.notes {
					t.Errorf("%s sees the notes: %v, want %v: %s", who.name, !who.notes, who.notes, raw)
				}
			}
			if code := requestErr(t, pc.cust, "chat.history", map[string]any{"conversation_id": next.ID}); code != "forbidden" {
				t.Errorf("a customer's chat.history of its next chat: %s, want forbidden", code)
			}
		}},
		{"chat.typing", func(t *testing.T, pc *privateChat) {
			for _, c := range []*client.Client{pc.cust, pc.sam} {
				settle(t, c)
			}
			request(t, pc.alice, "chat.typing", map[string]any{"conversation_id": pc.id, "typing": true, "private": true}, nil)
			staff := waitEvent(t, pc.sam, "chat.typing", nil)
			if !strings.Contains(string(staff), `"private":true`) {
				t.Fatalf("staff are not told the typing is private: %s", staff)
			}
			// sam's event came after the customer's would have: the barrier
			// shows all it was sent.
			for _, ev := range settle(t, pc.cust) {
				if ev.Type == "chat.typing" {
					t.Errorf("the customer was told of private typing: %s", ev.Data)
				}
			}
			if code := requestErr(t, pc.cust, "chat.typing", map[string]any{"conversation_id": pc.id, "typing": true, "private": true}); code != "forbidden" {
				t.Errorf("a customer's private typing: %s, want forbidden", code)
			}
			// Public typing does reach it, without a private field.
			request(t, pc.alice, "chat.typing", map[string]any{"conversation_id": pc.id, "typing": true}, nil)
			if got := waitEvent(t, pc.cust, "chat.typing", nil); strings.Contains(string(got), "private") {
				t.Errorf("the customer's typing event speaks of private: %s", got)
			}
		}},
		{"the widget's REST answers (every route)", func(t *testing.T, pc *privateChat) {
			n := pc.publicCount(t)
			var q struct{ Key string }
			if err := pc.s.db.QueryRow(ctxFor(t), `SELECT q.key FROM conversations c JOIN queues q ON q.id = c.queue_id
				WHERE c.id = $1`, pc.id).Scan(&q.Key); err != nil {
				t.Fatal(err)
			}
			swept := 0
			for _, r := range routes(t) {
				get := r.Method == http.MethodGet && r.Path != "/ws"
				if !get && !strings.HasPrefix(r.Path, "/api/widget/") {
					continue // nothing else a customer reads; POST /api/logout would end the token
				}
				path := strings.ReplaceAll(concrete(r.Path, q.Key), "/conversations/1/", fmt.Sprintf("/conversations/%d/", pc.id))
				body := customerHTTP(t, r, pc.s.base+path, pc.token)
				pc.seesNoNote(t, r.Method+" "+r.Path, body)
				if strings.Contains(body, `"events"`) {
					var got withEvents
					json.Unmarshal([]byte(body), &got) //nolint:errcheck
					gapless(t, r.Method+" "+r.Path, got.Events, n)
				}
				swept++
			}
			if swept < 5 {
				t.Fatalf("only %d routes swept", swept)
			}
		}},
		{"room events marked private", func(t *testing.T, pc *privateChat) {
			var created struct{ Room roomInfo }
			request(t, pc.alice, "room.create", map[string]any{"conversation_id": pc.id, "media": "audio"}, &created)
			room := created.Room.ID
			request(t, pc.cust, "room.join", map[string]any{"room_id": room}, nil)
			var sj joined
			request(t, pc.sam, "room.join", map[string]any{"room_id": room, "receive_only": true}, &sj)
			waitEvent(t, pc.alice, "chat.event", func(d json.RawMessage) bool {
				return strings.Contains(string(d), `"room_joined"`) && strings.Contains(string(d), "Sam Supervisor")
			})
			// The customer comes back while the supervisor watches: the
			// join's answer does not list it.
			request(t, pc.cust, "room.leave", map[string]any{"room_id": room}, nil)
			var cj joined
			request(t, pc.cust, "room.join", map[string]any{"room_id": room}, &cj)
			for _, p := range cj.Participants {
				if p.ID == sj.ParticipantID {
					t.Errorf("the customer's room.join lists the watching supervisor: %+v", cj.Participants)
				}
			}
			request(t, pc.sam, "room.leave", map[string]any{"room_id": room}, nil)
			send(t, pc.alice, pc.id, "p3", "after the watch", false)
			var frames []client.Envelope
			for done := false; !done; {
				select {
				case ev := <-pc.cust.Events():
					frames = append(frames, ev)
					done = ev.Type == "chat.event" && strings.Contains(string(ev.Data), "after the watch")
				case <-ctxFor(t).Done():
					t.Fatal("the customer never received the public message")
				}
			}
			for _, ev := range frames {
				if strings.Contains(string(ev.Data), sj.ParticipantID) || strings.Contains(string(ev.Data), "Sam Supervisor") {
					t.Errorf("the customer was told of the watching supervisor: %s %s", ev.Type, ev.Data)
				}
			}
			n := pc.publicCount(t)
			var got withEvents
			raw, err := pc.cust.Request(ctxFor(t), "chat.resume", map[string]any{"conversation_id": pc.id, "after_seq": 0})
			if err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(raw, &got) //nolint:errcheck
			if strings.Contains(string(raw), "Sam Supervisor") {
				t.Errorf("the customer's transcript shows the watching supervisor: %s", raw)
			}
			gapless(t, "chat.resume after the watch", got.Events, n)
			live := append([]event(nil), got.Events...)
			for _, ev := range frames {
				if ev.Type == "chat.event" {
					var e event
					json.Unmarshal(ev.Data, &e) //nolint:errcheck
					live = append(live, e)
				}
			}
			gapless(t, "live after the watch", live, n)
		}},
	} {
		t.Run(row.path, func(t *testing.T) {
			pc := newPrivateChat(t, "")
			pc.talk(t)
			row.run(t, pc)
		})
	}
}

// customerHTTP calls route r at url as the customer (its visitor token in
// the header; {"token"} as the body of a POST) and returns the body.
func customerHTTP(t *testing.T, r *echo.Route, url, token string) string {
	t.Helper()
	var body io.Reader
	if r.Method != http.MethodGet {
		body = strings.NewReader(`{"token":"` + token + `"}`)
	}
	req, err := http.NewRequest(r.Method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
