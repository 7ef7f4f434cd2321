package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/signaling/client"
)

// Accounts as an admin keeps them (web/admin_users.go, auth/accounts.go):
// who may do what, field by field errors, and a deactivated agent signed
// out everywhere at once, its chat back in its queue, its name kept.

var accountSeq int

// newAccount makes an account through the admin API (unique username,
// password "demo") and answers its id and username.
func newAccount(t *testing.T, s *chatServer, admin, role, name string) (int64, string) {
	t.Helper()
	accountSeq++
	username := fmt.Sprintf("acct-%d-%d", time.Now().UnixNano()%1e6, accountSeq)
	code, body := call(t, "POST", s.base+"/api/admin/users", admin,
		fmt.Sprintf(`{"username":%q,"name":%q,"role":%q,"password":"demo"}`, username, name, role))
	if code != http.StatusCreated {
		t.Fatalf("create %s: %d %s", role, code, body)
	}
	var u struct{ ID int64 }
	json.Unmarshal([]byte(body), &u) //nolint:errcheck
	return u.ID, username
}

// Every account route against every role: agents and supervisors are
// refused (403), someone signed out is not known (401), and an admin
// naming an id that does not exist, or is no number, is told not_found.
func TestOnlyAdminsKeepAccountsAndForgedIDsAreNotFound(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	target, _ := newAccount(t, s, admin, "agent", "Role Target")
	tokens := map[string]string{"agent": s.login(t, "alice"), "supervisor": s.login(t, "sam"), "signed out": ""}
	routes := []struct{ method, path, body string }{
		{"GET", "/api/admin/users", ""},
		{"POST", "/api/admin/users", `{"username":"never-made","name":"N","role":"admin","password":"pppp"}`},
		{"PATCH", "/api/admin/users/%d", `{"name":"Forged"}`},
		{"POST", "/api/admin/users/%d/password", `{"password":"forged-pw"}`},
		{"POST", "/api/admin/users/%d/deactivate", ""},
		{"POST", "/api/admin/users/%d/reactivate", ""},
	}
	for _, r := range routes {
		path := r.path
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, target)
		}
		for who, token := range tokens {
			want := http.StatusForbidden
			if token == "" {
				want = http.StatusUnauthorized
			}
			if code, body := call(t, r.method, s.base+path, token, r.body); code != want {
				t.Errorf("%s %s as %s: %d %s, want %d", r.method, path, who, code, body, want)
			}
		}
		if !strings.Contains(r.path, "%d") {
			continue
		}
		for _, forged := range []string{"999999999", "0", "-1", "abc"} {
			path := strings.Replace(r.path, "%d", forged, 1)
			if code, body := call(t, r.method, s.base+path, admin, r.body); code != http.StatusNotFound || !strings.Contains(body, `"not_found"`) {
				t.Errorf("%s %s as an admin: %d %s, want 404", r.method, path, code, body)
			}
		}
	}
	// Nothing the others tried took effect.
	code, body := call(t, "GET", s.base+"/api/admin/users", admin, "")
	if code != http.StatusOK || strings.Contains(body, "Forged") || strings.Contains(body, "never-made") {
		t.Fatalf("the accounts after the refusals: %d %s", code, body)
	}
	var name string
	var disabled bool
	if err := s.db.QueryRow(ctxFor(t), `SELECT display_name, disabled FROM users WHERE id = $1`, target).Scan(&name, &disabled); err != nil ||
		name != "Role Target" || disabled {
		t.Fatalf("the target after the refusals: %q disabled %v (%v)", name, disabled, err)
	}
}

