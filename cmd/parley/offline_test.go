package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"parley/mail"
	"parley/mail/mailtest"
)

// permanentRefusal is an SMTP server's "never": the sender gives up at once.
var permanentRefusal = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 2, 1}, Message: "mailbox unavailable"}

// waitOutbox reads the outbox (an admin's token, a query) until ok holds
// of it, for 10 s at most: the sender marks a message after the SMTP
// server took it.
func (s *chatServer) waitOutbox(t *testing.T, admin, query string, ok func(outboxPage) bool) outboxPage {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		p := s.outbox(t, admin, query)
		if ok(p) {
			return p
		}
		select {
		case <-deadline:
			t.Fatalf("the outbox%s never became as expected: %+v", query, p)
		case <-tick.C:
		}
	}
}

// The offline form and the e-mail outbox, through the real server: the
// form's message is stored and mailed to the queue's address over SMTP
// (a real SMTP server in the test), and the admin console's REST shows
// the outbox.

// smtpArgs are the server's flags for the test's SMTP server.
func smtpArgs(m *mailtest.Server) []string {
	return []string{"--smtp-host", m.Host, "--smtp-port", strconv.Itoa(m.Port), "--smtp-tls", "none",
		"--mail-from", "desk@example.com"}
}

const offlineQueue = `offline_form = true, offline_email = 'sales@example.com', disabled = true, name = 'Sales'`

type outboxPage struct {
	Messages []struct {
		ID        int64    `json:"id"`
		To        []string `json:"to"`
		ReplyTo   string   `json:"reply_to"`
		Subject   string   `json:"subject"`
		Cause     string   `json:"cause"`
		CauseID   int64    `json:"cause_id"`
		State     string   `json:"state"`
		Attempts  int      `json:"attempts"`
		LastError string   `json:"last_error"`
		SentAt    *string  `json:"sent_at"`
	} `json:"messages"`
	SMTP struct {
		Configured bool   `json:"configured"`
		Host       string `json:"host"`
	} `json:"smtp"`
}

func (s *chatServer) outbox(t *testing.T, admin, query string) outboxPage {
	t.Helper()
	code, body := call(t, "GET", s.base+"/api/admin/outbox"+query, admin, "")
	if code != http.StatusOK {
		t.Fatalf("outbox: %d %s", code, body)
	}
	var p outboxPage
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *chatServer) sendOffline(t *testing.T, token, body string) (int, string) {
	t.Helper()
	return call(t, "POST", s.base+"/api/widget/"+s.queue+"/offline", token, body)
}

