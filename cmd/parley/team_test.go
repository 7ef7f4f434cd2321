package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/signaling/client"
)

// Agents working a chat together over the real websocket: invites,
// leaving, transfers (docs/protocol.md, "Invites", "Leaving",
// "Transfers").

// team is a running server with a chat that alice has accepted; bob is
// connected and in none of it.
type team struct {
	*chatServer
	alice, bob, cust *client.Client
	id               int64
	users            map[string]int64 // user ids by username
}

// teamRequests are the requests of the team, each with data that names
// the chat.
var teamRequests = []string{"chat.invite", "chat.invite_cancel", "chat.leave", "chat.transfer",
	"chat.transfer_cancel", "chat.transfer_targets"}

func newTeam(t *testing.T, settings string) *team {
	t.Helper()
	s := newChatServer(t, settings)
	// tess is a third agent, in no queue of the test's and not connected.
	code, body := call(t, "POST", s.base+"/api/admin/users", s.login(t, "ada"),
		`{"username":"tess","name":"Tess Agent","role":"agent","password":"demo"}`)
	if code != http.StatusCreated && code != http.StatusOK && code != http.StatusConflict {
		t.Fatalf("tess: %d %s", code, body)
	}
	tm := &team{chatServer: s, users: map[string]int64{}}
	rows, err := s.db.Query(context.Background(), `SELECT username, id FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var id int64
		if err := rows.Scan(&name, &id); err != nil {
			t.Fatal(err)
		}
		tm.users[name] = id
	}
	rows.Close()
	tm.alice = s.agent(t, "alice")
	tm.cust = s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, tm.cust, "Vera")
	tm.id = c.ID
	waitEvent(t, tm.alice, "chat.offer", offerOf(c.ID))
	request(t, tm.alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	tm.bob = s.agent(t, "bob")
	return tm
}

// data is the chat's id with more fields.
func (tm *team) data(kv ...any) map[string]any {
	m := map[string]any{"conversation_id": tm.id}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// addQueue adds a queue named name with the given members and returns its id.
func (tm *team) addQueue(t *testing.T, name string, members ...string) int64 {
	t.Helper()
	var id int64
	ctx := context.Background()
	if err := tm.db.QueryRow(ctx, `INSERT INTO queues (key, name) VALUES ($1, $2) RETURNING id`,
		fmt.Sprintf("team-%d", time.Now().UnixNano()), name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if _, err := tm.db.Exec(ctx, `INSERT INTO queue_members VALUES ($1, $2)`, id, tm.users[m]); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// refusal sends a request that must fail and returns its code and message.
func refusal(t *testing.T, c *client.Client, typ string, data any) (code, msg string) {
	t.Helper()
	_, err := c.Request(ctxFor(t), typ, data)
	if err == nil {
		t.Fatalf("%s %v succeeded", typ, data)
	}
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("%s: %v", typ, err)
	}
	return ce.Code, ce.Message
}

type refusalCase struct {
	who  string
	c    *client.Client
	typ  string
	data map[string]any
	code string
	msg  string // a part of the message
}

func checkRefusals(t *testing.T, cases []refusalCase) {
	t.Helper()
	for _, rc := range cases {
		code, msg := refusal(t, rc.c, rc.typ, rc.data)
		if code != rc.code || !strings.Contains(msg, rc.msg) {
			t.Errorf("%s %s %v: %s %q, want %s %q", rc.who, rc.typ, rc.data, code, msg, rc.code, rc.msg)
		}
	}
}

// Every refusal of the team's requests, by who asks and in what state the
// chat is, each with its code and a message a person understands.
func TestTeamRequestsAreRefusedByRoleAndState(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	sam := tm.agent(t, "sam")
	var conf struct{ Room roomInfo }
	request(t, sam, "room.create", map[string]any{"name": "Team refusals"}, &conf)
	resp, body := post(t, tm.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	guest := tm.customer(t, g.Token)
	nobody := tm.addQueue(t, "Nobody")
	alice, bob, tess := tm.users["alice"], tm.users["bob"], tm.users["tess"]

	// Who may not: customers and guests (forbidden), an agent not in the
	// chat (not_found: it may not read it), a supervisor who reads it but
	// is not among its agents (forbidden).
	var cases []refusalCase
	for _, typ := range teamRequests {
		d := tm.data("user_id", bob)
		cases = append(cases,
			refusalCase{"the customer", tm.cust, typ, d, "forbidden", ""},
			refusalCase{"a guest", guest, typ, d, "forbidden", ""},
			refusalCase{"an agent not in the chat", tm.bob, typ, tm.data("user_id", alice), "not_found", ""},
			refusalCase{"a supervisor not among its agents", sam, typ, d, "forbidden", "only the chat's agents may"})
	}
	// Its agent, alone in it with nothing pending.
	cases = append(cases,
		refusalCase{"its agent", tm.alice, "chat.invite", tm.data("user_id", alice), "bad_request", "you cannot invite yourself"},
		refusalCase{"its agent", tm.alice, "chat.transfer", tm.data("user_id", alice), "bad_request", "you cannot invite yourself"},
		refusalCase{"its agent", tm.alice, "chat.invite", tm.data(), "bad_request", "exactly one"},
		refusalCase{"its agent", tm.alice, "chat.invite", tm.data("user_id", bob, "queue_id", nobody), "bad_request", "exactly one"},
		refusalCase{"its agent", tm.alice, "chat.invite", tm.data("user_id", 987654321), "not_found", "no such colleague"},
		refusalCase{"its agent", tm.alice, "chat.invite", tm.data("queue_id", 987654321), "not_found", "no such queue"},
		refusalCase{"its agent", tm.alice, "chat.invite", tm.data("user_id", tess), "conflict", "Tess Agent is not available now"},
		refusalCase{"its agent", tm.alice, "chat.transfer", tm.data("user_id", tess), "conflict", "Tess Agent is not available now"},
		refusalCase{"its agent", tm.alice, "chat.invite", tm.data("queue_id", nobody), "conflict", "Nobody in Nobody is available now"},
		refusalCase{"its agent", tm.alice, "chat.transfer", tm.data("queue_id", nobody), "conflict", "Nobody has no agent available now"},
		refusalCase{"its agent", tm.alice, "chat.invite_cancel", tm.data(), "conflict", "no invitation is pending"},
		refusalCase{"its agent", tm.alice, "chat.transfer_cancel", tm.data(), "conflict", "no transfer is pending"},
		refusalCase{"its agent", tm.alice, "chat.leave", tm.data(), "conflict", "You are the last agent in this chat: close it instead"},
	)
	checkRefusals(t, cases)

	// A paused colleague is not available either.
	request(t, tm.bob, "agent.status", map[string]any{"status": "paused", "reason": "Lunch"}, nil)
	checkRefusals(t, []refusalCase{
		{"its agent", tm.alice, "chat.invite", tm.data("user_id", bob), "conflict", "Bob Agent is not available now"},
		{"its agent", tm.alice, "chat.transfer", tm.data("queue_id", tm.queueID(t)), "conflict", "has no agent available now"},
	})
	request(t, tm.bob, "agent.status", map[string]any{"status": "available"}, nil)

	// One invitation pending at a time; the refusal names whom.
	request(t, tm.alice, "chat.invite", tm.data("user_id", bob), nil)
	checkRefusals(t, []refusalCase{
		{"its agent", tm.alice, "chat.invite", tm.data("user_id", bob), "conflict", "Bob Agent is already invited to this chat"},
		{"its agent", tm.alice, "chat.invite", tm.data("queue_id", tm.queueID(t)), "conflict", "Bob Agent is already invited to this chat"},
		{"its agent", tm.alice, "chat.transfer", tm.data("user_id", bob), "conflict", "Bob Agent is already invited to this chat"},
		{"its agent", tm.alice, "chat.transfer_cancel", tm.data(), "conflict", "no transfer is pending"},
		// The invited agent reads the chat but is not one of its agents yet.
		{"the invited agent", tm.bob, "chat.invite", tm.data("user_id", alice), "forbidden", "only the chat's agents may"},
	})
	waitEvent(t, tm.bob, "chat.offer", offerOf(tm.id))
	request(t, tm.bob, "chat.accept", tm.data(), nil)
	checkRefusals(t, []refusalCase{
		{"its agent", tm.alice, "chat.invite", tm.data("user_id", bob), "conflict", "Bob Agent is already in this chat"},
		{"its agent", tm.alice, "chat.transfer", tm.data("user_id", bob), "conflict", "Bob Agent is already in this chat"},
		{"a supervisor not among its agents", sam, "chat.leave", tm.data(), "forbidden", "only the chat's agents may"},
	})

	// A closed chat: the customer ends it; its agents owe the wrap-up.
	request(t, tm.cust, "chat.close", tm.data(), nil)
	for _, typ := range teamRequests {
		checkRefusals(t, []refusalCase{
			{"its agent, of a closed chat", tm.alice, typ, tm.data("queue_id", tm.queueID(t)), "conflict", "the chat is closed"},
		})
	}
}

// queueID is the id of the test's queue.
func (tm *team) queueID(t *testing.T) int64 {
	t.Helper()
	var id int64
	if err := tm.db.QueryRow(context.Background(), `SELECT id FROM queues WHERE key = $1`, tm.queue).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// offerData is a chat.offer event.
type offerData struct {
	Kind string `json:"kind"`
	By   *struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"by"`
	Conversation conv      `json:"conversation"`
	Deadline     time.Time `json:"deadline"`
}

func waitOffer(t *testing.T, c *client.Client, id int64) offerData {
	t.Helper()
	var o offerData
	json.Unmarshal(waitEvent(t, c, "chat.offer", offerOf(id)), &o) //nolint:errcheck
	return o
}

// eventOf decodes a chat event.
func eventOf(raw json.RawMessage) event {
	var e event
	json.Unmarshal(raw, &e) //nolint:errcheck
	return e
}

type staffConv struct {
	Conversation struct {
		conv
		Agents []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"agents"`
	} `json:"conversation"`
	Events []event `json:"events"`
}

// An invited colleague sees the whole chat, private notes included, and
// both agents chat with the customer, who cannot tell them apart when the
// queue hides agents' names.
func TestAnInvitedColleagueJoinsAndBothChatWithTheCustomer(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "show_agent_name = false, agent_alias = 'Acme Support'")
	request(t, tm.alice, "chat.send", tm.data("client_id", "n1", "text", "VIP, be nice", "private", true), nil)
	var inv struct {
		Invitation struct {
			User struct {
				ID   int64
				Name string
			}
			Deadline time.Time
		}
	}
	request(t, tm.alice, "chat.invite", tm.data("user_id", tm.users["bob"]), &inv)
	if inv.Invitation.User.Name != "Bob Agent" || inv.Invitation.Deadline.IsZero() {
		t.Fatalf("invitation %+v", inv)
	}
	o := waitOffer(t, tm.bob, tm.id)
	if o.Kind != "invite" || o.By == nil || o.By.Name != "Alice Agent" || o.Conversation.State != "active" {
		t.Fatalf("bob's offer %+v", o)
	}
	var st struct {
		Offers []offerData `json:"offers"`
	}
	request(t, tm.bob, "agent.state", nil, &st)
	if len(st.Offers) != 1 || st.Offers[0].Kind != "invite" || st.Offers[0].By == nil {
		t.Fatalf("agent.state offers %+v", st.Offers)
	}
	var joined staffConv
	request(t, tm.bob, "chat.accept", tm.data(), &joined)
	sawNote := false
	for _, e := range joined.Events {
		sawNote = sawNote || (e.Private && e.Text == "VIP, be nice")
	}
	if !sawNote {
		t.Fatalf("the invited agent did not get the whole history: %+v", joined.Events)
	}
	if a := joined.Conversation.Agents; len(a) != 2 || a[0].Name != "Alice Agent" || a[1].Name != "Bob Agent" {
		t.Fatalf("agents %+v, want alice (the lead) then bob", a)
	}
	waitEvent(t, tm.alice, "chat.event", chatEvent(tm.id, "joined"))
	if e := eventOf(waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "joined"))); e.Author.Name != "Acme Support" {
		t.Fatalf("the customer saw %q join", e.Author.Name)
	}
	request(t, tm.alice, "chat.send", tm.data("client_id", "a1", "text", "from alice"), nil)
	request(t, tm.bob, "chat.send", tm.data("client_id", "b1", "text", "from bob"), nil)
	request(t, tm.cust, "chat.send", tm.data("client_id", "c1", "text", "from vera"), nil)
	for _, a := range []*client.Client{tm.alice, tm.bob} {
		waitEvent(t, a, "chat.event", func(d json.RawMessage) bool { return eventOf(d).Text == "from vera" })
	}
	seen := map[string]string{}
	for len(seen) < 2 {
		e := eventOf(waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "message")))
		if e.Text == "from alice" || e.Text == "from bob" {
			seen[e.Text] = e.Author.Name
		}
	}
	if seen["from alice"] != "Acme Support" || seen["from bob"] != "Acme Support" {
		t.Fatalf("the customer saw the agents as %v", seen)
	}
	var custView struct {
		Conversation map[string]any `json:"conversation"`
		Events       []event        `json:"events"`
	}
	request(t, tm.cust, "chat.resume", tm.data("after_seq", 0), &custView)
	if _, ok := custView.Conversation["agents"]; ok {
		t.Fatalf("the customer was shown the chat's agents: %v", custView.Conversation)
	}
	for _, e := range custView.Events {
		if e.Private || e.Kind == "invited" || strings.Contains(fmt.Sprint(e), "Bob") || strings.Contains(fmt.Sprint(e), "Alice") {
			t.Fatalf("the customer saw %+v", e)
		}
	}
	var bobState struct {
		OpenChats int `json:"open_chats"`
	}
	request(t, tm.bob, "agent.state", nil, &bobState)
	if bobState.OpenChats != 1 {
		t.Fatalf("bob's open chats %d, want 1: the chat he joined counts", bobState.OpenChats)
	}
}

// A declined and a timed-out invitation tell the inviter, change nothing
// in the chat, and a timed-out one does not pause the colleague.
func TestADeclinedOrUnansweredInvitationChangesNothing(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "answer_seconds = 1")
	bob := tm.users["bob"]
	request(t, tm.alice, "chat.invite", tm.data("user_id", bob), nil)
	waitOffer(t, tm.bob, tm.id)
	request(t, tm.bob, "chat.reject", tm.data(), nil)
	if e := eventOf(waitEvent(t, tm.alice, "chat.event", chatEvent(tm.id, "invite_ended"))); e.Status != "declined" || e.Author.Name != "Bob Agent" {
		t.Fatalf("invite_ended %+v", e)
	}
	if ended := waitEvent(t, tm.bob, "chat.access_ended", nil); !strings.Contains(string(ended), `"rejected"`) {
		t.Fatalf("bob's access ended %s", ended)
	}
	// Two in a row run out: not missed offers, so bob stays available.
	for i := 0; i < 2; i++ {
		request(t, tm.alice, "chat.invite", tm.data("user_id", bob), nil)
		waitOffer(t, tm.bob, tm.id)
		if ended := waitEvent(t, tm.bob, "chat.offer_ended", nil); !strings.Contains(string(ended), `"timeout"`) {
			t.Fatalf("offer ended %s", ended)
		}
		if e := eventOf(waitEvent(t, tm.alice, "chat.event", chatEvent(tm.id, "invite_ended"))); e.Status != "timeout" {
			t.Fatalf("invite_ended %+v", e)
		}
	}
	var st struct{ Status string }
	request(t, tm.bob, "agent.state", nil, &st)
	if st.Status != "available" {
		t.Fatalf("bob was set %s by invitations he let run out", st.Status)
	}
	var after staffConv
	request(t, tm.alice, "chat.resume", tm.data("after_seq", 0), &after)
	if after.Conversation.State != "active" || len(after.Conversation.Agents) != 1 || after.Conversation.Agent.Name != "Alice Agent" {
		t.Fatalf("the chat after the invitations: %+v", after.Conversation)
	}
	// Withdrawn: the colleague hears "cancelled", the inviter's transcript too.
	request(t, tm.alice, "chat.invite", tm.data("queue_id", tm.queueID(t)), nil)
	waitOffer(t, tm.bob, tm.id)
	request(t, tm.alice, "chat.invite_cancel", tm.data(), nil)
	if ended := waitEvent(t, tm.bob, "chat.offer_ended", nil); !strings.Contains(string(ended), `"cancelled"`) {
		t.Fatalf("offer ended %s", ended)
	}
	if e := eventOf(waitEvent(t, tm.alice, "chat.event", chatEvent(tm.id, "invite_ended"))); e.Status != "cancelled" {
		t.Fatalf("invite_ended %+v", e)
	}
	var custView withEvents
	request(t, tm.cust, "chat.resume", tm.data("after_seq", 0), &custView)
	for _, e := range custView.Events {
		if e.Kind != "queued" && e.Kind != "accepted" && e.Kind != "message" {
			t.Fatalf("the customer saw %+v of invitations that came to nothing", e)
		}
	}
}

// invited brings bob into the chat.
func (tm *team) invited(t *testing.T) {
	t.Helper()
	request(t, tm.alice, "chat.invite", tm.data("user_id", tm.users["bob"]), nil)
	waitOffer(t, tm.bob, tm.id)
	request(t, tm.bob, "chat.accept", tm.data(), nil)
	waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "joined"))
}

// The lead who leaves hands the chat to the other agent; the customer
// keeps chatting; the last agent cannot leave but closes.
func TestLeavingHandsTheChatToTheOtherAgent(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	tm.invited(t)
	request(t, tm.alice, "chat.leave", tm.data(), nil)
	if ended := waitEvent(t, tm.alice, "chat.access_ended", nil); !strings.Contains(string(ended), `"left"`) {
		t.Fatalf("alice's access ended %s", ended)
	}
	if e := eventOf(waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "left"))); e.Author.Name != "Alice Agent" {
		t.Fatalf("left %+v", e)
	}
	var v staffConv
	request(t, tm.bob, "chat.resume", tm.data("after_seq", 0), &v)
	if v.Conversation.Agent == nil || v.Conversation.Agent.Name != "Bob Agent" || len(v.Conversation.Agents) != 1 {
		t.Fatalf("after alice left: %+v", v.Conversation)
	}
	if code := requestErr(t, tm.alice, "chat.resume", tm.data("after_seq", 0)); code != "not_found" {
		t.Fatalf("alice resumes the chat she left: %s", code)
	}
	request(t, tm.cust, "chat.send", tm.data("client_id", "c1", "text", "still there?"), nil)
	waitEvent(t, tm.bob, "chat.event", func(d json.RawMessage) bool { return eventOf(d).Text == "still there?" })
	code, msg := refusal(t, tm.bob, "chat.leave", tm.data())
	if code != "conflict" || !strings.Contains(msg, "close it instead") {
		t.Fatalf("the last agent leaves: %s %s", code, msg)
	}
	request(t, tm.bob, "chat.close", tm.data("status", "Resolved"), nil)
	waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "closed"))
}

// chat.close by one of two agents is a leave: the chat stays open.
func TestClosingByOneOfTwoAgentsLeavesTheChatToTheOther(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	tm.invited(t)
	request(t, tm.bob, "chat.close", tm.data("status", "Resolved"), nil)
	waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "left"))
	var v staffConv
	request(t, tm.alice, "chat.resume", tm.data("after_seq", 0), &v)
	if v.Conversation.State != "active" || len(v.Conversation.Agents) != 1 {
		t.Fatalf("after bob closed: %+v", v.Conversation)
	}
	request(t, tm.cust, "chat.send", tm.data("client_id", "c1", "text", "hello alice"), nil)
	waitEvent(t, tm.alice, "chat.event", func(d json.RawMessage) bool { return eventOf(d).Text == "hello alice" })
	var st struct {
		OpenChats int `json:"open_chats"`
	}
	request(t, tm.bob, "agent.state", nil, &st)
	if st.OpenChats != 0 {
		t.Fatalf("bob still counts %d chats after leaving", st.OpenChats)
	}
}

// A transfer to a colleague: declined and cancelled ones change nothing
// and tell the transferring agent; an accepted one makes the colleague
// the lead and ends the transferring agent's access.
func TestATransferToAColleague(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	bob := tm.users["bob"]
	var ans struct {
		Transfer struct {
			User     struct{ Name string }
			Deadline time.Time
		}
	}
	request(t, tm.alice, "chat.transfer", tm.data("user_id", bob), &ans)
	if ans.Transfer.User.Name != "Bob Agent" || ans.Transfer.Deadline.IsZero() {
		t.Fatalf("transfer answer %+v", ans)
	}
	if o := waitOffer(t, tm.bob, tm.id); o.Kind != "transfer" || o.By == nil || o.By.Name != "Alice Agent" {
		t.Fatalf("bob's offer %+v", o)
	}
	request(t, tm.bob, "chat.reject", tm.data(), nil)
	if e := eventOf(waitEvent(t, tm.alice, "chat.event", chatEvent(tm.id, "transfer_ended"))); e.Status != "declined" {
		t.Fatalf("transfer_ended %+v", e)
	}
	request(t, tm.alice, "chat.transfer", tm.data("user_id", bob), nil)
	waitOffer(t, tm.bob, tm.id)
	request(t, tm.alice, "chat.transfer_cancel", tm.data(), nil)
	if ended := waitEvent(t, tm.bob, "chat.offer_ended", nil); !strings.Contains(string(ended), `"cancelled"`) {
		t.Fatalf("offer ended %s", ended)
	}
	if e := eventOf(waitEvent(t, tm.alice, "chat.event", chatEvent(tm.id, "transfer_ended"))); e.Status != "cancelled" {
		t.Fatalf("transfer_ended %+v", e)
	}
	var v staffConv
	request(t, tm.alice, "chat.resume", tm.data("after_seq", 0), &v)
	if v.Conversation.Agent.Name != "Alice Agent" || len(v.Conversation.Agents) != 1 {
		t.Fatalf("after a declined and a cancelled transfer: %+v", v.Conversation)
	}

	request(t, tm.alice, "chat.transfer", tm.data("user_id", bob), nil)
	waitOffer(t, tm.bob, tm.id)
	var taken staffConv
	request(t, tm.bob, "chat.accept", tm.data(), &taken)
	if taken.Conversation.Agent.Name != "Bob Agent" || len(taken.Conversation.Agents) != 1 {
		t.Fatalf("after the transfer: %+v", taken.Conversation)
	}
	if ended := waitEvent(t, tm.alice, "chat.access_ended", nil); !strings.Contains(string(ended), `"transferred"`) {
		t.Fatalf("alice's access ended %s", ended)
	}
	if e := eventOf(waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "transferred"))); e.Author.Name != "Bob Agent" {
		t.Fatalf("the customer saw %+v", e)
	}
	if code := requestErr(t, tm.alice, "chat.send", tm.data("client_id", "late", "text", "me again")); code != "not_found" {
		t.Fatalf("alice sends after handing the chat over: %s", code)
	}
}

// A transfer to a queue puts the chat back to waiting there, at the head
// (it keeps its queued_at), and the router offers it to that queue's agent.
func TestATransferToAQueueRoutesItThere(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	other := tm.addQueue(t, "Billing", "bob")
	var queuedAt, after time.Time
	ctx := context.Background()
	tm.db.QueryRow(ctx, `SELECT queued_at FROM conversations WHERE id = $1`, tm.id).Scan(&queuedAt) //nolint:errcheck
	var ans struct {
		Transfer struct {
			Queue struct {
				ID   int64
				Name string
			}
		}
	}
	request(t, tm.alice, "chat.transfer", tm.data("queue_id", other), &ans)
	if ans.Transfer.Queue.ID != other || ans.Transfer.Queue.Name != "Billing" {
		t.Fatalf("transfer answer %+v", ans)
	}
	if ended := waitEvent(t, tm.alice, "chat.access_ended", nil); !strings.Contains(string(ended), `"transferred"`) {
		t.Fatalf("alice's access ended %s", ended)
	}
	moved := waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "transferred"))
	if e := eventOf(moved); e.Author.Kind != "system" || !strings.Contains(string(moved), `"target":{"kind":"queue","name":"Billing"}`) {
		t.Fatalf("the customer saw %s", moved)
	}
	tm.db.QueryRow(ctx, `SELECT queued_at FROM conversations WHERE id = $1`, tm.id).Scan(&after) //nolint:errcheck
	if !after.Equal(queuedAt) {
		t.Fatalf("queued_at %v became %v: the chat lost its place", queuedAt, after)
	}
	if o := waitOffer(t, tm.bob, tm.id); o.Kind != "route" || o.Conversation.State != "offered" {
		t.Fatalf("bob's offer %+v", o)
	}
	request(t, tm.bob, "chat.accept", tm.data(), nil)
	waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "accepted"))
	// The customer's widget is the first queue's: it keeps its chat.
	request(t, tm.cust, "chat.send", tm.data("client_id", "c1", "text", "thanks"), nil)
	waitEvent(t, tm.bob, "chat.event", func(d json.RawMessage) bool { return eventOf(d).Text == "thanks" })
	var mine struct{ Conversations []conv }
	request(t, tm.cust, "chat.mine", nil, &mine)
	if len(mine.Conversations) != 1 || mine.Conversations[0].ID != tm.id {
		t.Fatalf("the customer's chats after the transfer: %+v", mine.Conversations)
	}
}

// While the customer keeps sending, the chat is handed from alice to bob:
// every message the customer sent is stored once, and the customer's
// stream has each once, in order.
func TestNothingTheCustomerSendsDuringATransferIsLostOrDoubled(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	const total = 40
	var mu sync.Mutex
	var sendErrs []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < total; i++ {
			id := fmt.Sprintf("t%d", i)
			if _, err := tm.cust.Request(ctxFor(t), "chat.send", tm.data("client_id", id, "text", id)); err != nil {
				mu.Lock()
				sendErrs = append(sendErrs, fmt.Errorf("%s: %w", id, err))
				mu.Unlock()
			}
		}
	}()
	waitEvent(t, tm.alice, "chat.event", func(d json.RawMessage) bool { return eventOf(d).Text == "t5" })
	request(t, tm.alice, "chat.transfer", tm.data("user_id", tm.users["bob"]), nil)
	waitOffer(t, tm.bob, tm.id)
	request(t, tm.bob, "chat.accept", tm.data(), nil)
	<-done
	if len(sendErrs) > 0 {
		t.Fatalf("the customer's sends failed during the transfer: %v", sendErrs)
	}
	var v withEvents
	request(t, tm.bob, "chat.resume", tm.data("after_seq", 0), &v)
	count := map[string]int{}
	for _, e := range v.Events {
		if e.Kind == "message" && e.Author.Kind == "customer" {
			count[e.Text]++
		}
	}
	for i := 0; i < total; i++ {
		if n := count[fmt.Sprintf("t%d", i)]; n != 1 {
			t.Fatalf("t%d stored %d times", i, n)
		}
	}
	// The customer's own live stream: every seq once, in order, through
	// the hand-over (seq 1, queued, was in chat.start's answer).
	last := 1
	for got := 0; got < total; {
		e := eventOf(waitEvent(t, tm.cust, "chat.event", nil))
		if e.Seq != last+1 {
			t.Fatalf("the customer's stream went from seq %d to %d (%s)", last, e.Seq, e.Kind)
		}
		last = e.Seq
		if e.Kind == "message" && e.Author.Kind == "customer" {
			got++
		}
	}
}

type targets struct {
	Agents []struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		Status    string `json:"status"`
		OpenChats int    `json:"open_chats"`
		Capacity  int    `json:"capacity"`
		Queues    []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"queues"`
	} `json:"agents"`
	Queues []struct {
		ID              int64  `json:"id"`
		Name            string `json:"name"`
		AvailableAgents int    `json:"available_agents"`
		Waiting         int    `json:"waiting"`
	} `json:"queues"`
}

// The picker lists only the colleagues who can take the chat now, and
// the queues with one of them.
func TestTransferTargetsAreThoseWhoCanTakeTheChatNow(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "capacity = 2")
	qid := tm.queueID(t)
	var got targets
	request(t, tm.alice, "chat.transfer_targets", tm.data(), &got)
	if len(got.Agents) != 1 || got.Agents[0].Name != "Bob Agent" || got.Agents[0].Status != "available" ||
		got.Agents[0].OpenChats != 0 || got.Agents[0].Capacity != 2 {
		t.Fatalf("agents %+v, want bob alone (not alice, not tess who is offline)", got.Agents)
	}
	inQueue := false
	for _, q := range got.Agents[0].Queues {
		inQueue = inQueue || q.ID == qid
	}
	var listed bool
	for _, q := range got.Queues {
		if q.ID == qid {
			listed = q.AvailableAgents == 1 && q.Name == "Test"
		}
	}
	if !inQueue || !listed {
		t.Fatalf("bob's queues %+v, queues %+v", got.Agents[0].Queues, got.Queues)
	}

	request(t, tm.bob, "agent.status", map[string]any{"status": "paused", "reason": "Break"}, nil)
	request(t, tm.alice, "chat.transfer_targets", tm.data(), &got)
	if len(got.Agents) != 0 || len(got.Queues) != 0 {
		t.Fatalf("with bob paused: %+v", got)
	}
	request(t, tm.bob, "agent.status", map[string]any{"status": "available"}, nil)
	tm.invited(t)
	request(t, tm.alice, "chat.transfer_targets", tm.data(), &got)
	if len(got.Agents) != 0 {
		t.Fatalf("with bob in the chat: %+v", got.Agents)
	}
}
