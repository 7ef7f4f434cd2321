package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"parley/signaling/client"
)

// A supervisor steers the floor over the real websocket: assigns a chat,
// pauses and signs out agents, within the queues an admin gave it
// (docs/protocol.md, "Transfers", "Supervisor actions", "Administration").

// steerRequests are the supervisor's requests, with data naming alice or
// the chat.
func steerRequests(tm *team) map[string]map[string]any {
	return map[string]map[string]any{
		"chat.assign":         tm.data("user_id", tm.users["bob"]),
		"chat.assign_targets": tm.data(),
		"agent.pause":         {"user_id": tm.users["alice"], "reason": "Coaching"},
		"agent.logout":        {"user_id": tm.users["alice"]},
	}
}

// scopedSupervisor creates (once) the supervisor sid, gives it the
// queues ids through the admin API (ada: an admin's token) and connects
// it; it is reset to every queue after the test.
func scopedSupervisor(t *testing.T, tm *team, ada string, ids ...int64) *client.Client {
	t.Helper()
	setScope(t, tm, ada, ids...)
	return tm.agent(t, "sid")
}

// setScope gives sid (created if need be) the queues ids.
func setScope(t *testing.T, tm *team, ada string, ids ...int64) {
	t.Helper()
	code, body := call(t, "POST", tm.base+"/api/admin/users", ada,
		`{"username":"sid","name":"Sid Supervisor","role":"supervisor","password":"demo"}`)
	if code != http.StatusCreated && code != http.StatusConflict {
		t.Fatalf("sid: %d %s", code, body)
	}
	var sid int64
	if err := tm.db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'sid'`).Scan(&sid); err != nil {
		t.Fatal(err)
	}
	tm.users["sid"] = sid
	slices.Sort(ids)
	queues, _ := json.Marshal(ids)
	url := fmt.Sprintf("%s/api/admin/users/%d/queues", tm.base, sid)
	code, body = call(t, "PUT", url, ada, `{"queues":`+string(queues)+`}`)
	if code != http.StatusOK || !strings.Contains(body, `"queues":`+string(queues)) {
		t.Fatalf("give sid queues: %d %s", code, body)
	}
	t.Cleanup(func() { call(t, "PUT", url, ada, `{"queues":[]}`) })
}

// Who may steer: customers and guests are forbidden, agents forbidden
// with a reason, a supervisor outside its queues not_found; bad input is
// bad_request, unknown ids not_found. And the admin API that gives a
// supervisor its queues is for admins.
func TestSupervisorActionsAreRefusedByRoleAndScope(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	other := tm.addQueue(t, "Elsewhere")
	ada := tm.login(t, "ada")
	sid := scopedSupervisor(t, tm, ada, other)
	sam := tm.agent(t, "sam")
	var conf struct{ Room roomInfo }
	request(t, sam, "room.create", map[string]any{"name": "Steer refusals"}, &conf)
	resp, body := post(t, tm.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	guest := tm.customer(t, g.Token)

	var cases []refusalCase
	for typ, d := range steerRequests(tm) {
		cases = append(cases,
			refusalCase{"the customer", tm.cust, typ, d, "forbidden", ""},
			refusalCase{"a guest", guest, typ, d, "forbidden", ""},
			refusalCase{"an agent", tm.alice, typ, d, "forbidden", "only supervisors and admins may"},
			refusalCase{"a supervisor of another queue", sid, typ, d, "not_found", ""})
	}
	alice, bob := tm.users["alice"], tm.users["bob"]
	cases = append(cases,
		refusalCase{"a supervisor", sam, "agent.pause", map[string]any{"user_id": alice}, "bad_request", "reason"},
		refusalCase{"a supervisor", sam, "agent.pause", map[string]any{"user_id": alice, "reason": strings.Repeat("x", 101)}, "bad_request", "reason"},
		refusalCase{"a supervisor", sam, "agent.pause", map[string]any{"user_id": 987654321, "reason": "x"}, "not_found", "no such agent"},
		refusalCase{"a supervisor", sam, "agent.pause", map[string]any{"user_id": tm.users["ada"], "reason": "x"}, "not_found", "no such agent"},
		refusalCase{"a supervisor", sam, "agent.logout", map[string]any{"user_id": alice, "to": alice}, "bad_request", "to:"},
		refusalCase{"a supervisor", sam, "agent.logout", map[string]any{"user_id": alice, "to": 987654321}, "not_found", "to: there is no such agent"},
		refusalCase{"a supervisor", sam, "agent.logout", map[string]any{"user_id": alice, "to": tm.users["tess"]}, "conflict", "Tess Agent is not available now"},
		refusalCase{"a supervisor", sam, "chat.assign", tm.data(), "bad_request", "exactly one"},
		refusalCase{"a supervisor", sam, "chat.assign", tm.data("user_id", alice), "conflict", "Alice Agent already has this chat"},
		refusalCase{"a supervisor", sam, "chat.assign", tm.data("user_id", tm.users["tess"]), "conflict", "Tess Agent is not available now"},
		refusalCase{"a supervisor", sam, "chat.assign", tm.data("user_id", 987654321), "not_found", "no such agent"},
		refusalCase{"a supervisor", sam, "chat.assign", tm.data("queue_id", 987654321), "not_found", "no such queue"},
		refusalCase{"a supervisor", sam, "chat.assign", tm.data("queue_id", other), "conflict", "Elsewhere has no agent available now"},
		refusalCase{"a supervisor", sam, "chat.assign", map[string]any{"conversation_id": 987654321, "user_id": bob}, "not_found", ""},
	)
	checkRefusals(t, cases)

	// The admin API: admins only; only supervisors have a scope; only
	// queues that exist.
	url := fmt.Sprintf("%s/api/admin/users/%d/queues", tm.base, tm.users["sid"])
	for _, rc := range []struct {
		who, token, method, url, body string
		code                          int
	}{
		{"a supervisor", tm.login(t, "sam"), "PUT", url, `{"queues":[]}`, http.StatusForbidden},
		{"an agent", tm.login(t, "alice"), "GET", url, "", http.StatusForbidden},
		{"nobody signed in", "", "PUT", url, `{"queues":[]}`, http.StatusUnauthorized},
		{"an admin, on an agent", ada, "PUT", fmt.Sprintf("%s/api/admin/users/%d/queues", tm.base, alice), `{"queues":[]}`, http.StatusNotFound},
		{"an admin, with no such queue", ada, "PUT", url, `{"queues":[987654321]}`, http.StatusBadRequest},
		{"an admin, with a bad body", ada, "PUT", url, `{"queues":"all"}`, http.StatusBadRequest},
	} {
		if code, body := call(t, rc.method, rc.url, rc.token, rc.body); code != rc.code {
			t.Errorf("%s %s: %d %s, want %d", rc.who, rc.method, code, body, rc.code)
		}
	}
	if code, body := call(t, "GET", url, ada, ""); code != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"queues":[%d]`, other)) {
		t.Errorf("the scope as read: %d %s", code, body)
	}

	// Given the chat's queue, sid reads the chat and its waiting list.
	setScope(t, tm, ada, other, tm.queueID(t))
	request(t, sid, "chat.assign_targets", tm.data(), nil)
}

