package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"parley/signaling/client"
)

// The waiting customer's place in line and estimated wait
// (chat.queue_position), and queue settings that change what the desk
// and the console show without a restart.

type queuePlace struct {
	ConversationID  int64 `json:"conversation_id"`
	Position        *int  `json:"position"`
	EstimateSeconds *int  `json:"estimate_seconds"`
}

// placeOf matches the chat.queue_position event telling chat id it is at
// place pos.
func placeOf(id int64, pos int) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var p queuePlace
		json.Unmarshal(d, &p) //nolint:errcheck
		return p.ConversationID == id && p.Position != nil && *p.Position == pos
	}
}

func askPlace(t *testing.T, c *client.Client, id int64) queuePlace {
	t.Helper()
	var p queuePlace
	request(t, c, "chat.queue_position", map[string]any{"conversation_id": id}, &p)
	return p
}

func TestWaitingCustomersAreToldTheirPlaceInOrderAndMoveUpLive(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	var custs []*client.Client
	var ids []int64
	for i, name := range []string{"Ann", "Ben", "Cat"} {
		c := s.customer(t, s.visitorToken(t, ""))
		id := startChat(t, c, name).ID
		custs, ids = append(custs, c), append(ids, id)
		if p := askPlace(t, c, id); p.Position == nil || *p.Position != i+1 || p.EstimateSeconds != nil {
			t.Fatalf("%s asks: place %v, estimate %v; want %d and none (no chat answered yet, nobody on duty)",
				name, p.Position, p.EstimateSeconds, i+1)
		}
	}
	waitEvent(t, custs[2], "chat.queue_position", placeOf(ids[2], 3)) // told when it was queued

	alice := s.agent(t, "alice")
	waitEvent(t, alice, "chat.offer", offerOf(ids[0]))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": ids[0]}, nil)
	raw := waitEvent(t, custs[1], "chat.queue_position", placeOf(ids[1], 1))
	waitEvent(t, custs[2], "chat.queue_position", placeOf(ids[2], 2))
	var p queuePlace
	json.Unmarshal(raw, &p) //nolint:errcheck
	if p.EstimateSeconds == nil || *p.EstimateSeconds < 1 {
		t.Fatalf("Ben, next with Alice on duty after a chat was answered: estimate %v, want a figure", p.EstimateSeconds)
	}
	if p := askPlace(t, custs[0], ids[0]); p.Position != nil {
		t.Fatalf("Ann's taken chat is at place %d, want none", *p.Position)
	}

	request(t, custs[1], "chat.close", map[string]any{"conversation_id": ids[1]}, nil)
	waitEvent(t, custs[2], "chat.queue_position", placeOf(ids[2], 1))

	// Only the chat's customer asks.
	if code := requestErr(t, custs[0], "chat.queue_position", map[string]any{"conversation_id": ids[2]}); code != "not_found" {
		t.Errorf("another customer's chat: %s, want not_found", code)
	}
	if code := requestErr(t, custs[2], "chat.queue_position", map[string]any{}); code != "bad_request" {
		t.Errorf("no conversation_id: %s, want bad_request", code)
	}
	for _, who := range []string{"bob", "sam", "ada"} {
		if code := requestErr(t, s.agent(t, who), "chat.queue_position", map[string]any{"conversation_id": ids[2]}); code != "forbidden" {
			t.Errorf("%s asks: %s, want forbidden", who, code)
		}
	}
}

// A chat taken through one node moves up the customers connected to
// every node: the node where it was taken tells them over the bus.
func TestCustomersOnEveryNodeMoveUpWhenAChatIsTakenOnAnother(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 2, "")
	var custs []*client.Client
	var ids []int64
	for i, name := range []string{"Ann", "Ben", "Cat"} {
		n := d.on(i % 2)
		c := n.customer(t, n.visitorToken(t, ""))
		custs, ids = append(custs, c), append(ids, startChat(t, c, name).ID)
	}
	if p := askPlace(t, custs[2], ids[2]); p.Position == nil || *p.Position != 3 {
		t.Fatalf("Cat, on node 0: place %v, want 3", p.Position)
	}
	alice := d.on(1).agent(t, "alice")
	waitEvent(t, alice, "chat.offer", offerOf(ids[0]))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": ids[0]}, nil)
	waitEvent(t, custs[1], "chat.queue_position", placeOf(ids[1], 1)) // node 1
	waitEvent(t, custs[2], "chat.queue_position", placeOf(ids[2], 2)) // node 0
}

