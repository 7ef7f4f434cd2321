package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"parley/signaling/client"
)

// The proof that a supervisor spies unseen: the same chat is played twice,
// once alone and once with a supervisor who follows it (chat.resume),
// reads its history and transcript, watches its video room and comments
// on it (mentioning its agent). Everything the customer receives (every
// frame on its websocket, each answer to its requests) and its HTTP
// transcript are the same both times but for times and ids.
//
// The audit behind it, path by path: chat.resume and chat.history only
// read, and a supervisor follows the staff subject, which nothing on the
// customer's side hears of; subscribing emits nothing; a supervisor's
// connection changes only the staff directory (staff.presence, to staff);
// the HTTP transcript only reads; room.join receive-only makes a hidden
// member whose room_joined/room_left are private and whom customers are
// not shown (rooms/access.go); comments are private events and mentions
// go to the users mentioned. What would tell the customer is a
// supervisor's own public chat.send or chat.typing: the spy pane offers
// neither (barge-in is another feature).

// customerRecord is everything the customer got in one run, as text with
// its times and the run's ids taken out.
type customerRecord struct {
	frames     []string // every event, in arrival order
	events     []string // its chat.event frames only, in order
	answers    []string // its requests' answers, in order
	transcript string   // GET /api/conversations/{id}/transcript
}

// spyRun plays the chat; spy says whether sam watches it.
func spyRun(t *testing.T, s *chatServer, alice, sam *client.Client, spy bool) customerRecord {
	t.Helper()
	var rec customerRecord
	ids := map[string]string{}
	token := s.visitorToken(t, "")
	cust := s.customer(t, token)
	ask := func(typ string, data any) json.RawMessage {
		t.Helper()
		raw, err := cust.Request(ctxFor(t), typ, data)
		if err != nil {
			t.Fatalf("the customer's %s: %v", typ, err)
		}
		rec.answers = append(rec.answers, typ+" "+string(raw))
		return raw
	}
	var started withEvents
	json.Unmarshal(ask("chat.start", map[string]any{"name": "Vera", "email": "vera@example.com"}), &started) //nolint:errcheck
	id := started.Conversation.ID
	waitEvent(t, alice, "chat.offer", offerOf(id))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": id}, nil)

	if spy {
		request(t, sam, "chat.resume", map[string]any{"conversation_id": id, "after_seq": 0}, nil)
		request(t, sam, "chat.history", map[string]any{"conversation_id": id}, nil)
		if code, body := call(t, "GET", fmt.Sprintf("%s/api/conversations/%d/transcript", s.base, id), s.login(t, "sam"), ""); code != http.StatusOK {
			t.Fatalf("the supervisor's transcript: %d %s", code, body)
		}
	}
	send(t, alice, id, "a1", "How can I help?", false)
	request(t, alice, "chat.typing", map[string]any{"conversation_id": id, "typing": true}, nil)
	ask("chat.typing", map[string]any{"conversation_id": id, "typing": true})
	ask("chat.send", map[string]any{"conversation_id": id, "client_id": "c1", "text": "My order is late"})
	send(t, alice, id, "n1", "checking the order", true)

	// A video room: alice opens it, both join; the supervisor watches.
	var created struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"conversation_id": id, "media": "audio"}, &created)
	ids[created.Room.ID] = "ROOM"
	var aj, cj joined
	request(t, alice, "room.join", map[string]any{"room_id": created.Room.ID}, &aj)
	json.Unmarshal(ask("room.join", map[string]any{"room_id": created.Room.ID}), &cj) //nolint:errcheck
	ids[aj.ParticipantID], ids[cj.ParticipantID] = "ALICE", "VERA"
	if spy {
		var sj joined
		request(t, sam, "room.join", map[string]any{"room_id": created.Room.ID, "receive_only": true}, &sj)
		if !sj.ReceiveOnly {
			t.Fatal("the supervisor joined able to publish")
		}
		request(t, sam, "chat.comment", map[string]any{"conversation_id": id, "client_id": "k1",
			"text": "@alice offer a voucher"}, nil)
		waitEvent(t, alice, "chat.event", chatEvent(id, "comment"))
		waitEvent(t, alice, "chat.mention", nil)
	}
	send(t, alice, id, "a2", "Here is a voucher", false)
	ask("room.leave", map[string]any{"room_id": created.Room.ID})
	request(t, alice, "chat.close", map[string]any{"conversation_id": id, "status": "Resolved"}, nil)

	// The customer's frames, until the close and the room's end (which
	// follows it), and then every one sent before a barrier.
	closed, ended := false, false
	for !closed || !ended {
		select {
		case ev := <-cust.Events():
			rec.frames = append(rec.frames, ev.Type+" "+string(ev.Data))
			closed = closed || ev.Type == "chat.event" && strings.Contains(string(ev.Data), `"kind":"closed"`)
			ended = ended || ev.Type == "chat.event" && strings.Contains(string(ev.Data), `"kind":"room_ended"`)
		case <-ctxFor(t).Done():
			t.Fatal("the customer never saw the close and the room's end")
		}
	}
	for _, ev := range settle(t, cust) {
		rec.frames = append(rec.frames, ev.Type+" "+string(ev.Data))
	}
	ask("chat.resume", map[string]any{"conversation_id": id, "after_seq": 0})
	ask("chat.mine", nil)
	code, body := call(t, "GET", fmt.Sprintf("%s/api/conversations/%d/transcript", s.base, id), token, "")
	if code != http.StatusOK {
		t.Fatalf("the customer's transcript: %d %s", code, body)
	}

	norm := func(raw string) string { return normalise(t, raw, id, ids) }
	kept := rec.frames[:0]
	for _, f := range rec.frames {
		typ, data, _ := strings.Cut(f, " ")
		if typ == "chat.queue_position" {
			// The place in line is told at most every 200 ms after a
			// change: whether a telling comes before the accept is a
			// matter of timing, watched or not.
			continue
		}
		kept = append(kept, typ+" "+norm(data))
		if typ == "chat.event" {
			rec.events = append(rec.events, kept[len(kept)-1])
		}
	}
	rec.frames = kept
	for i, a := range rec.answers {
		typ, data, _ := strings.Cut(a, " ")
		rec.answers[i] = typ + " " + norm(data)
	}
	rec.transcript = norm(body)
	return rec
}

