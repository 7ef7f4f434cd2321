package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"parley/signaling/client"
)

// Structured options (chat.send with options, then with choice): an agent
// asks, the customer answers once, every side learns the answer.

type optionEvent struct {
	event
	Options []struct {
		ID    int    `json:"id"`
		Label string `json:"label"`
	} `json:"options"`
	Choice *struct {
		QuestionSeq int `json:"question_seq"`
		OptionID    int `json:"option_id"`
	} `json:"choice"`
	Answered *struct {
		OptionID int `json:"option_id"`
		Seq      int `json:"seq"`
	} `json:"answered"`
}

// optionsChat is a chat of alice's with its customer connected; sam (a
// supervisor) follows it, and alice has written a private note first so
// that the customer's numbering differs from the staff's.
func optionsChat(t *testing.T) (s *chatServer, alice, sam, cust *client.Client, id int64) {
	t.Helper()
	s = newChatServer(t, "")
	alice, sam = s.agent(t, "alice"), s.agent(t, "sam")
	cust = s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Vera")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	request(t, sam, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, nil)
	send(t, alice, c.ID, "note", "Ask how to contact her", true)
	return s, alice, sam, cust, c.ID
}

func ask(id int64, clientID string, options ...string) map[string]any {
	if options == nil {
		options = []string{} // an empty list, not null (a plain message)
	}
	return map[string]any{"conversation_id": id, "client_id": clientID, "text": "How would you like to be contacted?",
		"options": options}
}

func choose(id int64, clientID string, seq, option int) map[string]any {
	return map[string]any{"conversation_id": id, "client_id": clientID,
		"choice": map[string]any{"message_seq": seq, "option_id": option}}
}

// messageEvent matches the chat.event of conversation id's message clientID.
func messageEvent(id int64, clientID string) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var e event
		json.Unmarshal(d, &e) //nolint:errcheck
		return e.ConversationID == id && e.Kind == "message" && e.ClientID == clientID
	}
}

func TestAQuestionIsCheckedAndNamed(t *testing.T) {
	t.Parallel()
	_, alice, _, cust, id := optionsChat(t)
	long := strings.Repeat("é", 101)
	for _, bad := range []struct {
		c     *client.Client
		data  map[string]any
		code  string
		field string
	}{
		{alice, ask(id, "q1", "Yes"), "bad_request", "options"},
		{alice, ask(id, "q1"), "bad_request", "options"},
		{alice, ask(id, "q1", "1", "2", "3", "4", "5", "6", "7"), "bad_request", "options"},
		{alice, ask(id, "q1", "Yes", " "), "bad_request", "options[1]"},
		{alice, ask(id, "q1", "Yes", long), "bad_request", "options[1]"},
		{alice, ask(id, "q1", "Yes", "No", "yes"), "bad_request", "options[2]"},
		{alice, map[string]any{"conversation_id": id, "client_id": "q1", "text": " ", "options": []string{"Yes", "No"}},
			"bad_request", "text"},
		{alice, map[string]any{"conversation_id": id, "client_id": "q1", "text": "Really?", "options": []string{"Yes", "No"},
			"private": true}, "bad_request", "private"},
		{alice, map[string]any{"conversation_id": id, "client_id": "q1", "text": "Really?", "options": "Yes"},
			"bad_request", "options"},
		{alice, map[string]any{"conversation_id": id, "client_id": "q1", "text": "Really?", "options": []string{"Yes", "No"},
			"choice": map[string]any{"message_seq": 1, "option_id": 1}}, "bad_request", "options"},
		{alice, map[string]any{"conversation_id": id, "client_id": "q1", "text": "Really?", "options": []string{"Yes", "No"},
			"files": []int{1}}, "bad_request", "files"},
		{cust, map[string]any{"conversation_id": id, "client_id": "a1", "choice": map[string]any{"message_seq": 1, "option_id": 1},
			"files": []int{1}}, "bad_request", "files"},
		{cust, ask(id, "q1", "Yes", "No"), "forbidden", "options"},
		{alice, choose(id, "a1", 1, 1), "forbidden", "choice"},
		{cust, choose(id, "a1", 0, 1), "bad_request", "choice.message_seq"},
		{cust, choose(id, "a1", 1, 0), "bad_request", "choice.option_id"},
		{cust, map[string]any{"conversation_id": id, "client_id": "a1", "text": "E-mail",
			"choice": map[string]any{"message_seq": 1, "option_id": 1}}, "bad_request", "text"},
	} {
		code, msg := requestErrMessage(t, bad.c, "chat.send", bad.data)
		if code != bad.code || !strings.Contains(msg, bad.field) {
			t.Errorf("chat.send %v: %s %q, want %s naming %s", bad.data, code, msg, bad.code, bad.field)
		}
	}
	// Six options of 100 characters are a question.
	six := []string{"1", "2", "3", "4", "5", strings.Repeat("é", 100)}
	if code := answer(t, alice, "chat.send", ask(id, "q6", six...)); code != "ok" {
		t.Errorf("six options: %s", code)
	}
}

