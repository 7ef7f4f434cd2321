package signaling_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/auth"
	"parley/signaling/client"
)

// chat.position over the wire, by role and relation: each caller learns
// the last seq of the chats it may read, in its own numbering (the
// customer's counts no private event), and nothing of the others, not
// even whether they exist; guests are refused chat.* at the router.
func TestChatPositionAnswersEachReaderInItsOwnNumbering(t *testing.T) {
	e := newStaffEnv(t)
	dial := func(token string) *client.Client {
		c, _, err := client.Connect(ctxT(t), e.url, client.Options{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	issue := func(name string) string {
		tok, _, err := e.auth.IssueVisitor(e.queue.Key, "", name, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	guestTok, _, err := e.auth.IssueGuest("room-1", "Gus", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	vera := dial(issue("Vera"))
	var started struct {
		Conversation struct {
			ID int64 `json:"id"`
		} `json:"conversation"`
	}
	raw, err := vera.Request(ctxT(t), "chat.start", map[string]any{"name": "Vera"})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, raw, &started)
	id := started.Conversation.ID
	agent := e.connect(t, e.agent)
	send := func(c *client.Client, text string, private bool) {
		t.Helper()
		if _, err := c.Request(ctxT(t), "chat.send", map[string]any{"conversation_id": id,
			"client_id": text, "text": text, "private": private}); err != nil {
			t.Fatalf("send %s: %v", text, err)
		}
	}
	if _, err := agent.Request(ctxT(t), "chat.accept", map[string]any{"conversation_id": id}); err != nil {
		t.Fatal(err)
	}
	send(agent, "a private note", true)
	send(agent, "Hello Vera", false)
	send(vera, "Hi", false)
	// The numberings, as chat.resume gives them to each side.
	lastSeq := func(c *client.Client) int {
		raw, err := c.Request(ctxT(t), "chat.resume", map[string]any{"conversation_id": id, "after_seq": 0})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Conversation struct {
				LastSeq int `json:"last_seq"`
			} `json:"conversation"`
		}
		decode(t, raw, &out)
		return out.Conversation.LastSeq
	}
	staffSeq, publicSeq := lastSeq(agent), lastSeq(vera)
	if publicSeq >= staffSeq {
		t.Fatalf("the customer's last seq %d is not below staff's %d: no private event in between", publicSeq, staffSeq)
	}
	missing := id + 1_000_000
	ids := []int64{id, missing}
	none := map[int64]int{}
	for _, tc := range []struct {
		who  string
		conn *client.Client
		want map[int64]int // nil: refused
	}{
		{"its customer", vera, map[int64]int{id: publicSeq}},
		{"another customer", dial(issue("Wendy")), none},
		{"its agent", agent, map[int64]int{id: staffSeq}},
		{"another agent", e.connect(t, e.login(t, "other-agent-"+t.Name(), auth.RoleAgent)), none},
		{"a supervisor", e.connect(t, e.super), map[int64]int{id: staffSeq}},
		{"an admin", e.connect(t, e.admin), map[int64]int{id: staffSeq}},
		{"a guest", dial(guestTok), nil},
	} {
		t.Run(tc.who, func(t *testing.T) {
			got, err := tc.conn.Positions(ctxT(t), ids)
			if tc.want == nil {
				if wireCode(err) != "forbidden" {
					t.Fatalf("got %v, %v; want forbidden", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("positions %v, want %v", got, tc.want)
			}
		})
	}
}

// A list of no ids, of more than 100, or of anything but positive ids is
// bad_request, naming the field.
func TestChatPositionRefusesABadList(t *testing.T) {
	e := newStaffEnv(t)
	agent := e.connect(t, e.agent)
	many := make([]int64, 101)
	for i := range many {
		many[i] = int64(i + 1)
	}
	for name, data := range map[string]string{
		"no field":        `{}`,
		"null":            `{"conversation_ids": null}`,
		"no ids":          `{"conversation_ids": []}`,
		"101 ids":         string(mustJSON(t, map[string]any{"conversation_ids": many})),
		"a string":        `{"conversation_ids": "42"}`,
		"a string id":     `{"conversation_ids": ["42"]}`,
		"a fraction":      `{"conversation_ids": [4.2]}`,
		"zero":            `{"conversation_ids": [0]}`,
		"a negative id":   `{"conversation_ids": [42, -1]}`,
		"an object of id": `{"conversation_ids": {"42": 1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := agent.Request(ctxT(t), "chat.position", json.RawMessage(data))
			if wireCode(err) != "bad_request" {
				t.Fatalf("got %v, want bad_request", err)
			}
			if e, ok := err.(*client.Error); !ok || !strings.Contains(e.Message, "conversation_ids") {
				t.Fatalf("the message %v does not name conversation_ids", err)
			}
		})
	}
	// 100 ids of chats nobody has are fine: an empty answer.
	got, err := agent.Positions(ctxT(t), many[:100])
	if err != nil || len(got) != 0 {
		t.Fatalf("100 unknown ids: %v, %v", got, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
