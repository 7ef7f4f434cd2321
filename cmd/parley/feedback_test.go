package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"parley/signaling/client"
)

// Feedback (chat.feedback): the customer rates its ended chat, once, when
// its queue asks; staff see it, the customer's numbering does not change.

// feedbackChat is a chat of alice's in a queue that asks for feedback,
// with its customer connected; sam (a supervisor) follows it.
func feedbackChat(t *testing.T) (s *chatServer, alice, sam, cust *client.Client, token string, id int64) {
	t.Helper()
	s = newChatServer(t, "feedback = true")
	alice, sam = s.agent(t, "alice"), s.agent(t, "sam")
	token = s.visitorToken(t, "")
	cust = s.customer(t, token)
	c := startChat(t, cust, "Vera")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	request(t, sam, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, nil)
	return s, alice, sam, cust, token, c.ID
}

func TestWhoMayGiveFeedbackAndWhen(t *testing.T) {
	t.Parallel()
	s, alice, sam, cust, _, id := feedbackChat(t)
	ada := s.agent(t, "ada")
	var conf struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"name": "Feedback"}, &conf)
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	guest := s.customer(t, g.Token)
	other := s.customer(t, s.visitorToken(t, ""))
	rate := func(c *client.Client, data map[string]any) string {
		t.Helper()
		return answer(t, c, "chat.feedback", data)
	}
	good := map[string]any{"conversation_id": id, "rating": 4, "comment": "Quick and kind"}

	// Before the chat ends: conflict, for its customer.
	if code := rate(cust, good); code != "conflict" {
		t.Errorf("feedback on an open chat: %s, want conflict", code)
	}
	request(t, alice, "chat.close", map[string]any{"conversation_id": id, "status": "Resolved"}, nil)

	// Bad input, named (the chat has ended, so only the input is wrong).
	for _, bad := range []struct {
		data  map[string]any
		field string
	}{
		{map[string]any{"rating": 4}, "conversation_id"},
		{map[string]any{"conversation_id": id}, "rating"},
		{map[string]any{"conversation_id": id, "rating": 0}, "rating"},
		{map[string]any{"conversation_id": id, "rating": 6}, "rating"},
		{map[string]any{"conversation_id": id, "rating": 3.5}, "rating"},
		{map[string]any{"conversation_id": id, "rating": "4"}, "rating"},
		{map[string]any{"conversation_id": id, "rating": 4, "comment": strings.Repeat("é", 1001)}, "comment"},
		{map[string]any{"conversation_id": id, "rating": 4, "comment": 7}, "comment"},
	} {
		code, msg := requestErrMessage(t, cust, "chat.feedback", bad.data)
		if code != "bad_request" || !strings.Contains(msg, bad.field) {
			t.Errorf("chat.feedback %v: %s %q, want bad_request naming %s", bad.data, code, msg, bad.field)
		}
	}
	// 1000 code points is allowed (the row below stores it).
	good["comment"] = strings.Repeat("é", 1000)

	for _, r := range []struct {
		name string
		c    *client.Client
		want string
	}{
		{"the chat's agent", alice, "forbidden"},
		{"a supervisor", sam, "forbidden"},
		{"an admin", ada, "forbidden"},
		{"a guest", guest, "forbidden"},
		{"another customer", other, "not_found"},
		{"its customer", cust, "ok"},
		{"its customer again", cust, "conflict"},
	} {
		if got := rate(r.c, good); got != r.want {
			t.Errorf("%s: chat.feedback answers %s, want %s", r.name, got, r.want)
		}
	}
	if code := rate(cust, map[string]any{"conversation_id": 1 << 40, "rating": 4}); code != "not_found" {
		t.Errorf("feedback on no chat: %s, want not_found", code)
	}
}

func TestAQueueThatDoesNotAskTakesNoFeedback(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "") // feedback is off by default
	alice := s.agent(t, "alice")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Vera")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	request(t, alice, "chat.close", map[string]any{"conversation_id": c.ID, "status": "Resolved"}, nil)
	code, msg := requestErrMessage(t, cust, "chat.feedback", map[string]any{"conversation_id": c.ID, "rating": 5})
	if code != "conflict" || msg != "this queue does not ask for feedback" {
		t.Errorf("feedback in a queue that does not ask: %s %q", code, msg)
	}
	if _, body := get(t, s.base+"/api/widget/"+s.queue); !strings.Contains(body, `"feedback":false`) {
		t.Errorf("the widget's settings of a queue that does not ask: %s", body)
	}
	// An admin turns it on; the widget's settings say so.
	admin := s.login(t, "ada")
	if code, body := call(t, "PUT", s.base+"/api/admin/queues/asks-1", admin, `{"name":"Asks","feedback":true}`); code != http.StatusOK ||
		!strings.Contains(body, `"feedback":true`) {
		t.Fatalf("save a queue that asks: %d %s", code, body)
	}
	if _, body := get(t, s.base+"/api/widget/asks-1"); !strings.Contains(body, `"feedback":true`) {
		t.Errorf("the widget's settings of a queue that asks: %s", body)
	}
}