func TestTheOfflineFormIsStoredMailedAndFoundInTheHistory(t *testing.T) {
	t.Parallel()
	mta := mailtest.Start(t)
	s := newChatServer(t, offlineQueue, smtpArgs(mta)...)
	token := s.visitorToken(t, "")
	code, body := s.sendOffline(t, token, `{"name":"Ann Lee","email":"ann@example.org","message":"Do you ship to Mars?\nThanks"}`)
	if code != http.StatusCreated {
		t.Fatalf("offline: %d %s", code, body)
	}
	var created struct{ Conversation conv }
	json.Unmarshal([]byte(body), &created) //nolint:errcheck
	if created.Conversation.State != "offline" || created.Conversation.ID == 0 {
		t.Fatalf("created %s", body)
	}

	got := mta.Wait(t, 1)[0]
	if got.From != "desk@example.com" || len(got.To) != 1 || got.To[0] != "sales@example.com" {
		t.Fatalf("envelope %s → %v", got.From, got.To)
	}
	if h := got.Header("Subject"); h != "Offline message from Ann Lee via Sales" {
		t.Errorf("subject %q", h)
	}
	if h := got.Header("Reply-To"); !strings.Contains(h, "ann@example.org") {
		t.Errorf("reply-to %q", h)
	}
	for _, want := range []string{"Do you ship to Mars?", "E-mail: ann@example.org", "Name: Ann Lee"} {
		if !strings.Contains(got.Data, want) {
			t.Errorf("the mail lacks %q:\n%s", want, got.Data)
		}
	}

	// The admin console's outbox lists it, sent.
	admin := s.login(t, "ada")
	p := s.waitOutbox(t, admin, "?state=sent", func(p outboxPage) bool { return len(p.Messages) > 0 })
	if !p.SMTP.Configured || p.SMTP.Host != mta.Host || len(p.Messages) != 1 || p.Messages[0].Cause != "offline" ||
		p.Messages[0].CauseID != created.Conversation.ID || p.Messages[0].SentAt == nil || p.Messages[0].Attempts != 1 {
		t.Fatalf("outbox %+v", p)
	}

	// The supervisor finds it in the history with its state, and reads it.
	sam := s.agent(t, "sam")
	var h historyPage
	request(t, sam, "history.search", map[string]any{"status": "offline", "contact": "ann"}, &h)
	if len(h.Results) != 1 || h.Results[0].Conversation.ID != created.Conversation.ID || h.Results[0].Conversation.State != "offline" {
		t.Fatalf("history: %+v", h)
	}
	h = historyPage{}
	request(t, sam, "history.search", map[string]any{"status": "open", "contact": "ann"}, &h)
	if len(h.Results) != 0 {
		t.Fatalf("an offline message is not an open chat: %+v", h)
	}
	var tr struct{ Events []event }
	request(t, sam, "history.get", map[string]any{"conversation_id": created.Conversation.ID}, &tr)
	if len(tr.Events) != 1 || tr.Events[0].Kind != "message" || tr.Events[0].Text != "Do you ship to Mars?\nThanks" ||
		tr.Events[0].Author.Name != "Ann Lee" {
		t.Fatalf("transcript %+v", tr.Events)
	}

	// It is no chat of the customer's: not open, nothing can be added.
	cust := s.customer(t, token)
	var mine struct{ Conversations []conv }
	request(t, cust, "chat.mine", map[string]any{}, &mine)
	if len(mine.Conversations) != 0 {
		t.Fatalf("chat.mine lists %+v", mine.Conversations)
	}
	if code := requestErr(t, cust, "chat.send", map[string]any{"conversation_id": created.Conversation.ID, "text": "more",
		"client_id": "x1"}); code != "conflict" {
		t.Fatalf("a message to an offline conversation: %s, want conflict", code)
	}
}

func TestWithoutSMTPTheMailWaitsInTheOutbox(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, offlineQueue)
	code, body := s.sendOffline(t, s.visitorToken(t, ""), `{"email":"bo@example.org","message":"Call me"}`)
	if code != http.StatusCreated {
		t.Fatalf("offline: %d %s", code, body)
	}
	p := s.outbox(t, s.login(t, "ada"), "?state=pending")
	if p.SMTP.Configured || len(p.Messages) == 0 || p.Messages[0].Subject != "Offline message from bo@example.org via Sales" ||
		p.Messages[0].ReplyTo != "bo@example.org" {
		t.Fatalf("outbox %+v", p)
	}
	// A queue without an offline address keeps the message without mail.
	admin := s.login(t, "ada")
	if code, body := call(t, "PUT", s.base+"/api/admin/queues/"+s.queue, admin,
		`{"name":"Sales","disabled":true,"offline_form":true,"members":["alice","bob"]}`); code != http.StatusOK {
		t.Fatalf("save queue: %d %s", code, body)
	}
	code, body = s.sendOffline(t, s.visitorToken(t, ""), `{"email":"di@example.org","message":"No mail"}`)
	if code != http.StatusCreated {
		t.Fatalf("offline: %d %s", code, body)
	}
	var n int
	if err := s.db.QueryRow(context.Background(), `SELECT count(*) FROM mail_outbox WHERE reply_to = 'di@example.org'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d mails for a queue without an address (%v)", n, err)
	}
	if err := s.db.QueryRow(context.Background(), `SELECT count(*) FROM conversations WHERE customer_email = 'di@example.org' AND state = 'offline'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d offline conversations stored (%v)", n, err)
	}
}

