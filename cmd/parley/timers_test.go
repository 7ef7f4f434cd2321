package main

import (
	"testing"
	"time"

	"parley/signaling/client"
)

// The desk's timers and the important mark: the staff's Conversation
// carries important, first_response_at and awaiting_reply_since (the
// customer's never), and the chat's agents may mark it (chat.mark).

type timersConv struct {
	ID                 int64      `json:"id"`
	Important          bool       `json:"important"`
	AcceptedAt         *time.Time `json:"accepted_at"`
	FirstResponseAt    *time.Time `json:"first_response_at"`
	AwaitingReplySince *time.Time `json:"awaiting_reply_since"`
}

func resumed(t *testing.T, c *client.Client, id int64) timersConv {
	t.Helper()
	var out struct{ Conversation timersConv }
	request(t, c, "chat.resume", map[string]any{"conversation_id": id, "after_seq": 0}, &out)
	return out.Conversation
}

func TestTheConversationTellsStaffWhenTheAgentFirstAnsweredAndWhatAwaitsAReply(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "greeting = 'Hello from the queue'")
	c := resumed(t, tm.alice, tm.id)
	if c.AcceptedAt == nil || c.FirstResponseAt != nil || c.AwaitingReplySince != nil {
		t.Fatalf("accepted with the greeting only: %+v (the greeting is no response)", c)
	}
	request(t, tm.cust, "chat.send", tm.data("client_id", "c1", "text", "Anyone?"), nil)
	c = resumed(t, tm.alice, tm.id)
	if c.FirstResponseAt != nil || c.AwaitingReplySince == nil {
		t.Fatalf("after the customer wrote: %+v", c)
	}
	asked := *c.AwaitingReplySince
	request(t, tm.alice, "chat.send", tm.data("client_id", "p1", "text", "note", "private", true), nil)
	if c = resumed(t, tm.alice, tm.id); c.FirstResponseAt != nil || c.AwaitingReplySince == nil || !c.AwaitingReplySince.Equal(asked) {
		t.Fatalf("a private note is no answer: %+v", c)
	}
	request(t, tm.alice, "chat.send", tm.data("client_id", "a1", "text", "Yes!"), nil)
	c = resumed(t, tm.alice, tm.id)
	if c.FirstResponseAt == nil || c.AwaitingReplySince != nil || c.FirstResponseAt.Before(asked) {
		t.Fatalf("after the agent answered: %+v", c)
	}
	first := *c.FirstResponseAt
	request(t, tm.cust, "chat.send", tm.data("client_id", "c2", "text", "Thanks, and…"), nil)
	request(t, tm.alice, "chat.send", tm.data("client_id", "a2", "text", "Go on"), nil)
	request(t, tm.cust, "chat.send", tm.data("client_id", "c3", "text", "…one more thing"), nil)
	c = resumed(t, tm.alice, tm.id)
	if !c.FirstResponseAt.Equal(first) || c.AwaitingReplySince == nil || !c.AwaitingReplySince.After(first) {
		t.Fatalf("the first response stays, the reply waits for the last message: %+v", c)
	}
	if cc := resumed(t, tm.cust, tm.id); cc.FirstResponseAt != nil || cc.AwaitingReplySince != nil {
		t.Fatalf("the customer sees the timers: %+v", cc)
	}
}

func TestTheChatsAgentsSupervisorsAndAdminsMarkItImportant(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	sam, ada := tm.agent(t, "sam"), tm.agent(t, "ada")
	for _, r := range []struct {
		name string
		c    *client.Client
		want string
	}{
		{"its customer", tm.cust, "forbidden"},
		{"an agent of its queue, not of the chat", tm.bob, "not_found"},
		{"the chat's agent", tm.alice, "ok"},
		{"a supervisor", sam, "ok"},
		{"an admin", ada, "ok"},
	} {
		if got := answer(t, r.c, "chat.mark", tm.data("important", true)); got != r.want {
			t.Errorf("%s: chat.mark answers %s, want %s", r.name, got, r.want)
		}
	}
	if c := resumed(t, tm.alice, tm.id); !c.Important {
		t.Fatalf("the agent's conversation is not marked: %+v", c)
	}
	if c := resumed(t, tm.cust, tm.id); c.Important {
		t.Fatalf("the customer sees the mark: %+v", c)
	}
	request(t, tm.alice, "chat.mark", tm.data("important", false), nil)
	if c := resumed(t, sam, tm.id); c.Important {
		t.Fatalf("the agent cleared the mark, the supervisor still sees it: %+v", c)
	}
}
