package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"parley/mail/mailtest"
	"parley/signaling/client"
)

// The transcript by e-mail (chat.transcript_email and the queue's
// transcript_email): the mail is read from a real SMTP server the
// server's mail.Sender delivers to.

// transcriptChat is a closed chat of alice's in a queue with the given
// transcript_email, agent names hidden, with a public exchange, a
// private message and a comment; its customer (vera@example.com) is
// connected.
func transcriptChat(t *testing.T, mode string) (s *chatServer, mta *mailtest.Server, alice, cust *client.Client, id int64) {
	t.Helper()
	mta = mailtest.Start(t)
	s = newChatServer(t, "transcript_email = '"+mode+"', show_agent_name = false, agent_alias = 'Acme Support', name = 'Sales'",
		smtpArgs(mta)...)
	alice = s.agent(t, "alice")
	cust = s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Vera")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	request(t, cust, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "c1", "text": "My parcel never came"}, nil)
	request(t, alice, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "a1", "text": "A new one is on its way"}, nil)
	request(t, alice, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "a2", "text": "SECRET refund approved",
		"private": true}, nil)
	request(t, alice, "chat.comment", map[string]any{"conversation_id": c.ID, "client_id": "k1", "text": "SECRET comment"}, nil)
	request(t, alice, "chat.close", map[string]any{"conversation_id": c.ID, "status": "Resolved"}, nil)
	return s, mta, alice, cust, c.ID
}

// checkTranscript checks a mailed transcript: the public exchange under
// the queue's alias, nothing private, no agent's name.
func checkTranscript(t *testing.T, got mailtest.Received, to string) {
	t.Helper()
	if len(got.To) != 1 || got.To[0] != to {
		t.Fatalf("the transcript went to %v, want %s", got.To, to)
	}
	if h := got.Header("Subject"); h != "Your chat with Sales" {
		t.Errorf("subject %q", h)
	}
	for _, want := range []string{"Vera: My parcel never came", "Acme Support: A new one is on its way", "The chat ended"} {
		if !strings.Contains(got.Data, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, got.Data)
		}
	}
	for _, never := range []string{"SECRET", "Alice", "Resolved"} {
		if strings.Contains(got.Data, never) {
			t.Errorf("the transcript has %q:\n%s", never, got.Data)
		}
	}
}

func transcriptMails(t *testing.T, s *chatServer, id int64) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(context.Background(), `SELECT count(*) FROM mail_outbox WHERE cause = 'transcript' AND cause_id = $1`,
		id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTheCustomerAsksForTheTranscriptOnceAndItHasNoPrivateMessage(t *testing.T) {
	t.Parallel()
	s, mta, alice, cust, id := transcriptChat(t, "ask")
	sam, ada := s.agent(t, "sam"), s.agent(t, "ada")
	var conf struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"name": "Transcript"}, &conf)
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	guest := s.customer(t, g.Token)
	other := s.customer(t, s.visitorToken(t, ""))
	good := map[string]any{"conversation_id": id, "email": "vera.home@example.org"}

	for _, bad := range []struct {
		data  map[string]any
		field string
	}{
		{map[string]any{"email": "v@example.org"}, "conversation_id"},
		{map[string]any{"conversation_id": id}, "email"},
		{map[string]any{"conversation_id": id, "email": "not an address"}, "email"},
		{map[string]any{"conversation_id": id, "email": "Vera <v@example.org>"}, "email"},
		{map[string]any{"conversation_id": id, "email": 7}, "email"},
	} {
		code, msg := requestErrMessage(t, cust, "chat.transcript_email", bad.data)
		if code != "bad_request" || !strings.Contains(msg, bad.field) {
			t.Errorf("chat.transcript_email %v: %s %q, want bad_request naming %s", bad.data, code, msg, bad.field)
		}
	}
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
		if got := answer(t, r.c, "chat.transcript_email", good); got != r.want {
			t.Errorf("%s: chat.transcript_email answers %s, want %s", r.name, got, r.want)
		}
	}
	checkTranscript(t, mta.Wait(t, 1)[0], "vera.home@example.org")
	if n := transcriptMails(t, s, id); n != 1 {
		t.Errorf("%d transcript mails in the outbox, want 1", n)
	}
}

func TestTheTranscriptIsAskedForOnlyOnceTheChatHasEnded(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "transcript_email = 'ask'")
	alice := s.agent(t, "alice")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Vera")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	code, msg := requestErrMessage(t, cust, "chat.transcript_email", map[string]any{"conversation_id": c.ID, "email": "v@example.org"})
	if code != "conflict" || msg != "the chat has not ended yet" {
		t.Errorf("the transcript of a waiting chat: %s %q", code, msg)
	}
	if _, body := get(t, s.base+"/api/widget/"+s.queue); !strings.Contains(body, `"transcript_email":"ask"`) {
		t.Errorf("the widget's settings do not offer the transcript: %s", body)
	}
}

func TestAQueueThatSendsTheTranscriptAlwaysMailsItWhenTheChatEnds(t *testing.T) {
	t.Parallel()
	s, mta, _, cust, id := transcriptChat(t, "always")
	checkTranscript(t, mta.Wait(t, 1)[0], "vera@example.com")
	code, msg := requestErrMessage(t, cust, "chat.transcript_email", map[string]any{"conversation_id": id, "email": "v@example.org"})
	if code != "conflict" || msg != "this queue does not offer the transcript by e-mail" {
		t.Errorf("asking where it is sent always: %s %q", code, msg)
	}
	if n := transcriptMails(t, s, id); n != 1 {
		t.Errorf("%d transcript mails in the outbox, want 1", n)
	}
}

func TestAQueueThatDoesNotSendTranscriptsMailsNone(t *testing.T) {
	t.Parallel()
	s, _, _, cust, id := transcriptChat(t, "off")
	code, msg := requestErrMessage(t, cust, "chat.transcript_email", map[string]any{"conversation_id": id, "email": "v@example.org"})
	if code != "conflict" || msg != "this queue does not offer the transcript by e-mail" {
		t.Errorf("asking where it is off: %s %q", code, msg)
	}
	if n := transcriptMails(t, s, id); n != 0 {
		t.Errorf("%d transcript mails in the outbox, want none", n)
	}
	if _, body := get(t, s.base+"/api/widget/"+s.queue); !strings.Contains(body, `"transcript_email":"off"`) {
		t.Errorf("the widget's settings: %s", body)
	}
}
