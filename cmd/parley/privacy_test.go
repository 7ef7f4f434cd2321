package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"parley/signaling/client"
)

// Who sees what: the customer's own numbering, private typing, history
// joined on the visitor only, and access that ends ending what followed it.

// settle is a barrier: an answer to a ping comes after every event the
// server queued to c before it, so what it returns is everything c had
// been sent until then.
func settle(t *testing.T, c *client.Client) []client.Envelope {
	t.Helper()
	request(t, c, "session.ping", nil, nil)
	var got []client.Envelope
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return got
			}
			got = append(got, ev)
		default:
			return got
		}
	}
}

// noEventAbout fails if c was sent, since the last settle, an event of
// type typ whose data contains needle.
func noEventAbout(t *testing.T, c *client.Client, who, typ, needle string) {
	t.Helper()
	for _, ev := range settle(t, c) {
		if ev.Type == typ && strings.Contains(string(ev.Data), needle) {
			t.Fatalf("%s still received %s: %s", who, typ, ev.Data)
		}
	}
}

// addQueue adds a queue whose members are the given usernames and returns
// its key.
func (s *chatServer) addQueue(t *testing.T, settings string, members ...string) string {
	t.Helper()
	ctx := ctxFor(t)
	key := s.queue + "-" + fmt.Sprint(len(members)) + strings.Join(members, "")
	if _, err := s.db.Exec(ctx, `INSERT INTO queues (key, name) VALUES ($1, 'Other')`, key); err != nil {
		t.Fatal(err)
	}
	if settings != "" {
		if _, err := s.db.Exec(ctx, `UPDATE queues SET `+settings+` WHERE key = $1`, key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO queue_members SELECT q.id, u.id FROM queues q, users u
		WHERE q.key = $1 AND u.username = ANY ($2)`, key, members); err != nil {
		t.Fatal(err)
	}
	return key
}

// visitorTokenFor gets a new visitor token for the queue key.
func (s *chatServer) visitorTokenFor(t *testing.T, key string) string {
	t.Helper()
	resp, body := post(t, s.base+"/api/widget/"+key+"/visitor", `{}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("visitor token: %d %s", resp.StatusCode, body)
	}
	var out struct{ Token string }
	json.Unmarshal(body, &out) //nolint:errcheck
	return out.Token
}

func send(t *testing.T, c *client.Client, id int64, clientID, text string, private bool) int {
	t.Helper()
	var res struct{ Seq int }
	request(t, c, "chat.send", map[string]any{"conversation_id": id, "client_id": clientID, "text": text, "private": private}, &res)
	return res.Seq
}

func seqs(evs []event) []int {
	out := make([]int, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func oneToN(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// Point 5: the customer's numbering counts only what it may see, so a gap
// never tells it that staff wrote privately; staff keep theirs.
func TestTheCustomerSeesAGapFreeSequenceOfItsOwn(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	token := s.visitorToken(t, "")
	cust := s.customer(t, token)
	c := startChat(t, cust, "Nina")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	send(t, alice, c.ID, "p1", "a private note", true)
	send(t, alice, c.ID, "a1", "after the note", false)
	live := waitEvent(t, cust, "chat.event", func(d json.RawMessage) bool { return strings.Contains(string(d), "after the note") })
	var liveEv event
	json.Unmarshal(live, &liveEv) //nolint:errcheck
	// queued, accepted, greeting, then this: the offer and the note are not counted.
	if liveEv.Seq != 4 {
		t.Fatalf("the customer's live seq is %d, want 4 (no gap for the offer and the private note)", liveEv.Seq)
	}
	if got := send(t, cust, c.ID, "c1", "thanks", false); got != 5 {
		t.Fatalf("the customer's send was answered with seq %d, want 5", got)
	}
	var all withEvents
	request(t, cust, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &all)
	if !slices.Equal(seqs(all.Events), oneToN(5)) || all.Conversation.LastSeq != 5 {
		t.Fatalf("customer resume: seqs %v, last_seq %d; want 1…5 and 5", seqs(all.Events), all.Conversation.LastSeq)
	}
	var tail withEvents
	request(t, cust, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 4}, &tail)
	if len(tail.Events) != 1 || tail.Events[0].Text != "thanks" || tail.Events[0].Seq != 5 {
		t.Fatalf("customer resume after 4: %+v", tail.Events)
	}
	code, body := call(t, "GET", fmt.Sprintf("%s/api/conversations/%d/transcript", s.base, c.ID), token, "")
	var tr withEvents
	if err := json.Unmarshal([]byte(body), &tr); code != http.StatusOK || err != nil {
		t.Fatalf("transcript: %d %s", code, body)
	}
	if !slices.Equal(seqs(tr.Events), oneToN(5)) || strings.Contains(body, "private note") {
		t.Fatalf("customer transcript: seqs %v: %s", seqs(tr.Events), body)
	}
	var staff withEvents
	request(t, alice, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &staff)
	if !slices.Equal(seqs(staff.Events), oneToN(7)) || staff.Conversation.LastSeq != 7 {
		t.Fatalf("staff resume: seqs %v, last_seq %d; want 1…7", seqs(staff.Events), staff.Conversation.LastSeq)
	}
}

// Point 5: an agent typing a private note is shown to staff only.
func TestPrivateTypingNeverReachesTheCustomer(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Tara")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	sam := s.agent(t, "sam")
	request(t, sam, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, nil)
	settle(t, cust)
	request(t, alice, "chat.typing", map[string]any{"conversation_id": c.ID, "typing": true, "private": true}, nil)
	staff := waitEvent(t, sam, "chat.typing", nil)
	if !strings.Contains(string(staff), `"private":true`) {
		t.Fatalf("staff's typing event does not say private: %s", staff)
	}
	noEventAbout(t, cust, "the customer", "chat.typing", "")
	if code := requestErr(t, cust, "chat.typing", map[string]any{"conversation_id": c.ID, "typing": true, "private": true}); code != "forbidden" {
		t.Fatalf("a customer's private typing: %s, want forbidden", code)
	}
	request(t, alice, "chat.typing", map[string]any{"conversation_id": c.ID, "typing": true}, nil)
	waitEvent(t, cust, "chat.typing", nil) // public typing still arrives
}
