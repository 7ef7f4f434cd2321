package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// Point 3: a typed e-mail joins nothing; the same visitor's earlier chats
// are joined within the agent's queues, their private rows only for whom
// may read them.
func TestHistoryJoinsOnlyTheSameVisitorWithinTheReadersQueues(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	other := s.addQueue(t, "", "bob")
	bob := s.agent(t, "bob")

	// A customer of the other queue, with the e-mail the next one types.
	custB := s.customer(t, s.visitorTokenFor(t, other))
	var b withEvents
	request(t, custB, "chat.start", map[string]any{"name": "Vera", "email": "Vera@Example.com"}, &b)
	waitEvent(t, bob, "chat.offer", offerOf(b.Conversation.ID))
	request(t, bob, "chat.accept", map[string]any{"conversation_id": b.Conversation.ID}, nil)
	send(t, bob, b.Conversation.ID, "b1", "other-queue secret", true)
	request(t, bob, "chat.close", map[string]any{"conversation_id": b.Conversation.ID}, nil)

	// The same visitor's first chat in this queue, taken by bob.
	tokenA := s.visitorToken(t, "")
	custA := s.customer(t, tokenA)
	a1 := startChat(t, custA, "Vera")
	waitEvent(t, bob, "chat.offer", offerOf(a1.ID))
	request(t, bob, "chat.accept", map[string]any{"conversation_id": a1.ID}, nil)
	send(t, bob, a1.ID, "a1p", "bob's own note", true)
	send(t, bob, a1.ID, "a1", "bob's public answer", false)
	request(t, bob, "chat.close", map[string]any{"conversation_id": a1.ID, "status": "Resolved"}, nil)
	request(t, bob, "agent.status", map[string]any{"status": "paused", "reason": "test"}, nil)

	// Its second chat, typing the other customer's e-mail, goes to alice.
	alice := s.agent(t, "alice")
	var a2 withEvents
	request(t, custA, "chat.start", map[string]any{"name": "Vera", "email": "vera@example.com"}, &a2)
	waitEvent(t, alice, "chat.offer", offerOf(a2.Conversation.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": a2.Conversation.ID}, nil)

	raw, err := alice.Request(ctxFor(t), "chat.history", map[string]any{"conversation_id": a2.Conversation.ID})
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Conversations []withEvents `json:"conversations"`
	}
	json.Unmarshal(raw, &h) //nolint:errcheck
	if len(h.Conversations) != 1 || h.Conversations[0].Conversation.ID != a1.ID {
		t.Fatalf("alice's history: %s; want only conversation %d", raw, a1.ID)
	}
	if strings.Contains(string(raw), "other-queue secret") || !strings.Contains(string(raw), "bob's public answer") ||
		strings.Contains(string(raw), "bob's own note") {
		t.Fatalf("alice's history shows the wrong rows: %s", raw)
	}
	// A supervisor reads every queue's private rows, still joined on the visitor only.
	sam := s.agent(t, "sam")
	raw, err = sam.Request(ctxFor(t), "chat.history", map[string]any{"conversation_id": a2.Conversation.ID})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "other-queue secret") || !strings.Contains(string(raw), "bob's own note") {
		t.Fatalf("the supervisor's history: %s", raw)
	}
}