func TestWhoMaySendTheOfflineForm(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, offlineQueue)
	other := newQueueOn(t, s, "offline_form = true")
	guest := guestToken(t, s)
	good := `{"name":"Ann","email":"ann@example.org","message":"Hello"}`
	for _, c := range []struct {
		who   string
		token string
		code  int
	}{
		{"nobody", "", http.StatusUnauthorized},
		{"a customer of another queue", other, http.StatusForbidden},
		{"a guest", guest, http.StatusForbidden},
		{"an agent", s.login(t, "alice"), http.StatusForbidden},
		{"a supervisor", s.login(t, "sam"), http.StatusForbidden},
		{"an admin", s.login(t, "ada"), http.StatusForbidden},
		{"the queue's customer", s.visitorToken(t, ""), http.StatusCreated},
	} {
		if code, body := s.sendOffline(t, c.token, good); code != c.code {
			t.Errorf("%s: %d %s, want %d", c.who, code, body, c.code)
		}
	}
	// A queue without the form takes none.
	admin := s.login(t, "ada")
	if code, body := call(t, "PUT", s.base+"/api/admin/queues/"+s.queue, admin,
		`{"name":"Sales","disabled":true,"offline_form":false,"members":["alice","bob"]}`); code != http.StatusOK {
		t.Fatalf("save queue: %d %s", code, body)
	}
	if code, body := s.sendOffline(t, s.visitorToken(t, ""), good); code != http.StatusForbidden || !strings.Contains(body, "offline") {
		t.Fatalf("a queue without the form: %d %s", code, body)
	}
}

// guestToken answers the token of a guest of a conference room Alice made.
func guestToken(t *testing.T, s *chatServer) string {
	t.Helper()
	var conf struct{ Room roomInfo }
	request(t, s.agent(t, "alice"), "room.create", map[string]any{"name": "Offline"}, &conf)
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	return g.Token
}

