package signaling_test

import (
	"encoding/json"
	"testing"
	"time"

	"parley/auth"
	"parley/signaling"
	"parley/signaling/client"
)

// Who may send the contacts' requests, over the wire: customers and guests
// are forbidden every one, staff are answered (an ack, or the domain's
// answer to what they asked).
func TestContactRequestsAreForStaffOnly(t *testing.T) {
	f := newFullEnv(t, signaling.DefaultConfig())
	cust := f.customer(t)
	conv := startChat(t, cust)
	guestTok, _, err := f.auth.IssueGuest("room-1", "Gus", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	guest, _, err := client.Connect(ctxT(t), f.url, client.Options{Token: guestTok})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { guest.Close() })
	// The agent is of no queue of the chat's, so may not read it (the
	// queue's own agent may be offered it, and so read it).
	agent, super := f.connect(t, f.login(t, "other-"+t.Name(), auth.RoleAgent)), f.connect(t, f.super)

	var made struct {
		ID int64 `json:"id"`
	}
	raw, err := agent.Request(ctxT(t), "contact.create", map[string]any{"name": "Vera Visitor", "emails": []string{"vera@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, raw, &made)
	requests := []struct {
		typ  string
		data map[string]any
		// what the agent and the supervisor (of every queue) are
		// answered: "" an ack
		agent, super string
	}{
		{"contact.search", map[string]any{"query": "vera"}, "", ""},
		{"contact.get", map[string]any{"contact_id": made.ID}, "", ""},
		{"contact.create", map[string]any{"name": "Mia"}, "", ""},
		{"contact.update", map[string]any{"contact_id": made.ID, "phone": "+420 777 000 111"}, "", ""},
		{"chat.pair", map[string]any{"conversation_id": conv, "contact_id": made.ID}, signaling.CodeNotFound, ""},
		{"chat.unpair", map[string]any{"conversation_id": conv}, signaling.CodeNotFound, ""},
	}
	for _, r := range requests {
		for _, c := range []struct {
			who  string
			conn *client.Client
			want string
		}{
			{"a customer", cust, signaling.CodeForbidden},
			{"a guest", guest, signaling.CodeForbidden},
			{"an agent", agent, r.agent},
			{"a supervisor", super, r.super},
		} {
			_, err := c.conn.Request(ctxT(t), r.typ, r.data)
			got := ""
			if err != nil {
				got = wireCode(err)
			}
			if got != c.want {
				t.Errorf("%s by %s: %q (%v), want %q", r.typ, c.who, got, err, c.want)
			}
		}
	}
	// A bad field is a bad_request that names it.
	for _, r := range []struct {
		typ  string
		data string
	}{
		{"contact.get", `{}`},
		{"contact.update", `{"phone": "1"}`},
		{"contact.update", `{"contact_id": 1, "emails": "vera@example.com"}`},
		{"contact.create", `{"name": ""}`},
		{"contact.search", `{}`},
		{"chat.pair", `{"conversation_id": 1}`},
		{"chat.unpair", `{}`},
	} {
		_, err := agent.Request(ctxT(t), r.typ, json.RawMessage(r.data))
		if got := wireCode(err); got != signaling.CodeBadRequest {
			t.Errorf("%s %s: %q (%v), want bad_request", r.typ, r.data, got, err)
		}
	}
}
