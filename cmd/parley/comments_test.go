package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"parley/signaling/client"
)

// Comments on a chat (chat.comment) and their mentions (chat.mention,
// chat.mentions, chat.mention_read), through the public protocol.

type mention struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type commentAck struct {
	Seq       int       `json:"seq"`
	Duplicate bool      `json:"duplicate"`
	Mentions  []mention `json:"mentions"`
}

type mentionNote struct {
	ConversationID int64  `json:"conversation_id"`
	Seq            int    `json:"seq"`
	Customer       string `json:"customer"`
	Text           string `json:"text"`
	Author         struct {
		Name string `json:"name"`
	} `json:"author"`
}

func unreadMentions(t *testing.T, c *client.Client) []mentionNote {
	t.Helper()
	var out struct{ Mentions []mentionNote }
	request(t, c, "chat.mentions", nil, &out)
	return out.Mentions
}

// commentChat is an active chat of alice's with a connected customer, and
// the others who try to comment on it.
func commentChat(t *testing.T) (s *chatServer, alice, cust *client.Client, id int64) {
	t.Helper()
	s = newChatServer(t, "")
	alice = s.agent(t, "alice")
	cust = s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Vera")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	return s, alice, cust, c.ID
}

func TestWhoMayCommentAndReadMentions(t *testing.T) {
	t.Parallel()
	s, alice, cust, id := commentChat(t)
	bob, sam, ada := s.agent(t, "bob"), s.agent(t, "sam"), s.agent(t, "ada")
	var conf struct{ Room roomInfo }
	request(t, bob, "room.create", map[string]any{"name": "Comments"}, &conf)
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	guest := s.customer(t, g.Token)

	for i, r := range []struct {
		name                        string
		c                           *client.Client
		comment, mentions, markRead string
	}{
		{"the chat's agent", alice, "ok", "ok", "ok"},
		{"a supervisor", sam, "ok", "ok", "ok"},
		{"an admin", ada, "ok", "ok", "ok"},
		{"another agent", bob, "not_found", "ok", "ok"},
		{"the customer", cust, "forbidden", "forbidden", "forbidden"},
		{"a guest", guest, "forbidden", "forbidden", "forbidden"},
	} {
		got := [3]string{
			answer(t, r.c, "chat.comment", map[string]any{"conversation_id": id, "client_id": fmt.Sprint("role-", i), "text": "a comment"}),
			answer(t, r.c, "chat.mentions", nil),
			answer(t, r.c, "chat.mention_read", map[string]any{"conversation_id": id}),
		}
		if want := [3]string{r.comment, r.mentions, r.markRead}; got != want {
			t.Errorf("%s: chat.comment, chat.mentions, chat.mention_read answer %v, want %v", r.name, got, want)
		}
	}

	for _, bad := range []struct {
		data map[string]any
		code string
	}{
		{map[string]any{"client_id": "b1", "text": "x"}, "bad_request"},
		{map[string]any{"conversation_id": id, "text": "x"}, "bad_request"},
		{map[string]any{"conversation_id": id, "client_id": strings.Repeat("k", 65), "text": "x"}, "bad_request"},
		{map[string]any{"conversation_id": id, "client_id": "b2", "text": "   "}, "bad_request"},
		{map[string]any{"conversation_id": id, "client_id": "b3", "text": strings.Repeat("x", 4001)}, "too_long"},
		{map[string]any{"conversation_id": id, "client_id": "b4", "text": 7}, "bad_request"},
		{map[string]any{"conversation_id": 1 << 40, "client_id": "b5", "text": "x"}, "not_found"},
	} {
		if code := answer(t, sam, "chat.comment", bad.data); code != bad.code {
			t.Errorf("chat.comment %v: %s, want %s", bad.data, code, bad.code)
		}
	}
	for _, bad := range []map[string]any{{}, {"conversation_id": id, "seq": -1}} {
		if code := answer(t, sam, "chat.mention_read", bad); code != "bad_request" {
			t.Errorf("chat.mention_read %v: %s, want bad_request", bad, code)
		}
	}
	// A client_id its sender gave a message is not a comment's.
	send(t, alice, id, "same", "a message", false)
	if code := answer(t, alice, "chat.comment", map[string]any{"conversation_id": id, "client_id": "same", "text": "x"}); code != "conflict" {
		t.Errorf("a comment with a message's client_id: %s, want conflict", code)
	}
}