// Bad input is refused naming the field; an admin cannot deactivate
// itself.
func TestAccountChangesAreCheckedFieldByField(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	id, username := newAccount(t, s, admin, "agent", "Field Agent")
	var ada int64
	if err := s.db.QueryRow(ctxFor(t), `SELECT id FROM users WHERE username = 'ada'`).Scan(&ada); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body, code, prefix string }{
		{"POST", "/api/admin/users", `{"username":"A B","name":"X","role":"agent","password":"pppp"}`, "bad_request", "username: "},
		{"POST", "/api/admin/users", `{"username":"okname","name":"","role":"agent","password":"pppp"}`, "bad_request", "name: "},
		{"POST", "/api/admin/users", `{"username":"okname","name":"X","role":"boss","password":"pppp"}`, "bad_request", "role: "},
		{"POST", "/api/admin/users", `{"username":"okname","name":"X","role":"agent","password":"p"}`, "bad_request", "password: "},
		{"POST", "/api/admin/users", fmt.Sprintf(`{"username":%q,"name":"X","role":"agent","password":"pppp"}`, username), "conflict", "username: "},
		{"PATCH", fmt.Sprintf("/api/admin/users/%d", id), `{"name":"   "}`, "bad_request", "name: "},
		{"PATCH", fmt.Sprintf("/api/admin/users/%d", id), `{"role":"root"}`, "bad_request", "role: "},
		{"PATCH", fmt.Sprintf("/api/admin/users/%d", id), `{}`, "bad_request", `send "name"`},
		{"POST", fmt.Sprintf("/api/admin/users/%d/password", id), `{"password":"abc"}`, "bad_request", "password: "},
		{"POST", fmt.Sprintf("/api/admin/users/%d/deactivate", ada), ``, "conflict", "You cannot deactivate your own account"},
	} {
		code, body := call(t, c.method, s.base+c.path, admin, c.body)
		var e struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal([]byte(body), &e) //nolint:errcheck
		if e.Error.Code != c.code || !strings.HasPrefix(e.Error.Message, c.prefix) {
			t.Errorf("%s %s %s: %d %s, want %s starting %q", c.method, c.path, c.body, code, body, c.code, c.prefix)
		}
	}
}

// An admin edits an agent, sets a new password (the old one and the old
// session stop working) and deactivates it while it has a chat: every
// tab closes with 4001 and who did it, its session ends, it cannot sign
// in (told as a wrong password), it is offline, its chat goes back to its
// queue, and the chat still carries its name. Reactivated, it signs in.
func TestADeactivatedAgentIsSignedOutEverywhereAndItsChatGoesBack(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	ctx := ctxFor(t)
	admin := s.login(t, "ada")
	id, username := newAccount(t, s, admin, "agent", "Dina Draft")
	if code, body := call(t, "PATCH", fmt.Sprintf("%s/api/admin/users/%d", s.base, id), admin, `{"name":"Dina Agent"}`); code != http.StatusOK ||
		!strings.Contains(body, `"name":"Dina Agent"`) || !strings.Contains(body, `"active":true`) {
		t.Fatalf("edit the name: %d %s", code, body)
	}
	oldToken := s.login(t, username)
	if code, body := call(t, "POST", fmt.Sprintf("%s/api/admin/users/%d/password", s.base, id), admin, `{"password":"new-secret"}`); code != http.StatusNoContent {
		t.Fatalf("set the password: %d %s", code, body)
	}
	if code, _ := call(t, "GET", s.base+"/api/me", oldToken, ""); code != http.StatusUnauthorized {
		t.Fatalf("the session from before the new password: %d", code)
	}
	if resp, body := post(t, s.base+"/api/login", fmt.Sprintf(`{"username":%q,"password":"demo"}`, username)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old password: %d %s", resp.StatusCode, body)
	}
	signIn := func() (int, string) {
		resp, body := post(t, s.base+"/api/login", fmt.Sprintf(`{"username":%q,"password":"new-secret"}`, username))
		return resp.StatusCode, string(body)
	}
	code, body := signIn()
	if code != http.StatusOK {
		t.Fatalf("sign in with the new password: %d %s", code, body)
	}
	var sess struct{ Token string }
	json.Unmarshal([]byte(body), &sess) //nolint:errcheck

	// Dina is the queue's only agent online, and takes a chat.
	if _, err := s.db.Exec(ctx, `INSERT INTO queue_members SELECT q.id, $2 FROM queues q WHERE q.key = $1`, s.queue, id); err != nil {
		t.Fatal(err)
	}
	tabs := make([]*client.Client, 2)
	for i := range tabs {
		c, _, err := client.Connect(ctx, s.ws(), client.Options{Token: sess.Token})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		tabs[i] = c
	}
	request(t, tabs[0], "agent.status", map[string]any{"status": "available"}, nil)
	// An old chat she closed, then one she has when she is deactivated.
	old := startChat(t, s.customer(t, s.visitorToken(t, "")), "Oskar")
	waitEvent(t, tabs[0], "chat.offer", offerOf(old.ID))
	request(t, tabs[0], "chat.accept", map[string]any{"conversation_id": old.ID}, nil)
	request(t, tabs[0], "chat.send", map[string]any{"conversation_id": old.ID, "client_id": "d0", "text": "Dina here"}, nil)
	request(t, tabs[0], "chat.close", map[string]any{"conversation_id": old.ID, "status": "Resolved"}, nil)
	cust := s.customer(t, s.visitorToken(t, ""))
	chat := startChat(t, cust, "Olga")
	waitEvent(t, tabs[0], "chat.offer", offerOf(chat.ID))
	request(t, tabs[0], "chat.accept", map[string]any{"conversation_id": chat.ID}, nil)

	code, body = call(t, "POST", fmt.Sprintf("%s/api/admin/users/%d/deactivate", s.base, id), admin, "")
	if code != http.StatusOK || !strings.Contains(body, `"active":false`) || !strings.Contains(body, `"deactivated_at":"`) {
		t.Fatalf("deactivate: %d %s", code, body)
	}
	for _, c := range tabs {
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatal("a tab of the deactivated agent is still open")
		}
		if ce := c.CloseError(); ce == nil || ce.Code != 4001 || ce.Text != "Ada Admin deactivated your account" {
			t.Fatalf("the tab closed with %v", ce)
		}
	}
	if code, _ := call(t, "GET", s.base+"/api/me", sess.Token, ""); code != http.StatusUnauthorized {
		t.Fatalf("the deactivated agent's session: %d", code)
	}
	if code, body := signIn(); code != http.StatusUnauthorized || !strings.Contains(body, `"invalid_credentials"`) {
		t.Fatalf("a deactivated agent signs in: %d %s", code, body)
	}
	var status string
	if err := s.db.QueryRow(ctx, `SELECT status FROM agent_status WHERE user_id = $1`, id).Scan(&status); err != nil || status != "offline" {
		t.Fatalf("the deactivated agent's status %q %v", status, err)
	}
	waitEvent(t, cust, "chat.event", chatEvent(chat.ID, "transferred"))
	var state string
	if err := s.db.QueryRow(ctx, `SELECT state FROM conversations WHERE id = $1`, chat.ID).Scan(&state); err != nil || state != "queued" {
		t.Fatalf("the chat after the deactivation: %q %v", state, err)
	}
	// The old chat's history keeps her name: as its agent and as the
	// author of what she wrote.
	var h struct {
		Conversation conv    `json:"conversation"`
		Events       []event `json:"events"`
	}
	request(t, s.agent(t, "sam"), "history.get", map[string]any{"conversation_id": old.ID}, &h)
	named := h.Conversation.Agent != nil && h.Conversation.Agent.Name == "Dina Agent"
	wrote := false
	for _, ev := range h.Events {
		wrote = wrote || (ev.Text == "Dina here" && ev.Author.Name == "Dina Agent")
	}
	if !named || !wrote {
		t.Fatalf("the history lost the deactivated agent's name: %+v", h)
	}
	// Listed as deactivated; reactivated, she signs in again.
	if code, body := call(t, "GET", s.base+"/api/admin/users", admin, ""); code != http.StatusOK ||
		!strings.Contains(body, fmt.Sprintf(`"username":%q,"name":"Dina Agent","role":"agent","active":false`, username)) {
		t.Fatalf("the list: %d %s", code, body)
	}
	if code, body := call(t, "POST", fmt.Sprintf("%s/api/admin/users/%d/reactivate", s.base, id), admin, ""); code != http.StatusOK ||
		!strings.Contains(body, `"active":true`) || !strings.Contains(body, `"deactivated_at":null`) {
		t.Fatalf("reactivate: %d %s", code, body)
	}
	if code, body := signIn(); code != http.StatusOK {
		t.Fatalf("sign in after the reactivation: %d %s", code, body)
	}
}