// A supervisor of one queue follows that queue's waiting list only, wait
// alerts included.
func TestASupervisorFollowsTheWaitingListOfItsQueuesOnly(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "wait_alert_seconds = 1")
	other := tm.addQueue(t, "Elsewhere")
	ada := tm.login(t, "ada")
	sid := scopedSupervisor(t, tm, ada, other)
	var w struct{ Entries []conv }
	request(t, sid, "queue.waiting", nil, &w)
	request(t, tm.alice, "agent.status", map[string]any{"status": "paused", "reason": "test"}, nil)
	request(t, tm.bob, "agent.status", map[string]any{"status": "paused", "reason": "test"}, nil)
	cust := tm.customer(t, tm.visitorToken(t, ""))
	waiting := startChat(t, cust, "Wendy")
	sam := tm.agent(t, "sam")
	request(t, sam, "queue.waiting", nil, nil)
	// sam (every queue) gets the alert; sid, of another queue, nothing of it.
	waitEvent(t, sam, "queue.entry", func(d json.RawMessage) bool {
		return strings.Contains(string(d), fmt.Sprintf(`"id":%d`, waiting.ID)) && strings.Contains(string(d), "wait_alert_at")
	})
	noEventAbout(t, sid, "sid", "queue.entry", "Wendy")
	if code := requestErr(t, sid, "chat.resume", map[string]any{"conversation_id": waiting.ID}); code != "not_found" {
		t.Fatalf("sid resumes a chat of another queue: %s", code)
	}

	// Given the queue, sid follows it; taken away again, its list ends.
	setScope(t, tm, ada, other, tm.queueID(t))
	request(t, sid, "queue.waiting", nil, &w)
	if len(w.Entries) != 1 || w.Entries[0].ID != waiting.ID {
		t.Fatalf("sid's waiting list given the queue: %+v", w.Entries)
	}
	request(t, sid, "chat.resume", map[string]any{"conversation_id": waiting.ID}, nil)
	setScope(t, tm, ada, other)
	ended := waitEvent(t, sid, "queue.access_ended", nil)
	if !strings.Contains(string(ended), fmt.Sprintf(`"queue_id":%d`, tm.queueID(t))) {
		t.Fatalf("sid's access ended %s", ended)
	}
}