// saveQueue saves the test queue through the admin API with settings
// (JSON members), keeping alice and bob its members.
func (s *chatServer) saveQueue(t *testing.T, admin, settings string) {
	t.Helper()
	body := `{"name":"Test","members":["alice","bob"]` + settings + `}`
	if code, resp := call(t, "PUT", s.base+"/api/admin/queues/"+s.queue, admin, body); code != http.StatusOK {
		t.Fatalf("save %s: %d %s", body, code, resp)
	}
}

// A saved answer_seconds is the deadline of the next offer, which the
// desk counts down; chat_time_limits reach the members' desks at once
// (queue.settings); service_level_seconds the supervisors' floor.
func TestSavedQueueSettingsChangeWhatTheDeskAndTheConsoleShowAtOnce(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	alice := s.agent(t, "alice")
	sam := s.agent(t, "sam")
	queue := s.queueID(t)
	request(t, sam, "supervisor.floor", nil, nil)

	for _, secs := range []int{30, 45} {
		s.saveQueue(t, admin, fmt.Sprintf(`,"answer_seconds":%d`, secs))
		cust := s.customer(t, s.visitorToken(t, ""))
		id := startChat(t, cust, "Vera").ID
		var offer struct {
			OfferedAt time.Time `json:"offered_at"`
			Deadline  time.Time `json:"deadline"`
		}
		json.Unmarshal(waitEvent(t, alice, "chat.offer", offerOf(id)), &offer) //nolint:errcheck
		if got := offer.Deadline.Sub(offer.OfferedAt); got < time.Duration(secs-1)*time.Second || got > time.Duration(secs)*time.Second {
			t.Fatalf("answer_seconds %d: the offer's deadline is %v after it was made", secs, got)
		}
		request(t, cust, "chat.close", map[string]any{"conversation_id": id}, nil)
	}

	s.saveQueue(t, admin, `,"chat_time_limits":[100,200],"service_level_seconds":33`)
	waitEvent(t, alice, "queue.settings", func(d json.RawMessage) bool {
		var e struct {
			Queue struct {
				ID             int64 `json:"id"`
				ChatTimeLimits []int `json:"chat_time_limits"`
			} `json:"queue"`
		}
		json.Unmarshal(d, &e) //nolint:errcheck
		return e.Queue.ID == queue && fmt.Sprint(e.Queue.ChatTimeLimits) == "[100 200]"
	})
	var state struct {
		Queues []struct {
			ID             int64 `json:"id"`
			ChatTimeLimits []int `json:"chat_time_limits"`
		} `json:"queues"`
	}
	request(t, alice, "agent.state", nil, &state)
	for _, q := range state.Queues {
		if q.ID == queue && fmt.Sprint(q.ChatTimeLimits) != "[100 200]" {
			t.Fatalf("agent.state after the save: chat_time_limits %v, want [100 200]", q.ChatTimeLimits)
		}
	}
	waitEvent(t, sam, "supervisor.floor", func(d json.RawMessage) bool {
		var f struct {
			Queues []struct {
				ID                  int64 `json:"id"`
				ServiceLevelSeconds int   `json:"service_level_seconds"`
				ChatTimeLimits      []int `json:"chat_time_limits"`
			} `json:"queues"`
		}
		json.Unmarshal(d, &f) //nolint:errcheck
		for _, q := range f.Queues {
			if q.ID == queue {
				return q.ServiceLevelSeconds == 33 && fmt.Sprint(q.ChatTimeLimits) == "[100 200]"
			}
		}
		return false
	})
}