// A role change closes the user's websockets with 4002, so that it
// reconnects with the new role: its session goes on.
func TestARoleChangeReconnectsTheUsersTabsWithTheNewRole(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	id, username := newAccount(t, s, admin, "supervisor", "Role Changer")
	token := s.login(t, username)
	c, hello, err := client.Connect(ctxFor(t), s.ws(), client.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if role := helloRole(hello); role != "supervisor" {
		t.Fatalf("hello %s", hello)
	}
	if code, body := call(t, "PATCH", fmt.Sprintf("%s/api/admin/users/%d", s.base, id), admin, `{"role":"agent"}`); code != http.StatusOK ||
		!strings.Contains(body, `"role":"agent"`) {
		t.Fatalf("demote: %d %s", code, body)
	}
	select {
	case <-c.Done():
	case <-ctxFor(t).Done():
		t.Fatal("the tab with the old role is still open")
	}
	if ce := c.CloseError(); ce == nil || ce.Code != 4002 {
		t.Fatalf("closed with %v", ce)
	}
	again, hello, err := client.Connect(ctxFor(t), s.ws(), client.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	if role := helloRole(hello); role != "agent" {
		t.Fatalf("the new hello %s", hello)
	}
}

func helloRole(hello json.RawMessage) string {
	var h struct{ Principal struct{ Role string } }
	json.Unmarshal(hello, &h) //nolint:errcheck
	return h.Principal.Role
}
