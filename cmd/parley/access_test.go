package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"parley/signaling/client"
)

// Point 4: an agent who rejects an offer it had opened stops receiving the
// conversation's events at once.
func TestARejectedOfferEndsTheAgentsSubscription(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "strategy = 'ring_all'")
	alice := s.agent(t, "alice")
	bob := s.agent(t, "bob")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Rita")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	waitEvent(t, bob, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, nil)
	request(t, alice, "chat.reject", map[string]any{"conversation_id": c.ID}, nil)
	waitEvent(t, alice, "chat.access_ended", func(d json.RawMessage) bool {
		return strings.Contains(string(d), fmt.Sprintf(`"conversation_id":%d`, c.ID)) && strings.Contains(string(d), `"rejected"`)
	})
	request(t, bob, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	send(t, bob, c.ID, "b1", "note after the reject", true)
	send(t, cust, c.ID, "c1", "customer after the reject", false)
	waitEvent(t, bob, "chat.event", func(d json.RawMessage) bool { return strings.Contains(string(d), "customer after the reject") })
	noEventAbout(t, alice, "alice", "chat.event", "after the reject")
	if code := requestErr(t, alice, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}); code != "not_found" {
		t.Fatalf("alice resumes after rejecting: %s, want not_found", code)
	}
}

// Point 4: an agent removed from a queue stops receiving its waiting list.
func TestRemovalFromAQueueEndsItsWaitingList(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	request(t, alice, "queue.waiting", nil, nil)
	ada := s.login(t, "ada")
	code, body := call(t, "PUT", s.base+"/api/admin/queues/"+s.queue, ada,
		`{"key":"`+s.queue+`","name":"Test","statuses":["Resolved","Spam"],"members":["bob"]}`)
	if code != http.StatusOK {
		t.Fatalf("save queue: %d %s", code, body)
	}
	waitEvent(t, alice, "queue.access_ended", nil)
	bob := s.agent(t, "bob")
	request(t, bob, "queue.waiting", nil, nil)
	request(t, bob, "agent.status", map[string]any{"status": "paused", "reason": "test"}, nil)
	cust := s.customer(t, s.visitorToken(t, ""))
	startChat(t, cust, "Wendy")
	waitEvent(t, bob, "queue.entry", func(d json.RawMessage) bool { return strings.Contains(string(d), "Wendy") })
	noEventAbout(t, alice, "alice", "queue.entry", "Wendy")
}

// Point 4: signing out closes the user's websockets with 4001.
func TestSigningOutClosesTheUsersWebsockets(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	token := s.login(t, "alice")
	c, _, err := client.Connect(ctxFor(t), s.ws(), client.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if code, body := call(t, "POST", s.base+"/api/logout", token, ""); code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", code, body)
	}
	select {
	case <-c.Done():
	case <-ctxFor(t).Done():
		t.Fatal("the websocket is still open after logout")
	}
	if ce := c.CloseError(); ce == nil || ce.Code != 4001 || ce.Text != "signed out" {
		t.Fatalf("close after logout: %v, want 4001 signed out", ce)
	}
}

// Point 4, every way an offer ends: the agent who lost it is told, stops
// receiving the conversation's events and may no longer resume it.
func TestEveryWayAnOfferEndsEndsTheAgentsSubscription(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason   string
		settings string
		end      func(t *testing.T, s *chatServer, alice, bob, cust *client.Client, id int64)
	}{
		{"timeout", "answer_seconds = 1", func(t *testing.T, s *chatServer, alice, bob, cust *client.Client, id int64) {}},
		{"taken", "strategy = 'ring_all'", func(t *testing.T, s *chatServer, alice, bob, cust *client.Client, id int64) {
			request(t, bob, "chat.accept", map[string]any{"conversation_id": id}, nil)
		}},
		{"closed", "", func(t *testing.T, s *chatServer, alice, bob, cust *client.Client, id int64) {
			request(t, cust, "chat.close", map[string]any{"conversation_id": id}, nil)
		}},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			s := newChatServer(t, tc.settings)
			alice := s.agent(t, "alice")
			var bob *client.Client
			if tc.reason == "taken" {
				bob = s.agent(t, "bob")
			}
			cust := s.customer(t, s.visitorToken(t, ""))
			c := startChat(t, cust, "Tess")
			waitEvent(t, alice, "chat.offer", offerOf(c.ID))
			if bob != nil {
				waitEvent(t, bob, "chat.offer", offerOf(c.ID))
			}
			request(t, alice, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, nil)
			tc.end(t, s, alice, bob, cust, c.ID)
			waitEvent(t, alice, "chat.access_ended", func(d json.RawMessage) bool {
				return strings.Contains(string(d), fmt.Sprintf(`"conversation_id":%d`, c.ID)) &&
					strings.Contains(string(d), `"reason":"`+tc.reason+`"`)
			})
			if bob != nil {
				send(t, bob, c.ID, "b1", "after the offer ended", true)
				send(t, cust, c.ID, "c1", "customer after the offer ended", false)
				waitEvent(t, bob, "chat.event", func(d json.RawMessage) bool {
					return strings.Contains(string(d), "customer after the offer ended")
				})
				noEventAbout(t, alice, "alice", "chat.event", "after the offer ended")
			}
			if code := requestErr(t, alice, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}); code != "not_found" {
				t.Fatalf("alice resumes after the offer ended: %s, want not_found", code)
			}
		})
	}
}
