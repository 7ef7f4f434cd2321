package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/signaling/client"
)

// floorOf is what these tests read of a supervisor.floor snapshot.
type floorOf struct {
	Queues []struct {
		ID             int64 `json:"id"`
		Waiting        int   `json:"waiting"`
		Answered       int   `json:"answered"`
		ChatTimeLimits []int `json:"chat_time_limits"`
	} `json:"queues"`
	Agents []struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Online bool   `json:"online"`
	} `json:"agents"`
}

func (f floorOf) waiting(queue int64) int {
	for _, q := range f.Queues {
		if q.ID == queue {
			return q.Waiting
		}
	}
	return -1
}

// requester is a connection of the protocol's client.
type requester interface {
	Request(ctx context.Context, typ string, data any) (json.RawMessage, error)
}

func (s *chatServer) queueID(t *testing.T) int64 {
	t.Helper()
	var id int64
	if err := s.db.QueryRow(context.Background(), `SELECT id FROM queues WHERE key = $1`, s.queue).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// Who may watch the floor, as a table of roles × requests: customers and
// agents are refused; supervisors and admins are answered. A user off the
// floor is not found; a day that is not a date is a bad request.
func TestTheFloorIsForSupervisorsAndAdmins(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	cust := s.customer(t, s.visitorToken(t, ""))
	var alice struct{ ID int64 }
	if err := s.db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'alice'`).Scan(&alice.ID); err != nil {
		t.Fatal(err)
	}
	requests := map[string]map[string]any{
		"supervisor.floor":  nil,
		"supervisor.closed": {"day": time.Now().UTC().Format(time.DateOnly)},
		"supervisor.agent":  {"user_id": alice.ID},
	}
	for _, who := range []struct {
		name string
		conn func() requester
		want string
	}{
		{"customer", func() requester { return cust }, "forbidden"},
		{"agent", func() requester { return s.agent(t, "bob") }, "forbidden"},
		{"supervisor", func() requester { return s.agent(t, "sam") }, ""},
		{"admin", func() requester { return s.agent(t, "ada") }, ""},
	} {
		c := who.conn()
		for typ, data := range requests {
			_, err := c.Request(ctxFor(t), typ, data)
			got := ""
			if e, ok := err.(*client.Error); ok {
				got = e.Code
				if e.Message != "only supervisors and admins see the floor" {
					t.Errorf("%s %s: %q", who.name, typ, e.Message)
				}
			} else if err != nil {
				got = err.Error()
			}
			if got != who.want {
				t.Errorf("%s %s: %q, want %q", who.name, typ, got, who.want)
			}
			// Refused before the data is looked at.
			if who.want != "" && typ != "supervisor.floor" {
				if code := requestErr(t, c.(*client.Client), typ, map[string]any{"day": 7, "user_id": "x"}); code != who.want {
					t.Errorf("%s %s with bad data: %s, want %s", who.name, typ, code, who.want)
				}
			}
		}
	}
	sam := s.agent(t, "sam")
	if code := requestErr(t, sam, "supervisor.agent", map[string]any{"user_id": 1 << 40}); code != "not_found" {
		t.Errorf("supervisor.agent of nobody: %s, want not_found", code)
	}
	if code := requestErr(t, sam, "supervisor.agent", map[string]any{}); code != "bad_request" {
		t.Errorf("supervisor.agent without user_id: %s, want bad_request", code)
	}
	if code := requestErr(t, sam, "supervisor.closed", map[string]any{"day": "yesterday"}); code != "bad_request" {
		t.Errorf("supervisor.closed of yesterday: %s, want bad_request", code)
	}
}

// An admin saves service_level_seconds and chat_time_limits through the
// admin API; bad ones are refused naming the field; omitted, they take
// their defaults.
func TestTheFloorsQueueSettingsAreSavedAndChecked(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	code, body := call(t, "PUT", s.base+"/api/admin/queues/floor-settings", admin,
		`{"name":"Floor","service_level_seconds":45,"chat_time_limits":[60,120,180]}`)
	if code != http.StatusOK || !strings.Contains(body, `"service_level_seconds":45`) ||
		!strings.Contains(body, `"chat_time_limits":[60,120,180]`) {
		t.Fatalf("save: %d %s", code, body)
	}
	code, body = call(t, "PUT", s.base+"/api/admin/queues/floor-defaults", admin, `{"name":"Defaults"}`)
	if code != http.StatusOK || !strings.Contains(body, `"service_level_seconds":20`) ||
		!strings.Contains(body, `"chat_time_limits":[300,600,900]`) {
		t.Fatalf("defaults: %d %s", code, body)
	}
	for name, settings := range map[string]string{
		"service_level_seconds 0 is the default; 3601 is too long": `{"name":"Q","service_level_seconds":3601}`,
		"one limit":        `{"name":"Q","chat_time_limits":[60]}`,
		"four limits":      `{"name":"Q","chat_time_limits":[1,2,3,4]}`,
		"not ascending":    `{"name":"Q","chat_time_limits":[120,60]}`,
		"a limit below 1s": `{"name":"Q","chat_time_limits":[0,60]}`,
	} {
		field := "chat_time_limits:"
		if strings.HasPrefix(name, "service") {
			field = "service_level_seconds:"
		}
		code, resp := call(t, "PUT", s.base+"/api/admin/queues/floor-checked", admin, settings)
		if code != http.StatusBadRequest || !strings.Contains(resp, `"bad_request"`) || !strings.Contains(resp, field) {
			t.Errorf("%s: %d %s", name, code, resp)
		}
	}
}

// An agent connecting to one node (told by the bus's staff.presence) and
// a chat started and accepted through it (told by that node's chat service
// on the bus's floor.changes) reach a supervisor watching through another
// node within the floor's second.
func TestAFloorChangeOnOneNodeReachesAWatcherOnAnother(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 2, "")
	queue := d.on(0).queueID(t)
	sam := d.on(1).agent(t, "sam")
	var snap floorOf
	request(t, sam, "supervisor.floor", nil, &snap)
	if snap.waiting(queue) != 0 {
		t.Fatalf("the new queue has %d waiting", snap.waiting(queue))
	}
	await := func(what string, ok func(floorOf) bool) {
		t.Helper()
		deadline := time.After(1500 * time.Millisecond)
		for {
			select {
			case ev, open := <-sam.Events():
				if !open {
					t.Fatal("sam's connection closed")
				}
				var f floorOf
				if ev.Type == "supervisor.floor" && json.Unmarshal(ev.Data, &f) == nil && ok(f) {
					return
				}
			case <-deadline:
				t.Fatalf("no supervisor.floor with %s within 1.5 s", what)
			}
		}
	}
	var alice int64
	if err := d.db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'alice'`).Scan(&alice); err != nil {
		t.Fatal(err)
	}
	aliceC := d.on(0).agent(t, "alice")
	await("alice connected", func(f floorOf) bool {
		for _, a := range f.Agents {
			if a.ID == alice {
				return a.Online
			}
		}
		return false
	})
	cust := d.on(0).customer(t, d.on(0).visitorToken(t, ""))
	c := startChat(t, cust, "Vera")
	await("the customer waiting", func(f floorOf) bool { return f.waiting(queue) == 1 })

	// No trigger tells the floors of an accept (migration 0027): node 0's
	// chat service does, on the bus (NATS between these processes).
	request(t, aliceC, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	await("the chat answered", func(f floorOf) bool {
		for _, q := range f.Queues {
			if q.ID == queue {
				return q.Waiting == 0 && q.Answered == 1
			}
		}
		return false
	})
}
