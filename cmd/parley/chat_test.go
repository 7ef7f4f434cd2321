package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/signaling/client"
)

// The chat tests drive the real server through the public protocol, as the
// widget and the desk do.

type conv struct {
	ID       int64  `json:"id"`
	State    string `json:"state"`
	LastSeq  int    `json:"last_seq"`
	Customer struct {
		Name string `json:"name"`
	} `json:"customer"`
	Agent *struct {
		ID   *int64 `json:"id"`
		Name string `json:"name"`
	} `json:"agent"`
}

type event struct {
	ConversationID int64  `json:"conversation_id"`
	Seq            int    `json:"seq"`
	Kind           string `json:"kind"`
	Author         struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"author"`
	Text     string `json:"text"`
	Private  bool   `json:"private"`
	ClientID string `json:"client_id"`
	Status   string `json:"status"`
}

type withEvents struct {
	Conversation conv    `json:"conversation"`
	Events       []event `json:"events"`
}

// chatServer is a running server with one test queue.
type chatServer struct {
	*server
	db    *pgx.Conn
	queue string
}

var queueSeq struct {
	sync.Mutex
	n int
}

// newChatServer starts the server and adds a queue with the given settings
// (SQL assignments) whose members are alice and bob. extra are more of
// the server's arguments.
func newChatServer(t *testing.T, settings string, extra ...string) *chatServer {
	t.Helper()
	s := start(t, testDB(t), extra...)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, s.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(ctx) })
	queueSeq.Lock()
	queueSeq.n++
	key := fmt.Sprintf("test-%d-%d", time.Now().UnixNano()%1e6, queueSeq.n)
	queueSeq.Unlock()
	addQueue(t, db, key, "Hello from the test queue", settings)
	return &chatServer{server: s, db: db, queue: key}
}

// addQueue adds queue key with the given greeting and settings (SQL
// assignments), whose members are alice and bob.
func addQueue(t *testing.T, db *pgx.Conn, key, greeting, settings string) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO queues (key, name, greeting, statuses) VALUES ($1, 'Test', $2, '{Resolved,Spam}')`, key, greeting); err != nil {
		t.Fatal(err)
	}
	if settings != "" {
		if _, err := db.Exec(ctx, `UPDATE queues SET `+settings+` WHERE key = $1`, key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `INSERT INTO queue_members SELECT q.id, u.id FROM queues q, users u
		WHERE q.key = $1 AND u.username IN ('alice', 'bob')`, key); err != nil {
		t.Fatal(err)
	}
}

