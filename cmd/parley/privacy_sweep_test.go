package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"parley/signaling/client"
)

// The sweep: every role and relation against every request that reads or
// follows a conversation or a queue, checking the answer and, afterwards,
// which live events still arrive. (room.join answers forbidden to those
// who are not in the conversation, as protocol.md says of rooms.)

// relation is one principal's relation to the conversation under test.
type relation struct {
	name  string
	c     *client.Client // nil: signed out
	token string
	// want: the answer of each request, "ok" or the error code (HTTP
	// status for the transcript).
	resume, history, send, typing, waiting, join string
	transcript                                   int
	// What arrives live afterwards: the public message, the private note,
	// a new chat waiting in the queue.
	public, private, entry bool
}

func (s *chatServer) ensureUser(t *testing.T, admin, username, role string) {
	t.Helper()
	code, body := call(t, "POST", s.base+"/api/admin/users", admin,
		`{"username":"`+username+`","name":"`+username+`","role":"`+role+`","password":"demo"}`)
	if code != http.StatusCreated && code != http.StatusConflict {
		t.Fatalf("create %s: %d %s", username, code, body)
	}
}

func (s *chatServer) member(t *testing.T, queue, username string) {
	t.Helper()
	if _, err := s.db.Exec(ctxFor(t), `INSERT INTO queue_members SELECT q.id, u.id FROM queues q, users u
		WHERE q.key = $1 AND u.username = $2 ON CONFLICT DO NOTHING`, queue, username); err != nil {
		t.Fatal(err)
	}
}

// answer is "ok" or the wire error code of a request.
func answer(t *testing.T, c *client.Client, typ string, data any) string {
	t.Helper()
	_, err := c.Request(ctxFor(t), typ, data)
	if err == nil {
		return "ok"
	}
	if e, ok := err.(*client.Error); ok {
		return e.Code
	}
	t.Fatalf("%s: %v", typ, err)
	return ""
}

