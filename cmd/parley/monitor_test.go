package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/signaling/client"
)

// Screen monitoring (docs/protocol.md, "Screen monitoring"), through the
// public protocol: a supervisor asks, the agent's tabs are asked, the
// first to answer shares the screen in a room only that supervisor
// watches, with real Pion peers over the SFU.

type monitorAsked struct {
	RequestID int64 `json:"request_id"`
	Agent     struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"agent"`
}

type monitorAnswered struct {
	RequestID int64     `json:"request_id"`
	Room      *roomInfo `json:"room"`
}

// monitorEvent matches a monitor.* event of request id.
func monitorEvent(id int64) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var ev struct {
			RequestID int64 `json:"request_id"`
		}
		return json.Unmarshal(d, &ev) == nil && ev.RequestID == id
	}
}

// monitorReset ends whatever earlier tests left of screen monitoring.
func monitorReset(t *testing.T, s *chatServer) {
	t.Helper()
	if _, err := s.db.Exec(context.Background(), `UPDATE monitors SET state = 'ended', ended_at = now() WHERE state <> 'ended'`); err != nil {
		t.Fatal(err)
	}
}

func userID(t *testing.T, s *chatServer, username string) int64 {
	t.Helper()
	var id int64
	if err := s.db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// Who may ask to see whose screen, answer and stop, as a table of roles
// and requests: only supervisors and admins ask, for an agent of their
// queues who is connected, one request at a time; only the agent asked
// answers; only the two stop it.
func TestScreenMonitoringRolesAndScope(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	monitorReset(t, s)
	ctx := context.Background()
	// Sue supervises only a queue alice is not in.
	sue := fmt.Sprintf("sue-%d", time.Now().UnixNano()%1e9)
	if _, err := s.db.Exec(ctx, `INSERT INTO users (username, display_name, role, password_hash)
		SELECT $1, 'Sue Scoped', 'supervisor', password_hash FROM users WHERE username = 'sam'`, sue); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO queues (key, name) VALUES ($1, 'Elsewhere')`, sue); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO supervisor_queues SELECT u.id, q.id FROM users u, queues q
		WHERE u.username = $1 AND q.key = $1`, sue); err != nil {
		t.Fatal(err)
	}
	alice, sam, ada := s.agent(t, "alice"), s.agent(t, "sam"), s.agent(t, "ada")
	bobClient := s.agent(t, "bob") // bob asks; then he disconnects
	sueClient := s.agent(t, sue)
	cust := s.customer(t, s.visitorToken(t, ""))
	aliceID, bobID, samID, adaID := userID(t, s, "alice"), userID(t, s, "bob"), userID(t, s, "sam"), userID(t, s, "ada")

	for _, tc := range []struct {
		who  string
		c    *client.Client
		data map[string]any
		want string
	}{
		{"an agent", bobClient, map[string]any{"user_id": aliceID}, "forbidden"},
		{"a customer", cust, map[string]any{"user_id": aliceID}, "forbidden"},
		{"a supervisor outside its queues", sueClient, map[string]any{"user_id": aliceID}, "not_found"},
		{"no such user", sam, map[string]any{"user_id": 1 << 40}, "not_found"},
		{"a supervisor is no agent", ada, map[string]any{"user_id": samID}, "not_found"},
		{"an admin is no agent", sam, map[string]any{"user_id": adaID}, "not_found"},
		{"no user_id", sam, map[string]any{}, "bad_request"},
	} {
		if got := requestErr(t, tc.c, "monitor.request", tc.data); got != tc.want {
			t.Errorf("monitor.request by %s: %s, want %s", tc.who, got, tc.want)
		}
	}
	// bob, an agent of sam's, is not connected.
	request(t, sam, "staff.directory", nil, nil)
	bobClient.Close()
	waitEvent(t, sam, "staff.presence", userOnline(bobID, false))
	if got := requestErr(t, sam, "monitor.request", map[string]any{"user_id": bobID}); got != "conflict" {
		t.Errorf("monitor.request for an agent not connected: %s, want conflict", got)
	}

	// An admin asks for alice; a second request meanwhile is a conflict.
	var asked monitorAsked
	request(t, ada, "monitor.request", map[string]any{"user_id": aliceID}, &asked)
	if asked.RequestID == 0 || asked.Agent.ID != aliceID || asked.Agent.Name != "Alice Agent" {
		t.Fatalf("asked %+v", asked)
	}
	waitEvent(t, alice, "monitor.asked", monitorEvent(asked.RequestID))
	if got := requestErr(t, sam, "monitor.request", map[string]any{"user_id": aliceID}); got != "conflict" {
		t.Errorf("a second request for alice: %s, want conflict", got)
	}

	id := asked.RequestID
	for _, tc := range []struct {
		who, typ string
		c        *client.Client
		data     map[string]any
		want     string
	}{
		{"a customer", "monitor.answer", cust, map[string]any{"request_id": id, "accept": true}, "forbidden"},
		{"the supervisor", "monitor.answer", ada, map[string]any{"request_id": id, "accept": true}, "forbidden"},
		{"another supervisor", "monitor.answer", sam, map[string]any{"request_id": id, "accept": true}, "not_found"},
		{"no such request", "monitor.answer", alice, map[string]any{"request_id": 1 << 40, "accept": true}, "not_found"},
		{"no accept", "monitor.answer", alice, map[string]any{"request_id": id}, "bad_request"},
		{"no request_id", "monitor.answer", alice, map[string]any{"accept": true}, "bad_request"},
		{"a customer", "monitor.stop", cust, map[string]any{"request_id": id}, "forbidden"},
		{"another supervisor", "monitor.stop", sam, map[string]any{"request_id": id}, "not_found"},
		{"no request_id", "monitor.stop", ada, map[string]any{}, "bad_request"},
	} {
		if got := requestErr(t, tc.c, tc.typ, tc.data); got != tc.want {
			t.Errorf("%s by %s: %s, want %s", tc.typ, tc.who, got, tc.want)
		}
	}

	// Declined: both are told, and answering again is a conflict.
	var answered monitorAnswered
	request(t, alice, "monitor.answer", map[string]any{"request_id": id, "accept": false}, &answered)
	if answered.Room != nil {
		t.Fatalf("a decline answered a room: %+v", answered)
	}
	ended := waitEvent(t, ada, "monitor.ended", monitorEvent(id))
	if !strings.Contains(string(ended), `"reason":"declined"`) || !strings.Contains(string(ended), "Alice Agent") {
		t.Errorf("monitor.ended: %s", ended)
	}
	waitEvent(t, alice, "monitor.ended", monitorEvent(id))
	if got := requestErr(t, alice, "monitor.answer", map[string]any{"request_id": id, "accept": true}); got != "conflict" {
		t.Errorf("answering a declined request: %s, want conflict", got)
	}
	if got := requestErr(t, ada, "monitor.stop", map[string]any{"request_id": id}); got != "conflict" {
		t.Errorf("stopping a declined request: %s, want conflict", got)
	}

	// The supervisor withdraws a request before the answer.
	request(t, sam, "monitor.request", map[string]any{"user_id": aliceID}, &asked)
	request(t, sam, "monitor.stop", map[string]any{"request_id": asked.RequestID}, nil)
	waitEvent(t, alice, "monitor.ended", monitorEvent(asked.RequestID))
	// A request ends when the connection that asked does.
	request(t, sam, "monitor.request", map[string]any{"user_id": aliceID}, &asked)
	waitEvent(t, alice, "monitor.asked", monitorEvent(asked.RequestID))
	sam.Close()
	ended = waitEvent(t, alice, "monitor.ended", monitorEvent(asked.RequestID))
	if !strings.Contains(string(ended), `"reason":"disconnected"`) {
		t.Errorf("monitor.ended when the supervisor left: %s", ended)
	}
}

// A supervisor sees an agent's screen after the agent consents, over the
// SFU, receive-only, in a room nobody else may enter; either stops it, and
// it stops when the agent's sharing tab goes.
func TestScreenMonitoringShowsTheAgentsScreenToTheSupervisor(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	monitorReset(t, s)
	alice1, alice2, sam, bob := s.agent(t, "alice"), s.agent(t, "alice"), s.agent(t, "sam"), s.agent(t, "bob")
	aliceID := userID(t, s, "alice")

	var asked monitorAsked
	request(t, sam, "monitor.request", map[string]any{"user_id": aliceID}, &asked)
	id := asked.RequestID
	for _, c := range []*client.Client{alice1, alice2} {
		got := waitEvent(t, c, "monitor.asked", monitorEvent(id))
		if !strings.Contains(string(got), `"name":"Sam Supervisor"`) {
			t.Fatalf("monitor.asked: %s", got)
		}
	}
	// The first tab to answer shares; the other is too late.
	var answered monitorAnswered
	request(t, alice1, "monitor.answer", map[string]any{"request_id": id, "accept": true}, &answered)
	if answered.Room == nil || answered.Room.Kind != "monitor" {
		t.Fatalf("answered %+v", answered)
	}
	room := answered.Room.ID
	if got := requestErr(t, alice2, "monitor.answer", map[string]any{"request_id": id, "accept": true}); got != "conflict" {
		t.Fatalf("the second tab's answer: %s, want conflict", got)
	}
	for _, c := range []*client.Client{alice1, alice2, sam} {
		got := waitEvent(t, c, "monitor.started", monitorEvent(id))
		if !strings.Contains(string(got), room) {
			t.Fatalf("monitor.started: %s, want room %s", got, room)
		}
	}

	// Nobody else comes in; the room is not there for them.
	if code := requestErr(t, bob, "room.join", map[string]any{"room_id": room}); code != "forbidden" {
		t.Fatalf("another agent joining: %s", code)
	}
	if code := requestErr(t, bob, "room.get", map[string]any{"room_id": room}); code != "not_found" {
		t.Fatalf("another agent reading the room: %s", code)
	}

	ap, aj := enter(t, alice1, room, nil)
	if aj.ReceiveOnly || !aj.MayEnd {
		t.Fatalf("the agent joined %+v", aj)
	}
	ap.publish(t, "screen")
	sp, sj := enter(t, sam, room, map[string]any{"receive_only": false})
	if !sj.ReceiveOnly {
		t.Fatal("the supervisor joined able to publish")
	}
	sp.waitReceiving(t, aj.ParticipantID)
	if code := requestErr(t, sam, "rtc.offer", map[string]any{"room_id": room, "sdp": "v=0"}); code != "forbidden" {
		t.Fatalf("the supervisor publishing: %s", code)
	}

	// The supervisor stops: the agent is told, the room ends.
	request(t, sam, "monitor.stop", map[string]any{"request_id": id}, nil)
	ended := waitEvent(t, alice2, "monitor.ended", monitorEvent(id))
	if !strings.Contains(string(ended), `"reason":"stopped"`) || !strings.Contains(string(ended), "Sam Supervisor") {
		t.Fatalf("monitor.ended: %s", ended)
	}
	ap.waitAll(t, "room.ended")
	if code := requestErr(t, alice2, "room.join", map[string]any{"room_id": room}); code != "conflict" {
		t.Fatalf("joining the ended room: %s", code)
	}

	// Again, from another tab of each; this time the agent's sharing tab
	// goes away.
	sam2 := s.agent(t, "sam")
	request(t, sam2, "monitor.request", map[string]any{"user_id": aliceID}, &asked)
	waitEvent(t, alice2, "monitor.asked", monitorEvent(asked.RequestID))
	request(t, alice2, "monitor.answer", map[string]any{"request_id": asked.RequestID, "accept": true}, &answered)
	sp2, _ := enter(t, sam2, answered.Room.ID, nil)
	alice2.Close()
	got := sp2.waitAll(t, "monitor.ended", "room.ended")
	if !strings.Contains(string(got["monitor.ended"]), `"reason":"disconnected"`) {
		t.Fatalf("monitor.ended when the agent left: %s", got["monitor.ended"])
	}
}

// waitAll waits for one event of each type, in any order.
func (p *rtcPeer) waitAll(t *testing.T, types ...string) map[string]json.RawMessage {
	t.Helper()
	got := map[string]json.RawMessage{}
	deadline := time.After(15 * time.Second)
	for len(got) < len(types) {
		select {
		case ev, ok := <-p.events:
			if !ok {
				t.Fatalf("connection closed waiting for %v", types)
			}
			for _, typ := range types {
				if ev.Type == typ {
					got[typ] = ev.Data
				}
			}
		case <-deadline:
			t.Fatalf("waiting for %v, got only %v within 15s", types, got)
		}
	}
	return got
}

// A supervisor finds a chat's open room by its conversation (to watch it,
// receive-only and unseen by the customer); a stranger does not.
func TestASupervisorFindsAChatsRoomByItsConversation(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice, cust, c := activeChat(t, s)
	sam := s.agent(t, "sam")
	if code := requestErr(t, sam, "room.get", map[string]any{"conversation_id": c.ID}); code != "not_found" {
		t.Fatalf("room.get of a chat with no room: %s", code)
	}
	var created struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"conversation_id": c.ID}, &created)
	var found struct{ Room roomInfo }
	request(t, sam, "room.get", map[string]any{"conversation_id": c.ID}, &found)
	if found.Room.ID != created.Room.ID {
		t.Fatalf("found %+v, want %s", found.Room, created.Room.ID)
	}
	other := s.customer(t, s.visitorToken(t, ""))
	if code := requestErr(t, other, "room.get", map[string]any{"conversation_id": c.ID}); code != "not_found" {
		t.Fatalf("a stranger's room.get: %s", code)
	}
	if code := requestErr(t, s.agent(t, "bob"), "room.get", map[string]any{"conversation_id": c.ID}); code != "not_found" {
		t.Fatalf("another agent's room.get: %s", code)
	}
	var mine struct{ Room roomInfo }
	request(t, cust, "room.get", map[string]any{"conversation_id": c.ID}, &mine)
	if mine.Room.ID != created.Room.ID {
		t.Fatalf("the customer found %+v", mine.Room)
	}
}