// agent connects a demo agent.
func (s *chatServer) agent(t *testing.T, name string) *client.Client {
	t.Helper()
	c, _, err := client.Connect(ctxFor(t), s.ws(), client.Options{Token: s.login(t, name)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// visitor gets a visitor token for the test queue.
func (s *chatServer) visitorToken(t *testing.T, prior string) string {
	t.Helper()
	resp, body := post(t, s.base+"/api/widget/"+s.queue+"/visitor", `{"token":"`+prior+`"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("visitor token: %d %s", resp.StatusCode, body)
	}
	var out struct{ Token string }
	json.Unmarshal(body, &out) //nolint:errcheck
	return out.Token
}

func (s *chatServer) customer(t *testing.T, token string) *client.Client {
	t.Helper()
	c, _, err := client.Connect(ctxFor(t), s.ws(), client.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func request(t *testing.T, c *client.Client, typ string, data any, out any) {
	t.Helper()
	raw, err := c.Request(ctxFor(t), typ, data)
	if err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: decode %s: %v", typ, raw, err)
		}
	}
}

func requestErr(t *testing.T, c *client.Client, typ string, data any) string {
	t.Helper()
	_, err := c.Request(ctxFor(t), typ, data)
	if err == nil {
		t.Fatalf("%s %v succeeded", typ, data)
	}
	if e, ok := err.(*client.Error); ok {
		return e.Code
	}
	t.Fatalf("%s: %v", typ, err)
	return ""
}

// waitEvent waits for an event of type typ that match accepts.
func waitEvent(t *testing.T, c *client.Client, typ string, match func(json.RawMessage) bool) json.RawMessage {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("connection closed waiting for %s", typ)
			}
			if ev.Type == typ && (match == nil || match(ev.Data)) {
				return ev.Data
			}
		case <-deadline:
			t.Fatalf("no %s within 15s", typ)
		}
	}
}

func offerOf(id int64) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var o struct{ Conversation conv }
		json.Unmarshal(d, &o) //nolint:errcheck
		return o.Conversation.ID == id
	}
}

func chatEvent(id int64, kind string) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var e event
		json.Unmarshal(d, &e) //nolint:errcheck
		return e.ConversationID == id && e.Kind == kind
	}
}

func startChat(t *testing.T, c *client.Client, name string) conv {
	t.Helper()
	var out withEvents
	request(t, c, "chat.start", map[string]any{"name": name, "email": strings.ToLower(name) + "@example.com"}, &out)
	return out.Conversation
}

// The heart of it: offer, accept, messages both ways in order, private
// messages never reach the customer, the customer closes and both see it.
func TestChatIsOfferedAcceptedAndTalkedThrough(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Vera")
	if c.State != "queued" {
		t.Fatalf("state %s", c.State)
	}
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	var acc withEvents
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, &acc)
	if acc.Conversation.State != "active" || acc.Conversation.Agent == nil || acc.Conversation.Agent.Name != "Alice Agent" {
		t.Fatalf("accepted %+v", acc.Conversation)
	}
	waitEvent(t, cust, "chat.event", chatEvent(c.ID, "accepted"))
	greeting := waitEvent(t, cust, "chat.event", chatEvent(c.ID, "message"))
	if !strings.Contains(string(greeting), "Hello from the test queue") {
		t.Fatalf("greeting %s", greeting)
	}
	var responded bool
	s.db.QueryRow(context.Background(), `SELECT first_response_at IS NOT NULL FROM conversations WHERE id = $1`, c.ID).Scan(&responded)
	if responded {
		t.Fatal("the automatic greeting counted as the agent's first response")
	}
	for i := 0; i < 10; i++ {
		var ack struct{ Seq int }
		request(t, cust, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": fmt.Sprintf("c%d", i), "text": fmt.Sprintf("customer %d", i)}, &ack)
		request(t, alice, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": fmt.Sprintf("a%d", i), "text": fmt.Sprintf("agent %d", i)}, &ack)
	}
	request(t, alice, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "secret", "text": "note to self", "private": true}, nil)
	var firstResponse bool
	s.db.QueryRow(context.Background(), `SELECT first_response_at >= accepted_at FROM conversations WHERE id = $1`, c.ID).Scan(&firstResponse)
	if !firstResponse {
		t.Fatal("the agent's first reply was not recorded as the first response")
	}
	request(t, cust, "chat.close", map[string]any{"conversation_id": c.ID}, nil)
	waitEvent(t, alice, "chat.event", chatEvent(c.ID, "closed"))
	// Live: everything the customer was sent up to its own close event.
	for {
		raw := waitEvent(t, cust, "chat.event", nil)
		var e event
		json.Unmarshal(raw, &e) //nolint:errcheck
		if e.Private || e.Text == "note to self" {
			t.Fatalf("the customer was sent a private event live: %s", raw)
		}
		if e.Kind == "closed" {
			break
		}
	}

	var custView, agentView withEvents
	request(t, cust, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &custView)
	request(t, alice, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &agentView)
	texts := func(evs []event) []string {
		var out []string
		for _, e := range evs {
			if e.Kind == "message" {
				out = append(out, e.Text)
			}
		}
		return out
	}
	cm, am := texts(custView.Events), texts(agentView.Events)
	if len(cm) != 21 || len(am) != 22 {
		t.Fatalf("customer sees %d messages, agent %d; want 21 and 22 (the private one)", len(cm), len(am))
	}
	for i := range cm {
		if cm[i] != am[i] {
			t.Fatalf("transcripts differ at %d: %q vs %q", i, cm[i], am[i])
		}
	}
	for i, e := range agentView.Events {
		if e.Seq != i+1 {
			t.Fatalf("seq %d at position %d: numbering has a gap", e.Seq, i)
		}
	}
	for _, e := range custView.Events {
		if e.Private || e.Text == "note to self" || e.Kind == "offered" {
			t.Fatalf("customer saw a private event: %+v", e)
		}
	}
	if custView.Conversation.State != "closed" {
		t.Fatalf("state %s", custView.Conversation.State)
	}
}

func TestAResentMessageIsStoredOnce(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Dora")
	var first, again struct {
		Seq       int
		Duplicate bool
	}
	msg := map[string]any{"conversation_id": c.ID, "client_id": "m-1", "text": "only once"}
	request(t, cust, "chat.send", msg, &first)
	request(t, cust, "chat.send", msg, &again)
	if first.Duplicate || !again.Duplicate || first.Seq != again.Seq {
		t.Fatalf("first %+v, resend %+v", first, again)
	}
	var n int
	s.db.QueryRow(context.Background(), `SELECT count(*) FROM conversation_events WHERE conversation_id = $1 AND client_id = 'm-1'`, c.ID).Scan(&n)
	if n != 1 {
		t.Fatalf("%d rows", n)
	}
}

func TestRejectOffersTheChatToTheNextAgent(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice, bob := s.agent(t, "alice"), s.agent(t, "bob")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Rita")
	first, second := alice, bob
	// Whoever is offered first rejects; the other must be offered next.
	got := waitEither(t, alice, bob, "chat.offer", offerOf(c.ID))
	if got == bob {
		first, second = bob, alice
	}
	request(t, first, "chat.reject", map[string]any{"conversation_id": c.ID}, nil)
	waitEvent(t, second, "chat.offer", offerOf(c.ID))
	var st struct{ Status string }
	request(t, first, "agent.state", nil, &st)
	if st.Status != "available" {
		t.Fatalf("a rejecting agent was set %s", st.Status)
	}
}

func TestAnUnansweredOfferMovesOnAndLeavesTheAgentAvailable(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "answer_seconds = 1")
	alice, bob := s.agent(t, "alice"), s.agent(t, "bob")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Tim")
	first := waitEither(t, alice, bob, "chat.offer", offerOf(c.ID))
	second := bob
	if first == bob {
		second = alice
	}
	ended := waitEvent(t, first, "chat.offer_ended", nil)
	if !strings.Contains(string(ended), `"timeout"`) {
		t.Fatalf("offer ended %s", ended)
	}
	waitEvent(t, second, "chat.offer", offerOf(c.ID))
	// One miss does not pause (two in a row do: chat.MissesBeforePause).
	var st struct{ Status string }
	request(t, first, "agent.state", nil, &st)
	if st.Status != "available" {
		t.Fatalf("an agent who missed one offer was set %s", st.Status)
	}
}

func TestCapacityTwoMakesTheThirdChatWait(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "capacity = 2")
	alice := s.agent(t, "alice") // bob is not connected: only alice takes chats
	var convs []conv
	for i := 0; i < 3; i++ {
		cust := s.customer(t, s.visitorToken(t, ""))
		convs = append(convs, startChat(t, cust, fmt.Sprintf("Cap%d", i)))
	}
	for _, c := range convs[:2] {
		waitEvent(t, alice, "chat.offer", offerOf(c.ID))
		request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	}
	var waiting struct{ Entries []conv }
	request(t, alice, "queue.waiting", nil, &waiting)
	if len(waiting.Entries) != 1 || waiting.Entries[0].ID != convs[2].ID || waiting.Entries[0].State != "queued" {
		t.Fatalf("waiting %+v, want the third chat queued", waiting.Entries)
	}
	if code := requestErr(t, alice, "chat.accept", map[string]any{"conversation_id": convs[2].ID}); code != "conflict" {
		t.Fatalf("picking a third chat past capacity: %s", code)
	}
	request(t, alice, "chat.close", map[string]any{"conversation_id": convs[0].ID, "status": "Resolved"}, nil)
	waitEvent(t, alice, "chat.offer", offerOf(convs[2].ID))
}

func TestClosingNeedsAStatusFromTheQueuesList(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Sue")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	if code := requestErr(t, alice, "chat.close", map[string]any{"conversation_id": c.ID, "status": "Whatever"}); code != "bad_request" {
		t.Fatalf("unknown status: %s", code)
	}
	request(t, alice, "chat.close", map[string]any{"conversation_id": c.ID, "status": "Resolved"}, nil)
	closed := waitEvent(t, cust, "chat.event", chatEvent(c.ID, "closed"))
	if strings.Contains(string(closed), "Resolved") {
		t.Fatalf("the customer saw the close status: %s", closed)
	}
	if code := requestErr(t, alice, "chat.close", map[string]any{"conversation_id": c.ID, "status": "Resolved"}); code != "conflict" {
		t.Fatalf("closing twice: %s", code)
	}
	if code := requestErr(t, cust, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "late", "text": "hello?"}); code != "conflict" {
		t.Fatalf("sending to a closed chat: %s", code)
	}
}

// A customer cannot read or write another's conversation, by forged id or
// with another visitor's token; a wrong queue's token does not help either.
func TestACustomerSeesOnlyItsOwnConversation(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	victimTok := s.visitorToken(t, "")
	victim := s.customer(t, victimTok)
	vc := startChat(t, victim, "Victim")
	request(t, victim, "chat.send", map[string]any{"conversation_id": vc.ID, "client_id": "v1", "text": "my secret"}, nil)

	thief := s.customer(t, s.visitorToken(t, ""))
	own := startChat(t, thief, "Thief")
	for _, typ := range []string{"chat.resume", "chat.send", "chat.close", "chat.typing"} {
		data := map[string]any{"conversation_id": vc.ID, "client_id": "x", "text": "hi", "after_seq": 0, "typing": true}
		if code := requestErr(t, thief, typ, data); code != "not_found" {
			t.Errorf("%s on another's conversation: %s, want not_found", typ, code)
		}
	}
	for _, typ := range []string{"chat.accept", "chat.history", "queue.waiting", "agent.status"} {
		if code := requestErr(t, thief, typ, map[string]any{"conversation_id": vc.ID}); code != "forbidden" {
			t.Errorf("%s by a customer: %s, want forbidden", typ, code)
		}
	}
	// The thief's own chat is unaffected, and the victim's has only its own messages.
	request(t, thief, "chat.send", map[string]any{"conversation_id": own.ID, "client_id": "t1", "text": "mine"}, nil)
	var v withEvents
	request(t, victim, "chat.resume", map[string]any{"conversation_id": vc.ID, "after_seq": 0}, &v)
	for _, e := range v.Events {
		if e.Kind == "message" && e.Text != "my secret" {
			t.Fatalf("victim's conversation holds %q", e.Text)
		}
	}
	// The transcript over HTTP obeys the same rule.
	req, _ := http.NewRequest("GET", s.base+"/api/conversations/"+fmt.Sprint(vc.ID)+"/transcript", nil)
	req.Header.Set("Authorization", "Bearer "+s.visitorToken(t, ""))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another visitor's transcript: %d", resp.StatusCode)
	}
}

// Killing the websocket mid-conversation, or restarting the server, loses
// nothing that was acknowledged and duplicates nothing: the sender resends
// what it had not seen acknowledged (same client ids), the receiver resumes.
func TestADroppedConnectionLosesAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	noLossAcross(t, func(s *chatServer, cust *client.Client) *chatServer {
		cust.Close()
		return s
	})
}

func TestAServerRestartMidConversationLosesAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	noLossAcross(t, func(s *chatServer, _ *client.Client) *chatServer {
		s.stop()
		<-s.done
		s.done <- nil
		return &chatServer{server: start(t, s.server.db), db: s.db, queue: s.queue}
	})
}

func noLossAcross(t *testing.T, disrupt func(*chatServer, *client.Client) *chatServer) {
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	tok := s.visitorToken(t, "")
	cust := s.customer(t, tok)
	c := startChat(t, cust, "Nina")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)

	const total = 60
	acked := map[string]bool{}
	var mu sync.Mutex
	send := func(cl *client.Client, i int) error {
		id := fmt.Sprintf("n%d", i)
		_, err := cl.Request(ctxFor(t), "chat.send", map[string]any{"conversation_id": c.ID, "client_id": id, "text": id})
		if err == nil {
			mu.Lock()
			acked[id] = true
			mu.Unlock()
		}
		return err
	}
	// Send in the background and disrupt part way.
	done := make(chan int)
	go func() {
		i := 0
		for ; i < total; i++ {
			if send(cust, i) != nil {
				break
			}
		}
		done <- i
	}()
	waitEvent(t, alice, "chat.event", func(d json.RawMessage) bool { return strings.Contains(string(d), `"text":"n20"`) })
	s = disrupt(s, cust)
	stopped := <-done
	// Reconnect with the same visitor token, resend everything not acknowledged.
	cust2 := s.customer(t, s.visitorToken(t, tok))
	var mine struct{ Conversations []conv }
	request(t, cust2, "chat.mine", nil, &mine)
	if len(mine.Conversations) != 1 || mine.Conversations[0].ID != c.ID {
		t.Fatalf("after reconnect chat.mine = %+v", mine.Conversations)
	}
	for i := 0; i < total; i++ {
		if !acked[fmt.Sprintf("n%d", i)] {
			if err := send(cust2, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	agent := s.agent(t, "alice")
	var all withEvents
	request(t, agent, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &all)
	seen := map[string]int{}
	for _, e := range all.Events {
		if e.Kind == "message" && e.Author.Kind == "customer" {
			seen[e.Text]++
		}
	}
	for i := 0; i < total; i++ {
		if n := seen[fmt.Sprintf("n%d", i)]; n != 1 {
			t.Fatalf("message n%d stored %d times (disrupted after %d)", i, n, stopped)
		}
	}
	t.Logf("disrupted after %d of %d messages; all %d stored once", stopped, total, total)
}

// A queued chat survives a restart of the server and is offered when the
// server is back.
func TestAQueuedChatSurvivesARestart(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	tok := s.visitorToken(t, "")
	cust := s.customer(t, tok)
	c := startChat(t, cust, "Ursula") // no agent is connected: it waits
	request(t, cust, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "u1", "text": "anyone there?"}, nil)
	s.stop()
	<-s.done
	s.done <- nil

	s2 := &chatServer{server: start(t, s.server.db), db: s.db, queue: s.queue}
	alice := s2.agent(t, "alice")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	var acc withEvents
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, &acc)
	if !strings.Contains(fmt.Sprint(acc.Events), "anyone there?") {
		t.Fatalf("the message from before the restart is gone: %+v", acc.Events)
	}
}

// waitEither waits until one of two clients receives a matching event and
// returns that client.
func waitEither(t *testing.T, a, b *client.Client, typ string, match func(json.RawMessage) bool) *client.Client {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev := <-a.Events():
			if ev.Type == typ && match(ev.Data) {
				return a
			}
		case ev := <-b.Events():
			if ev.Type == typ && match(ev.Data) {
				return b
			}
		case <-deadline:
			t.Fatalf("neither got %s", typ)
		}
	}
}

func TestRingAllOffersEveryoneAndTheFirstAcceptWins(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "strategy = 'ring_all'")
	alice, bob := s.agent(t, "alice"), s.agent(t, "bob")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Rhea")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	waitEvent(t, bob, "chat.offer", offerOf(c.ID))
	request(t, bob, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	ended := waitEvent(t, alice, "chat.offer_ended", nil)
	if !strings.Contains(string(ended), `"taken"`) {
		t.Fatalf("alice's offer ended %s", ended)
	}
	if code := requestErr(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}); code != "conflict" {
		t.Fatalf("accepting a taken chat: %s", code)
	}
}

func TestNewVisitorsAreRateLimitedButRenewalsAreNot(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	var kept string
	for i := 0; i < 60; i++ {
		kept = s.visitorToken(t, "")
	}
	resp, body := post(t, s.base+"/api/widget/"+s.queue+"/visitor", `{}`)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "rate_limited") {
		t.Fatalf("61st new visitor: %d %s", resp.StatusCode, body)
	}
	// A returning visitor renews without limit, and keeps its identity.
	renewed := s.visitorToken(t, kept)
	cust := s.customer(t, renewed)
	c := startChat(t, cust, "Olga")
	again := s.customer(t, s.visitorToken(t, renewed))
	var mine struct{ Conversations []conv }
	request(t, again, "chat.mine", nil, &mine)
	if len(mine.Conversations) != 1 || mine.Conversations[0].ID != c.ID {
		t.Fatalf("the renewed visitor lost its conversation: %+v", mine.Conversations)
	}
}

// A desk that reloads finds the offers waiting for its answer in agent.state.
func TestAgentStateListsPendingOffers(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Pia")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	reloaded := s.agent(t, "alice")
	var st struct {
		Offers []struct {
			Conversation conv      `json:"conversation"`
			Deadline     time.Time `json:"deadline"`
		} `json:"offers"`
	}
	request(t, reloaded, "agent.state", nil, &st)
	if len(st.Offers) != 1 || st.Offers[0].Conversation.ID != c.ID || st.Offers[0].Conversation.Customer.Name != "Pia" || st.Offers[0].Deadline.IsZero() {
		t.Fatalf("offers %+v", st.Offers)
	}
	request(t, reloaded, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	request(t, reloaded, "agent.state", nil, &st)
	if len(st.Offers) != 0 {
		t.Fatalf("an accepted offer is still listed: %+v", st.Offers)
	}
}

// With "show agent name" off the customer sees the queue's alias, live and
// on resume, and never the agent's id; agents still see the name.
func TestACustomerSeesTheAgentOnlyAsTheQueueAllows(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "show_agent_name = false, agent_alias = 'Acme Support'")
	alice := s.agent(t, "alice")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Gail")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	request(t, alice, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "a1", "text": "hello"}, nil)
	live := waitEvent(t, cust, "chat.event", func(d json.RawMessage) bool { return strings.Contains(string(d), `"hello"`) })
	var got withEvents
	request(t, cust, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &got)
	all := string(live) + fmt.Sprint(got)
	if strings.Contains(all, "Alice") || !strings.Contains(string(live), "Acme Support") {
		t.Fatalf("the customer learned the agent's name: %s / %+v", live, got)
	}
	if got.Conversation.Agent == nil || got.Conversation.Agent.Name != "Acme Support" || got.Conversation.Agent.ID != nil {
		t.Fatalf("conversation agent for the customer: %+v", got.Conversation.Agent)
	}
	var staff withEvents
	request(t, alice, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &staff)
	if staff.Conversation.Agent == nil || staff.Conversation.Agent.Name != "Alice Agent" {
		t.Fatalf("the agent's own view: %+v", staff.Conversation.Agent)
	}
}