func TestEveryRoleAndRelationSeesOnlyWhatItMayAndNothingAfterAccessEnds(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "strategy = 'ring_all'")
	ada := s.login(t, "ada")
	for _, u := range []string{"carol", "dave", "erin"} {
		s.ensureUser(t, ada, u, "agent")
	}
	s.member(t, s.queue, "carol")
	s.member(t, s.queue, "erin")
	other := s.addQueue(t, "", "dave")
	// One sign-in each (sign-ins are rate limited per address).
	tokens := map[string]string{"ada": ada}
	conns := map[string]*client.Client{}
	for _, u := range []string{"carol", "dave", "erin", "alice", "bob", "sam", "ada"} {
		if tokens[u] == "" {
			tokens[u] = s.login(t, u)
		}
		conns[u] = s.customer(t, tokens[u]) // connects with the token, whatever it is
	}
	for _, u := range []string{"carol", "dave", "erin"} {
		request(t, conns[u], "agent.status", map[string]any{"status": "paused", "reason": "sweep"}, nil)
	}
	alice, bob := conns["alice"], conns["bob"]
	custToken := s.visitorToken(t, "")
	cust := s.customer(t, custToken)
	c := startChat(t, cust, "Sally")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	waitEvent(t, bob, "chat.offer", offerOf(c.ID))
	// Offered: both may read it.
	for _, a := range []*client.Client{alice, bob} {
		if got := answer(t, a, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}); got != "ok" {
			t.Fatalf("an offered agent resumes: %s", got)
		}
	}
	request(t, alice, "chat.reject", map[string]any{"conversation_id": c.ID}, nil)
	waitEvent(t, alice, "chat.access_ended", nil)
	request(t, bob, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	var convRoom struct{ Room roomInfo }
	request(t, bob, "room.create", map[string]any{"conversation_id": c.ID, "media": "audio"}, &convRoom)

	// A visitor of another conversation, in another queue.
	otherToken := s.visitorTokenFor(t, other)
	otherCust := s.customer(t, otherToken)
	startChat(t, otherCust, "Olga")

	// A guest of a conference room.
	var conf struct{ Room roomInfo }
	request(t, bob, "room.create", map[string]any{"name": "Sweep"}, &conf)
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	guest := s.customer(t, g.Token)

	// A signed-out session: its socket is closed, its token refused.
	erinToken := tokens["erin"]
	erin := conns["erin"]
	if code, body := call(t, "POST", s.base+"/api/logout", erinToken, ""); code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", code, body)
	}
	select {
	case <-erin.Done():
	case <-ctxFor(t).Done():
		t.Fatal("a signed-out session's websocket stays open")
	}

	sam, adaC := conns["sam"], conns["ada"]
	tok := func(u string) string { return tokens[u] }
	rels := []relation{
		{"customer of the conversation", cust, custToken, "ok", "forbidden", "ok", "ok", "forbidden", "ok", 200, true, false, false},
		{"visitor of another conversation", otherCust, otherToken, "not_found", "forbidden", "not_found", "not_found", "forbidden", "forbidden", 404, false, false, false},
		{"agent of the conversation", bob, tok("bob"), "ok", "ok", "ok", "ok", "ok", "ok", 200, true, true, true},
		{"agent who rejected it", alice, tok("alice"), "not_found", "not_found", "not_found", "not_found", "ok", "forbidden", 404, false, false, true},
		{"agent of the queue", conns["carol"], tok("carol"), "not_found", "not_found", "not_found", "not_found", "ok", "forbidden", 404, false, false, true},
		{"agent of another queue", conns["dave"], tok("dave"), "not_found", "not_found", "not_found", "not_found", "ok", "forbidden", 404, false, false, false},
		{"supervisor", sam, tok("sam"), "ok", "ok", "ok", "ok", "ok", "ok", 200, true, true, true},
		{"admin", adaC, ada, "ok", "ok", "ok", "ok", "ok", "ok", 200, true, true, true},
		{"guest", guest, g.Token, "forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden", 404, false, false, false},
		{"signed-out session", nil, erinToken, "", "", "", "", "", "", 401, false, false, false},
	}
	for i, r := range rels {
		code, body := call(t, "GET", fmt.Sprintf("%s/api/conversations/%d/transcript", s.base, c.ID), r.token, "")
		if code != r.transcript {
			t.Errorf("%s: transcript %d, want %d (%s)", r.name, code, r.transcript, body)
		}
		if r.c == nil {
			continue
		}
		got := []string{
			answer(t, r.c, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}),
			answer(t, r.c, "chat.history", map[string]any{"conversation_id": c.ID}),
			answer(t, r.c, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": fmt.Sprint("sweep-", i), "text": "sweep"}),
			answer(t, r.c, "chat.typing", map[string]any{"conversation_id": c.ID, "typing": false}),
			answer(t, r.c, "queue.waiting", nil),
			answer(t, r.c, "room.join", map[string]any{"room_id": convRoom.Room.ID, "receive_only": true}),
		}
		if got[5] == "ok" {
			request(t, r.c, "room.leave", map[string]any{"room_id": convRoom.Room.ID}, nil)
		}
		want := []string{r.resume, r.history, r.send, r.typing, r.waiting, r.join}
		names := []string{"chat.resume", "chat.history", "chat.send", "chat.typing", "queue.waiting", "room.join"}
		for k := range got {
			if got[k] != want[k] {
				t.Errorf("%s: %s answered %s, want %s", r.name, names[k], got[k], want[k])
			}
		}
	}

	// Then: a private note, a public message, a new chat in the queue. A
	// watcher of its own says when they have all gone out.
	watcher := s.customer(t, tokens["sam"])
	request(t, watcher, "queue.waiting", nil, nil)
	for _, r := range rels {
		if r.c != nil {
			settle(t, r.c)
		}
	}
	send(t, bob, c.ID, "sweep-note", "sweep private note", true)
	send(t, cust, c.ID, "sweep-last", "sweep public message", false)
	late := s.customer(t, s.visitorToken(t, ""))
	startChat(t, late, "Lastly")
	waitEvent(t, watcher, "queue.entry", func(d json.RawMessage) bool { return strings.Contains(string(d), "Lastly") })
	for _, r := range rels {
		if r.c == nil {
			continue
		}
		var public, private, entry bool
		for _, ev := range settle(t, r.c) {
			d := string(ev.Data)
			switch {
			case ev.Type == "chat.event" && strings.Contains(d, "sweep public message"):
				public = true
			case ev.Type == "chat.event" && strings.Contains(d, "sweep private note"):
				private = true
			case ev.Type == "queue.entry" && strings.Contains(d, "Lastly"):
				entry = true
			}
		}
		if public != r.public || private != r.private || entry != r.entry {
			t.Errorf("%s received public %v, private %v, queue entry %v; want %v, %v, %v",
				r.name, public, private, entry, r.public, r.private, r.entry)
		}
	}
}