// normalise is a frame's JSON with its times dropped (time, *_at) and the
// run's ids named: the conversation CONV, the room and its participants
// as in ids. ICE servers carry credentials made per join.
func normalise(t *testing.T, raw string, conv int64, ids map[string]string) string {
	t.Helper()
	if raw == "" || raw == "null" {
		return raw
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	var walk func(v any, in string) any // in: the key v is under
	walk = func(v any, in string) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch {
				case k == "time" || strings.HasSuffix(k, "_at") || k == "ice_servers" || k == "expires":
					delete(x, k)
				case (k == "conversation_id" || k == "id" && (in == "" || in == "conversation" || in == "conversations")) &&
					e == float64(conv):
					x[k] = "CONV"
				default:
					x[k] = walk(e, k)
				}
			}
			return x
		case []any:
			for i, e := range x {
				x[i] = walk(e, in)
			}
			return x
		case string:
			if name, ok := ids[x]; ok {
				return name
			}
			return x
		}
		return v
	}
	out, _ := json.Marshal(walk(v, "")) // map keys sorted
	return string(out)
}

func TestASpyingSupervisorChangesNothingTheCustomerReceives(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	request(t, s.agent(t, "bob"), "agent.status", map[string]any{"status": "paused", "reason": "test"}, nil)
	alice, sam := s.agent(t, "alice"), s.agent(t, "sam")
	alone := spyRun(t, s, alice, sam, false)
	watched := spyRun(t, s, alice, sam, true)

	same := func(what string, a, b []string) {
		t.Helper()
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s differ with a supervisor watching:\nalone:\n  %s\nwatched:\n  %s", what,
				strings.Join(a, "\n  "), strings.Join(b, "\n  "))
		}
	}
	// The chat's events arrive in seq order; the room's and typing
	// frames come on other subjects, so only their set is compared.
	same("the customer's chat events", alone.events, watched.events)
	sorted := func(l []string) []string { l = append([]string(nil), l...); sort.Strings(l); return l }
	same("the customer's frames", sorted(alone.frames), sorted(watched.frames))
	same("the answers to the customer's requests", alone.answers, watched.answers)
	same("the customer's transcripts", []string{alone.transcript}, []string{watched.transcript})
	if len(alone.events) < 8 || !strings.Contains(strings.Join(alone.frames, ""), "room.participant_joined") ||
		!strings.Contains(strings.Join(alone.answers, ""), `"ALICE"`) {
		t.Fatalf("the run is too thin to prove anything: %v", alone.frames)
	}
}