func TestACommentMentionsStaffWhoAreToldOnceAndKeepItUnread(t *testing.T) {
	t.Parallel()
	s, alice, cust, id := commentChat(t)
	bob, sam := s.agent(t, "bob"), s.agent(t, "sam")
	request(t, sam, "chat.resume", map[string]any{"conversation_id": id, "after_seq": 0}, nil)
	alice2 := s.agent(t, "alice") // another tab of alice's, not following the chat

	text := "@alice and @BOB, see bob@example.com; @nobody is no one, and @sam."
	var ack commentAck
	request(t, sam, "chat.comment", map[string]any{"conversation_id": id, "client_id": "k1", "text": text}, &ack)
	want := []string{"Alice Agent", "Bob Agent", "Sam Supervisor"}
	var names []string
	for _, m := range ack.Mentions {
		names = append(names, m.Name)
	}
	if ack.Duplicate || strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("the ack %+v, want mentions %v", ack, want)
	}

	// The chat's staff see the comment as a private event with its mentions.
	ev := waitEvent(t, alice, "chat.event", chatEvent(id, "comment"))
	if !strings.Contains(string(ev), `"private":true`) || !strings.Contains(string(ev), `"name":"Bob Agent"`) {
		t.Errorf("the comment event: %s", ev)
	}
	// Every tab of each one mentioned is told, following the chat or not;
	// the author is not.
	for _, who := range []struct {
		name string
		c    *client.Client
	}{{"alice", alice}, {"alice's other tab", alice2}, {"bob", bob}} {
		var n mentionNote
		json.Unmarshal(waitEvent(t, who.c, "chat.mention", nil), &n) //nolint:errcheck
		if n.ConversationID != id || n.Seq != ack.Seq || n.Customer != "Vera" || n.Text != text || n.Author.Name != "Sam Supervisor" {
			t.Errorf("%s was told %+v", who.name, n)
		}
	}
	noEventAbout(t, sam, "the author", "chat.mention", "")

	// A resend is the same comment, and tells nobody again.
	var again commentAck
	request(t, sam, "chat.comment", map[string]any{"conversation_id": id, "client_id": "k1", "text": text}, &again)
	if !again.Duplicate || again.Seq != ack.Seq || len(again.Mentions) != 3 {
		t.Errorf("the resend's ack %+v, want the duplicate of seq %d", again, ack.Seq)
	}
	noEventAbout(t, alice, "alice", "chat.mention", "")
	noEventAbout(t, bob, "bob", "chat.mention", "")

	// Unread until read, across reloads; reading tells the other tabs.
	for _, who := range []*client.Client{alice, bob} {
		if got := unreadMentions(t, who); len(got) != 1 || got[0].Seq != ack.Seq {
			t.Fatalf("unread mentions %+v, want the one at %d", got, ack.Seq)
		}
	}
	if got := unreadMentions(t, sam); len(got) != 0 {
		t.Errorf("the author has unread mentions of its own: %+v", got)
	}
	var read struct{ Unread int }
	request(t, alice, "chat.mention_read", map[string]any{"conversation_id": id, "seq": ack.Seq}, &read)
	if read.Unread != 0 {
		t.Errorf("unread after reading: %d", read.Unread)
	}
	waitEvent(t, alice2, "chat.mention_read", func(d json.RawMessage) bool { return strings.Contains(string(d), `"unread":0`) })
	if got := unreadMentions(t, s.agent(t, "alice")); len(got) != 0 {
		t.Errorf("alice's mentions after reading, in a new tab: %+v", got)
	}
	if got := unreadMentions(t, s.agent(t, "bob")); len(got) != 1 {
		t.Errorf("bob's mentions in a new tab: %+v, want the one still unread", got)
	}

	// Comments stay with the conversation, for staff.
	var staff withEvents
	request(t, sam, "chat.resume", map[string]any{"conversation_id": id, "after_seq": 0}, &staff)
	found := false
	for _, e := range staff.Events {
		found = found || (e.Kind == "comment" && e.Text == text && e.Private)
	}
	if !found {
		t.Errorf("the staff's transcript lacks the comment: %+v", staff.Events)
	}
	for _, ev := range settle(t, cust) {
		if strings.Contains(string(ev.Data), "comment") || ev.Type == "chat.mention" {
			t.Errorf("the customer received %s %s", ev.Type, ev.Data)
		}
	}
}