func TestAQuestionIsAnsweredOnceAndEverySideSeesIt(t *testing.T) {
	t.Parallel()
	s, alice, sam, cust, id := optionsChat(t)
	settle(t, cust)
	var q struct{ Seq int }
	request(t, alice, "chat.send", ask(id, "q1", "Phone", "E-mail", "Chat"), &q)

	// The customer receives the question with its options, in its own
	// numbering (the note before it is not counted).
	var got optionEvent
	json.Unmarshal(waitEvent(t, cust, "chat.event", messageEvent(id, "q1")), &got) //nolint:errcheck
	if len(got.Options) != 3 || got.Options[1].ID != 2 || got.Options[1].Label != "E-mail" || got.Seq >= q.Seq {
		t.Fatalf("the customer's question: %+v (staff seq %d)", got, q.Seq)
	}
	question := got.Seq

	// Not a question, no such message, no such option, another chat.
	other := s.customer(t, s.visitorToken(t, ""))
	oc := startChat(t, other, "Otto")
	for _, bad := range []struct {
		c     *client.Client
		data  map[string]any
		code  string
		field string
	}{
		{cust, choose(id, "a1", 1, 1), "bad_request", "not a question"},
		{cust, choose(id, "a1", question+50, 1), "not_found", "choice.message_seq"},
		{cust, choose(id, "a1", question, 4), "bad_request", "choice.option_id"},
		{other, choose(id, "a1", question, 2), "not_found", ""},
		{other, choose(oc.ID, "a1", question, 2), "not_found", ""},
	} {
		code, msg := requestErrMessage(t, bad.c, "chat.send", bad.data)
		if code != bad.code || !strings.Contains(msg, bad.field) {
			t.Errorf("chat.send %v: %s %q, want %s naming %s", bad.data, code, msg, bad.code, bad.field)
		}
	}

	var a, again struct {
		Seq       int
		Duplicate bool
	}
	request(t, cust, "chat.send", choose(id, "a1", question, 2), &a)
	request(t, cust, "chat.send", choose(id, "a1", question, 2), &again)
	if !again.Duplicate || again.Seq != a.Seq || a.Duplicate {
		t.Errorf("a resent choice: %+v, first %+v", again, a)
	}
	code, msg := requestErrMessage(t, cust, "chat.send", choose(id, "a2", question, 1))
	if code != "conflict" || !strings.Contains(msg, "already answered") {
		t.Errorf("a second choice: %s %q", code, msg)
	}

	// Live, every side gets the answer once: the label as text, linked to
	// the question in its own numbering.
	staffAnswer := 0
	for _, who := range []struct {
		name     string
		c        *client.Client
		question int
	}{{"alice", alice, q.Seq}, {"sam", sam, q.Seq}, {"the customer", cust, question}} {
		var e optionEvent
		json.Unmarshal(waitEvent(t, who.c, "chat.event", messageEvent(id, "a1")), &e) //nolint:errcheck
		if e.Text != "E-mail" || e.Author.Kind != "customer" || e.Choice == nil || e.Choice.QuestionSeq != who.question ||
			e.Choice.OptionID != 2 {
			t.Errorf("%s's answer event: %+v %+v", who.name, e, e.Choice)
		}
		if who.c == alice {
			staffAnswer = e.Seq
		}
		for _, ev := range settle(t, who.c) {
			if ev.Type == "chat.event" && strings.Contains(string(ev.Data), `"client_id":"a`) {
				t.Errorf("%s received another answer: %s", who.name, ev.Data)
			}
		}
	}

	// Read back, the question says it was answered, and by which message.
	for _, who := range []struct {
		name             string
		c                *client.Client
		question, answer int
	}{{"alice", alice, q.Seq, staffAnswer}, {"the customer", cust, question, a.Seq}} {
		var r struct {
			Events []optionEvent `json:"events"`
		}
		request(t, who.c, "chat.resume", map[string]any{"conversation_id": id, "after_seq": 0}, &r)
		n := 0
		for _, e := range r.Events {
			switch {
			case e.ClientID == "q1":
				if e.Seq != who.question || len(e.Options) != 3 || e.Answered == nil || e.Answered.OptionID != 2 ||
					e.Answered.Seq != who.answer {
					t.Errorf("%s's question on resume: %+v %+v", who.name, e, e.Answered)
				}
			case e.ClientID == "a1":
				if e.Seq != who.answer || e.Choice == nil || e.Choice.QuestionSeq != who.question || e.Text != "E-mail" {
					t.Errorf("%s's answer on resume: %+v %+v", who.name, e, e.Choice)
				}
			default:
				continue
			}
			n++
		}
		if n != 2 {
			t.Errorf("%s's resume: %d of the question and its answer", who.name, n)
		}
	}
	var tr struct{ Events []optionEvent }
	request(t, sam, "history.get", map[string]any{"conversation_id": id}, &tr)
	found := false
	for _, e := range tr.Events {
		found = found || (e.ClientID == "q1" && e.Answered != nil && e.Answered.OptionID == 2)
	}
	if !found {
		t.Errorf("history.get has no answered question: %+v", tr.Events)
	}
	var stored int
	if err := s.db.QueryRow(ctxFor(t), `SELECT count(*) FROM conversation_events WHERE conversation_id = $1 AND choice_of IS NOT NULL`,
		id).Scan(&stored); err != nil || stored != 1 {
		t.Errorf("stored answers: %d %v", stored, err)
	}
}