// newQueueOn adds another queue to s's database and answers a visitor
// token of it.
func newQueueOn(t *testing.T, s *chatServer, settings string) string {
	t.Helper()
	key := s.queue + "-b"
	addQueue(t, s.db, key, "", settings)
	resp, body := post(t, s.base+"/api/widget/"+key+"/visitor", `{}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("visitor token: %d %s", resp.StatusCode, body)
	}
	var out struct{ Token string }
	json.Unmarshal(body, &out) //nolint:errcheck
	return out.Token
}

func TestTheOfflineFormChecksItsFieldsAndLimitsEachVisitor(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, offlineQueue)
	token := s.visitorToken(t, "")
	long := strings.Repeat("x", 4001)
	for _, c := range []struct{ body, field string }{
		{`{"name":"Ann","message":"Hi"}`, "email:"},
		{`{"name":"Ann","email":"not an address","message":"Hi"}`, "email:"},
		{`{"name":"Ann","email":"ann@example.org"}`, "message:"},
		{`{"name":"Ann","email":"ann@example.org","message":"   "}`, "message:"},
		{`{"name":"Ann","email":"ann@example.org","message":"` + long + `"}`, "message:"},
		{`{"name":"` + strings.Repeat("n", 101) + `","email":"ann@example.org","message":"Hi"}`, "name:"},
		{`{"name":"Ann","email":"ann@example.org","message":5}`, `"message"`},
		{`{"name":"Ann","email":"ann@example.org","message":"a\u0000b"}`, "message"},
		{`not json`, `{"name", "email", "message"}`},
	} {
		code, body := s.sendOffline(t, token, c.body)
		var e struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal([]byte(body), &e) //nolint:errcheck
		if code != http.StatusBadRequest || e.Error.Code != "bad_request" || !strings.Contains(e.Error.Message, c.field) {
			t.Errorf("%.60s: %d %s, want bad_request naming %s", c.body, code, body, c.field)
		}
	}
	// Exactly 4000 characters is taken; then two more, and the fourth
	// message within minutes is refused (the field errors above cost nothing).
	ok := `{"email":"ann@example.org","message":"` + strings.Repeat("é", 4000) + `"}`
	for i := range 3 {
		if code, body := s.sendOffline(t, token, ok); code != http.StatusCreated {
			t.Fatalf("message %d: %d %s", i+1, code, body)
		}
	}
	if code, body := s.sendOffline(t, token, ok); code != http.StatusTooManyRequests || !strings.Contains(body, "rate_limited") {
		t.Fatalf("a fourth message: %d %s, want 429", code, body)
	}
	// Another visitor is not limited by the first.
	if code, body := s.sendOffline(t, s.visitorToken(t, ""), ok); code != http.StatusCreated {
		t.Fatalf("another visitor: %d %s", code, body)
	}
	// ?token= is refused, as on the transcript route.
	if code, body := call(t, "POST", s.base+"/api/widget/"+s.queue+"/offline?token="+token, "", ok); code != http.StatusBadRequest ||
		!strings.Contains(body, "Authorization") {
		t.Fatalf("?token=: %d %s", code, body)
	}
}

func TestWhoMayReadTheOutboxAndSendAgain(t *testing.T) {
	t.Parallel()
	mta := mailtest.Start(t)
	s := newChatServer(t, offlineQueue, smtpArgs(mta)...)
	// The server refuses for good: the message fails at once.
	mta.Refuse(func(int) error { return permanentRefusal })
	if code, body := s.sendOffline(t, s.visitorToken(t, ""), `{"email":"cy@example.org","message":"Hi"}`); code != http.StatusCreated {
		t.Fatalf("offline: %d %s", code, body)
	}
	admin := s.login(t, "ada")
	p := s.waitOutbox(t, admin, "?state=failed", func(p outboxPage) bool { return len(p.Messages) > 0 })
	if len(p.Messages) != 1 || !strings.Contains(p.Messages[0].LastError, "mailbox unavailable") {
		t.Fatalf("failed: %+v", p)
	}
	id := strconv.FormatInt(p.Messages[0].ID, 10)

	visitor := s.visitorToken(t, "")
	for _, c := range []struct {
		who   string
		token string
		code  int
	}{
		{"nobody", "", http.StatusUnauthorized},
		{"a customer", visitor, http.StatusForbidden},
		{"a guest", guestToken(t, s), http.StatusForbidden},
		{"an agent", s.login(t, "alice"), http.StatusForbidden},
		{"a supervisor", s.login(t, "sam"), http.StatusForbidden},
	} {
		if code, body := call(t, "GET", s.base+"/api/admin/outbox", c.token, ""); code != c.code {
			t.Errorf("%s lists: %d %s, want %d", c.who, code, body, c.code)
		}
		if code, body := call(t, "POST", s.base+"/api/admin/outbox/"+id+"/retry", c.token, ""); code != c.code {
			t.Errorf("%s sends again: %d %s, want %d", c.who, code, body, c.code)
		}
	}
	for query, field := range map[string]string{"?state=lost": "state:", "?before=x": "before:", "?before=-3": "before:"} {
		if code, body := call(t, "GET", s.base+"/api/admin/outbox"+query, admin, ""); code != http.StatusBadRequest ||
			!strings.Contains(body, field) {
			t.Errorf("%s: %d %s, want bad_request naming %s", query, code, body, field)
		}
	}
	for path, want := range map[string]int{"/api/admin/outbox/99999/retry": 404, "/api/admin/outbox/x/retry": 404} {
		if code, body := call(t, "POST", s.base+path, admin, ""); code != want {
			t.Errorf("%s: %d %s, want %d", path, code, body, want)
		}
	}

	// The admin sends it again, the server takes it now.
	mta.Refuse(nil)
	if code, body := call(t, "POST", s.base+"/api/admin/outbox/"+id+"/retry", admin, ""); code != http.StatusOK ||
		!strings.Contains(body, `"state":"pending"`) {
		t.Fatalf("send again: %d %s", code, body)
	}
	if got := mta.Wait(t, 1); !strings.Contains(got[0].Data, "cy@example.org") {
		t.Fatalf("sent again: %s", got[0].Data)
	}
	s.waitOutbox(t, admin, "?state=sent", func(p outboxPage) bool { return len(p.Messages) == 1 })
	if code, body := call(t, "POST", s.base+"/api/admin/outbox/"+id+"/retry", admin, ""); code != http.StatusConflict {
		t.Fatalf("sending a sent message again: %d %s, want 409", code, body)
	}
}

func TestSMTPSettingsHaveDefaultsAndComeFromTheEnvironment(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Configured() || c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" || c.SMTP.From != "parley@localhost" {
		t.Fatalf("defaults: %+v", c.SMTP)
	}
	env := map[string]string{"PARLEY_SMTP_HOST": "smtp.example.com", "PARLEY_SMTP_PORT": "465", "PARLEY_SMTP_TLS": "tls",
		"PARLEY_SMTP_USER": "parley", "PARLEY_SMTP_PASSWORD": "secret", "PARLEY_MAIL_FROM": "desk@example.com"}
	c, err = parseConfig([]string{"--smtp-port", "2525"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := mail.Settings{Host: "smtp.example.com", Port: 2525, TLS: "tls", User: "parley", Password: "secret", From: "desk@example.com"}
	if c.SMTP != want {
		t.Fatalf("got %+v, want %+v", c.SMTP, want)
	}
}
