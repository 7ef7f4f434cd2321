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

// The rules a queue enforces, over the websocket: chat.start refused when
// the queue is closed or full, and chats the system ends (max wait, the
// queue closing, the customer gone), also across a restart.

const (
	offlineText     = "We are closed, come back tomorrow"
	unavailableText = "Everyone is busy, try later"
)

// saveRules saves the test queue through the admin API, as the admin
// with token admin would (its cache is dropped on save), with fields
// (JSON members, each with a leading comma) on top of its name, members
// and messages.
func (s *chatServer) saveRules(t *testing.T, admin, fields string) {
	t.Helper()
	body := `{"name":"Test","members":["alice","bob"],"statuses":["Resolved","Spam"],` +
		`"offline_message":"` + offlineText + `","unavailable_message":"` + unavailableText + `"` + fields + `}`
	if code, out := call(t, "PUT", s.base+"/api/admin/queues/"+s.queue, admin, body); code != http.StatusOK {
		t.Fatalf("save the queue's rules %s: %d %s", fields, code, out)
	}
}

// ruleEvent is an event with what the system's close adds.
type ruleEvent struct {
	ConversationID int64  `json:"conversation_id"`
	Kind           string `json:"kind"`
	Author         struct {
		Kind string `json:"kind"`
	} `json:"author"`
	Text   string `json:"text"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// waitClosed waits for chat id's closed event on c.
func waitSystemClose(t *testing.T, c *client.Client, id int64) ruleEvent {
	t.Helper()
	var ev ruleEvent
	json.Unmarshal(waitEvent(t, c, "chat.event", chatEvent(id, "closed")), &ev) //nolint:errcheck
	return ev
}

// guestClient is a conference guest's connection (a room of alice's).
func (s *chatServer) guestClient(t *testing.T, alice *client.Client) *client.Client {
	t.Helper()
	var conf struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"name": "Rules"}, &conf)
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	return s.customer(t, g.Token)
}

func TestChatStartIsRefusedWhileTheQueueIsClosedOrFull(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	alice, sam, ada := s.agent(t, "alice"), s.agent(t, "sam"), s.agent(t, "ada")
	guest := s.guestClient(t, alice)
	for _, st := range []struct {
		name, fields string
		waiting      int    // chats already waiting
		open         bool   // GET /api/widget/{key}'s open
		code         string // a customer's chat.start; staff and guests are forbidden whatever the queue
		message      string
	}{
		{"open", `,"max_waiting":0`, 0, true, "ok", ""},
		{"disabled", `,"disabled":true`, 0, false, "queue_closed", offlineText},
		{"outside hours", `,"hours":{}`, 0, false, "queue_closed", offlineText},
		{"a holiday today", `,"holidays":[{"date":"` + time.Now().UTC().Format(time.DateOnly) + `","name":"Today"}]`, 0, false, "queue_closed", offlineText},
		{"full", `,"max_waiting":2`, 2, true, "queue_full", unavailableText},
		{"one place left", `,"max_waiting":2`, 1, true, "ok", ""},
	} {
		t.Run(st.name, func(t *testing.T) {
			if _, err := s.db.Exec(context.Background(), `UPDATE conversations SET state = 'closed', closed_at = now() WHERE state <> 'closed'`); err != nil {
				t.Fatal(err)
			}
			s.saveRules(t, admin, `,"max_wait_seconds":600`) // open while the waiting chats start
			for range st.waiting {
				startChat(t, s.customer(t, s.visitorToken(t, "")), "Ahead")
			}
			s.saveRules(t, admin, st.fields+`,"max_wait_seconds":600`)
			_, body := get(t, s.base+"/api/widget/"+s.queue)
			var pub struct {
				Open           bool   `json:"open"`
				OfflineMessage string `json:"offline_message"`
			}
			json.Unmarshal([]byte(body), &pub) //nolint:errcheck
			if pub.Open != st.open || pub.OfflineMessage != offlineText {
				t.Errorf("the widget's settings say open %v (%q), want %v", pub.Open, pub.OfflineMessage, st.open)
			}
			for _, r := range []struct {
				role    string
				c       *client.Client
				code    string
				message string
			}{
				{"a customer", s.customer(t, s.visitorToken(t, "")), st.code, st.message},
				{"an agent", alice, "forbidden", ""},
				{"a supervisor", sam, "forbidden", ""},
				{"an admin", ada, "forbidden", ""},
				{"a guest", guest, "forbidden", ""},
			} {
				code, msg := requestErrMessage(t, r.c, "chat.start", map[string]any{"name": "Newcomer"})
				if code != r.code || (r.message != "" && msg != r.message) {
					t.Errorf("%s: chat.start answers %s %q, want %s %q", r.role, code, msg, r.code, r.message)
				}
			}
		})
	}
}

func TestACustomerWithAnOpenChatGetsItBackWhenTheQueueIsClosed(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	tok := s.visitorToken(t, "")
	cust := s.customer(t, tok)
	c := startChat(t, cust, "Otto")
	s.saveRules(t, admin, `,"disabled":true,"max_waiting":1,"max_wait_seconds":600`)
	var again withEvents
	request(t, cust, "chat.start", map[string]any{"name": "Otto"}, &again)
	if again.Conversation.ID != c.ID {
		t.Fatalf("chat.start answered chat %d, want the open one %d", again.Conversation.ID, c.ID)
	}
}

func TestWaitingChatsEndWhenTheQueueCloses(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Hilda") // no agent is connected: it waits
	sam := s.agent(t, "sam")
	request(t, sam, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, nil)
	s.saveRules(t, admin, `,"hours":{}`) // the hours end, no max wait
	ev := waitSystemClose(t, cust, c.ID)
	if ev.Author.Kind != "system" || ev.Reason != "queue_closed" || ev.Text != offlineText || ev.Status != "" {
		t.Errorf("the customer's closed event: %+v", ev)
	}
	if ev := waitSystemClose(t, sam, c.ID); ev.Reason != "queue_closed" {
		t.Errorf("the supervisor's closed event: %+v", ev)
	}
}

// The timers are rows: a chat whose max wait passes while the server is
// down ends when it is back.
func TestAChatThatWaitedPastItsMaxWaitEndsAfterARestart(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	s.saveRules(t, admin, `,"max_wait_seconds":10`)
	tok := s.visitorToken(t, "")
	cust := s.customer(t, tok)
	c := startChat(t, cust, "Ursula")
	s.stop()
	<-s.done
	s.done <- nil
	// The deadline passes while the server is down.
	if _, err := s.db.Exec(context.Background(), `UPDATE conversations SET queued_at = now() - interval '11 seconds' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	s2 := &chatServer{server: start(t, s.server.db), db: s.db, queue: s.queue}
	cust2 := s2.customer(t, s2.visitorToken(t, tok))
	var all struct {
		Conversation conv        `json:"conversation"`
		Events       []ruleEvent `json:"events"`
	}
	request(t, cust2, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &all)
	if all.Conversation.State != "closed" {
		waitSystemClose(t, cust2, c.ID)
		request(t, cust2, "chat.resume", map[string]any{"conversation_id": c.ID, "after_seq": 0}, &all)
	}
	evs := all.Events
	last := evs[len(evs)-1]
	if last.Kind != "closed" || last.Reason != "max_wait" || last.Text != unavailableText || last.Author.Kind != "system" {
		t.Fatalf("the last event after the restart: %+v", last)
	}
}