func TestWhoMayAskAndAnswer(t *testing.T) {
	t.Parallel()
	s, alice, sam, cust, id := optionsChat(t)
	ada, bob := s.agent(t, "ada"), s.agent(t, "bob")
	var conf struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"name": "Options"}, &conf)
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	guest := s.customer(t, g.Token)
	other := s.customer(t, s.visitorToken(t, ""))

	settle(t, cust)
	request(t, alice, "chat.send", ask(id, "first", "Yes", "No"), nil)
	// The question's seq in the customer's numbering.
	var first event
	json.Unmarshal(waitEvent(t, cust, "chat.event", messageEvent(id, "first")), &first) //nolint:errcheck
	question := first.Seq
	for i, r := range []struct {
		name         string
		c            *client.Client
		asks, choose string
	}{
		{"its customer", cust, "forbidden", "ok"},
		{"its customer again", cust, "forbidden", "conflict"},
		{"another customer", other, "forbidden", "not_found"},
		{"a guest", guest, "forbidden", "forbidden"},
		{"its agent", alice, "ok", "forbidden"},
		{"an agent not in it", bob, "not_found", "forbidden"},
		{"a supervisor", sam, "ok", "forbidden"},
		{"an admin", ada, "ok", "forbidden"},
	} {
		if got := answer(t, r.c, "chat.send", ask(id, fmt.Sprint("q", i), "Yes", "No")); got != r.asks {
			t.Errorf("%s asks: %s, want %s", r.name, got, r.asks)
		}
		if got := answer(t, r.c, "chat.send", choose(id, fmt.Sprint("a", i), question, 1)); got != r.choose {
			t.Errorf("%s chooses: %s, want %s", r.name, got, r.choose)
		}
	}
	// A closed chat takes neither.
	request(t, alice, "chat.close", map[string]any{"conversation_id": id, "status": "Resolved"}, nil)
	if got := answer(t, alice, "chat.send", ask(id, "late", "Yes", "No")); got != "conflict" {
		t.Errorf("a question in a closed chat: %s", got)
	}
}