func TestFeedbackReachesStaffAndTheTranscriptButNotTheCustomersNumbering(t *testing.T) {
	t.Parallel()
	s, alice, sam, cust, token, id := feedbackChat(t)
	if _, body := get(t, s.base+"/api/widget/"+s.queue); !strings.Contains(body, `"feedback":true`) {
		t.Errorf("the widget's settings of a queue that asks: %s", body)
	}
	send(t, cust, id, "c1", "Hello", false)
	request(t, alice, "chat.close", map[string]any{"conversation_id": id, "status": "Resolved"}, nil)
	var before withEvents
	request(t, cust, "chat.resume", map[string]any{"conversation_id": id, "after_seq": 0}, &before)
	settle(t, cust)

	var ack struct {
		Rating  int
		Comment string
		Time    string
	}
	request(t, cust, "chat.feedback", map[string]any{"conversation_id": id, "rating": 4, "comment": "Quick and kind"}, &ack)
	if ack.Rating != 4 || ack.Comment != "Quick and kind" || ack.Time == "" {
		t.Errorf("the answer: %+v", ack)
	}

	// Staff following the chat see it live, as a private event.
	for _, who := range []struct {
		name string
		c    *client.Client
	}{{"alice", alice}, {"sam", sam}} {
		raw := waitEvent(t, who.c, "chat.event", chatEvent(id, "feedback"))
		if s := string(raw); !strings.Contains(s, `"rating":4`) || !strings.Contains(s, `"text":"Quick and kind"`) ||
			!strings.Contains(s, `"private":true`) || !strings.Contains(s, `"kind":"customer"`) {
			t.Errorf("%s's feedback event: %s", who.name, s)
		}
	}

	// The customer receives nothing, and its numbering is unchanged on
	// every path it reads by.
	for _, ev := range settle(t, cust) {
		t.Errorf("the customer received %s %s", ev.Type, ev.Data)
	}
	var after withEvents
	raw, err := cust.Request(ctxFor(t), "chat.resume", map[string]any{"conversation_id": id, "after_seq": 0})
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &after) //nolint:errcheck
	if strings.Contains(string(raw), `"kind":"feedback"`) || after.Conversation.LastSeq != before.Conversation.LastSeq ||
		len(after.Events) != len(before.Events) {
		t.Errorf("the customer's chat.resume after feedback: %s; before: last_seq %d, %d events",
			raw, before.Conversation.LastSeq, len(before.Events))
	}
	if !strings.Contains(string(raw), `"feedback_given":true`) {
		t.Errorf("the customer's conversation does not say feedback was given: %s", raw)
	}
	code, body := call(t, "GET", fmt.Sprintf("%s/api/conversations/%d/transcript", s.base, id), token, "")
	if code != http.StatusOK || strings.Contains(body, `"kind":"feedback"`) || strings.Contains(body, "Quick and kind") {
		t.Errorf("the customer's HTTP transcript: %d %s", code, body)
	}
	gapless(t, "chat.resume after feedback", after.Events, after.Conversation.LastSeq)

	// The supervisor's history transcript shows it, as the event and as
	// the chat's feedback.
	var tr struct {
		Feedback *struct {
			Rating  int
			Comment string
			Time    string
		}
		Events []event
	}
	request(t, sam, "history.get", map[string]any{"conversation_id": id}, &tr)
	if tr.Feedback == nil || tr.Feedback.Rating != 4 || tr.Feedback.Comment != "Quick and kind" || tr.Feedback.Time == "" {
		t.Errorf("history.get's feedback: %+v", tr.Feedback)
	}
	found := false
	for _, e := range tr.Events {
		found = found || (e.Kind == "feedback" && e.Private && e.Text == "Quick and kind")
	}
	if !found {
		t.Errorf("history.get lacks the feedback event: %+v", tr.Events)
	}
}

// A chat without feedback shows null in its transcript.
func TestATranscriptWithoutFeedbackShowsNull(t *testing.T) {
	t.Parallel()
	_, alice, sam, _, _, id := feedbackChat(t)
	request(t, alice, "chat.close", map[string]any{"conversation_id": id, "status": "Resolved"}, nil)
	raw, err := sam.Request(ctxFor(t), "history.get", map[string]any{"conversation_id": id})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"feedback":null`) || strings.Contains(string(raw), "feedback_given") {
		t.Errorf("history.get of a chat without feedback: %s", raw)
	}
}

// requestErrMessage is the code and message a failing request is answered
// with.
func requestErrMessage(t *testing.T, c *client.Client, typ string, data any) (string, string) {
	t.Helper()
	_, err := c.Request(ctxFor(t), typ, data)
	if err == nil {
		return "ok", ""
	}
	e, ok := err.(*client.Error)
	if !ok {
		t.Fatalf("%s: %v", typ, err)
	}
	return e.Code, e.Message
}