func TestAChatWhoseCustomerLeftIsClosedByTheSystemAndWrappedUp(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	s.saveRules(t, admin, `,"auto_finish_seconds":10`)
	alice := s.agent(t, "alice")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Flora")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	cust.Close()
	// Presence records when the customer left; the test moves it back as
	// if the ten seconds had passed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		tag, err := s.db.Exec(context.Background(), `UPDATE conversations SET customer_left_at = now() - interval '11 seconds'
			WHERE id = $1 AND customer_left_at IS NOT NULL`, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tag.RowsAffected() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the customer's leaving was not recorded")
		}
		waitEvent(t, alice, "chat.presence", nil) // the agent hears the customer left; the row is written then
	}
	ev := waitSystemClose(t, alice, c.ID)
	if ev.Author.Kind != "system" || ev.Reason != "auto_finish" || ev.Status != "Customer left" {
		t.Fatalf("the agent's closed event: %+v", ev)
	}
	var mine struct {
		Conversations []struct {
			ID        int64  `json:"id"`
			WrapUpDue bool   `json:"wrap_up_due"`
			ClosedBy  string `json:"closed_by"`
		} `json:"conversations"`
	}
	request(t, alice, "chat.mine", nil, &mine)
	if len(mine.Conversations) != 1 || !mine.Conversations[0].WrapUpDue || mine.Conversations[0].ClosedBy != "system" {
		t.Fatalf("the agent's chats: %+v", mine.Conversations)
	}
	request(t, alice, "chat.close", map[string]any{"conversation_id": c.ID, "status": "Resolved"}, nil)
	if !strings.Contains(string(waitEvent(t, alice, "chat.event", chatEvent(c.ID, "wrapped_up"))), "Resolved") {
		t.Error("the wrap-up has no status")
	}
}