// Sam assigns alice's chat to bob at once: bob's tabs are told and he
// chats, alice loses it, the customer reads that bob took over.
func TestASupervisorAssignsAChatToAnAgentAtOnce(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "show_agent_name = true")
	sam := tm.agent(t, "sam")
	var targets struct {
		Agents []struct{ ID int64 }
	}
	request(t, sam, "chat.assign_targets", tm.data(), &targets)
	if len(targets.Agents) == 0 {
		t.Fatalf("no targets for the supervisor: %+v", targets)
	}
	var ans struct {
		Assigned struct{ User struct{ Name string } }
	}
	request(t, sam, "chat.assign", tm.data("user_id", tm.users["bob"]), &ans)
	if ans.Assigned.User.Name != "Bob Agent" {
		t.Fatalf("assign answer %+v", ans)
	}
	assigned := waitEvent(t, tm.bob, "chat.assigned", offerOf(tm.id))
	if !strings.Contains(string(assigned), `"by":{"id":`) || !strings.Contains(string(assigned), "Sam") {
		t.Fatalf("bob was told %s", assigned)
	}
	if ended := waitEvent(t, tm.alice, "chat.access_ended", nil); !strings.Contains(string(ended), `"transferred"`) {
		t.Fatalf("alice's access ended %s", ended)
	}
	moved := eventOf(waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "transferred")))
	if moved.Author.Name != "Bob Agent" {
		t.Fatalf("the customer saw the chat go to %+v", moved.Author)
	}
	request(t, tm.bob, "chat.resume", tm.data(), nil)
	request(t, tm.bob, "chat.send", tm.data("client_id", "b1", "text", "Bob here"), nil)
	waitEvent(t, tm.cust, "chat.event", func(d json.RawMessage) bool { return eventOf(d).Text == "Bob here" })
	if code := requestErr(t, tm.alice, "chat.resume", tm.data()); code != "not_found" {
		t.Fatalf("alice resumes the chat she lost: %s", code)
	}
}

// Sam pauses bob: every tab of bob hears who and why.
func TestASupervisorPausesAnAgentWhoSeesWhoAndWhy(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	sam := tm.agent(t, "sam")
	bob2 := tm.agent(t, "bob")
	request(t, sam, "agent.pause", map[string]any{"user_id": tm.users["bob"], "reason": "Coaching"}, nil)
	for _, c := range []*client.Client{tm.bob, bob2} {
		st := waitEvent(t, c, "agent.status", nil)
		if !strings.Contains(string(st), `"reason":"Coaching"`) || !strings.Contains(string(st), `"name":"Sam`) {
			t.Fatalf("bob's tab was told %s", st)
		}
	}
	var state struct {
		Status string
		By     *struct{ Name string }
	}
	request(t, tm.bob, "agent.state", nil, &state)
	if state.Status != "paused" || state.By == nil || !strings.HasPrefix(state.By.Name, "Sam") {
		t.Fatalf("bob's state %+v", state)
	}
}

// Sam signs alice out: both her tabs close with the reason, her session
// is over, she is offline, and her chat goes back to its queue at the
// head, before a chat that has waited less.
func TestASupervisorSignsAnAgentOutAndHerChatsGoBackAtTheHead(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	ctx := context.Background()
	token := tm.login(t, "alice")
	tab2, _, err := client.Connect(ctxFor(t), tm.ws(), client.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tab2.Close() })
	request(t, tm.bob, "agent.status", map[string]any{"status": "paused", "reason": "test"}, nil)
	later := startChat(t, tm.customer(t, tm.visitorToken(t, "")), "Later")
	sam := tm.agent(t, "sam")
	var ans struct {
		Chats []struct {
			ConversationID int64 `json:"conversation_id"`
			Queue          *struct{ Name string }
		}
	}
	request(t, sam, "agent.logout", map[string]any{"user_id": tm.users["alice"]}, &ans)
	if len(ans.Chats) != 1 || ans.Chats[0].ConversationID != tm.id || ans.Chats[0].Queue == nil {
		t.Fatalf("logout answer %+v", ans)
	}
	for _, c := range []*client.Client{tm.alice, tab2} {
		select {
		case <-c.Done():
		case <-ctxFor(t).Done():
			t.Fatal("a tab of alice is still open")
		}
		if ce := c.CloseError(); ce == nil || ce.Code != 4001 || ce.Text != "Sam Supervisor signed you out" {
			t.Fatalf("alice's tab closed with %v", ce)
		}
	}
	if code, _ := call(t, "GET", tm.base+"/api/me", token, ""); code != http.StatusUnauthorized {
		t.Fatalf("alice's session after logout: %d", code)
	}
	var status string
	if err := tm.db.QueryRow(ctx, `SELECT status FROM agent_status WHERE user_id = $1`, tm.users["alice"]).Scan(&status); err != nil || status != "offline" {
		t.Fatalf("alice's status %q %v", status, err)
	}
	waitEvent(t, tm.cust, "chat.event", chatEvent(tm.id, "transferred"))
	// Bob comes back: the chat alice had comes to him first.
	request(t, tm.bob, "agent.status", map[string]any{"status": "available"}, nil)
	if o := waitOffer(t, tm.bob, tm.id); o.Kind != "route" {
		t.Fatalf("bob's offer %+v", o)
	}
	var w struct{ Entries []conv }
	request(t, tm.bob, "queue.waiting", nil, &w)
	if len(w.Entries) != 2 || w.Entries[0].ID != tm.id || w.Entries[1].ID != later.ID {
		t.Fatalf("waiting list %+v: alice's chat should be at the head", w.Entries)
	}
}
