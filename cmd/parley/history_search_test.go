package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// historyPage is a page of history.search as the tests read it.
type historyPage struct {
	Results []struct {
		Conversation conv `json:"conversation"`
		Important    bool `json:"important"`
		Match        *struct {
			Seq     int  `json:"seq"`
			Private bool `json:"private"`
			Snippet []struct {
				Text string `json:"text"`
				Hit  bool   `json:"hit"`
			} `json:"snippet"`
		} `json:"match"`
	} `json:"results"`
	Cursor string `json:"cursor"`
}

func (h historyPage) ids() []int64 {
	var out []int64
	for _, r := range h.Results {
		out = append(out, r.Conversation.ID)
	}
	return out
}

// Over the websocket of a running server, by role: the customer is
// refused the history; Alice, the chat's agent, finds it by a word of a
// message it wrote and reads the private one; Bob, an agent of the same
// queue but not of the chat, finds nothing and is told not_found; the
// supervisor finds and marks it; given another queue only, the same
// supervisor finds it no more.
func TestHistoryOverTheWebsocketByRole(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, "")
	word := fmt.Sprintf("quokka%d", time.Now().UnixNano())
	send := func(text string, private bool) {
		request(t, tm.alice, "chat.send", tm.data("client_id", text[:12], "text", text, "private", private), nil)
	}
	send("Your "+word+" ships on Monday", false)
	send("Staff only: the "+word+" is a gift", true)
	sam := tm.agent(t, "sam")
	search := map[string]any{"text": strings.ToUpper(word)}

	for typ, data := range map[string]any{"history.search": search, "history.get": tm.data(), "history.filters": map[string]any{},
		"chat.mark": tm.data("important", true)} {
		if code, msg := refusal(t, tm.cust, typ, data); code != "forbidden" {
			t.Errorf("the customer's %s: %s %q, want forbidden", typ, code, msg)
		}
	}

	var h historyPage
	request(t, tm.alice, "history.search", search, &h)
	if len(h.Results) != 1 || h.Results[0].Conversation.ID != tm.id || h.Results[0].Match == nil || h.Results[0].Match.Private {
		t.Fatalf("Alice's search: %+v", h)
	}
	var hit []string
	for _, p := range h.Results[0].Match.Snippet {
		if p.Hit {
			hit = append(hit, p.Text)
		}
	}
	if len(hit) != 1 || hit[0] != word {
		t.Fatalf("hits %v", hit)
	}
	var tr struct {
		Events []struct {
			Kind     string `json:"kind"`
			Text     string `json:"text"`
			Private  bool   `json:"private"`
			OffsetMS *int64 `json:"offset_ms"`
		} `json:"events"`
		Feedback any `json:"feedback"`
	}
	request(t, tm.alice, "history.get", tm.data(), &tr)
	last := tr.Events[len(tr.Events)-1]
	if !last.Private || !strings.Contains(last.Text, "gift") || last.OffsetMS == nil || tr.Feedback != nil {
		t.Fatalf("Alice's transcript ends with %+v", last)
	}

	request(t, tm.bob, "history.search", search, &h)
	if len(h.Results) != 0 {
		t.Fatalf("Bob found %v", h.ids())
	}
	for typ, data := range map[string]any{"history.get": tm.data(), "chat.mark": tm.data("important", true)} {
		if code, msg := refusal(t, tm.bob, typ, data); code != "not_found" {
			t.Errorf("Bob's %s: %s %q, want not_found", typ, code, msg)
		}
	}

	request(t, sam, "chat.mark", tm.data("important", true), nil)
	request(t, sam, "history.search", map[string]any{"text": word, "important": true, "status": "open"}, &h)
	if len(h.Results) != 1 || !h.Results[0].Important {
		t.Fatalf("Sam's search of the important: %+v", h)
	}
	if code, msg := refusal(t, sam, "history.search", map[string]any{"text": word, "limit": 0}); code != "bad_request" ||
		!strings.Contains(msg, `"limit"`) {
		t.Errorf("limit 0: %s %q", code, msg)
	}

	// Sam given another queue only.
	other := tm.addQueue(t, "Elsewhere")
	ctx := context.Background()
	if _, err := tm.db.Exec(ctx, `INSERT INTO supervisor_queues (user_id, queue_id) VALUES ($1, $2)`, tm.users["sam"], other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tm.db.Exec(context.Background(), `DELETE FROM supervisor_queues WHERE queue_id = $1`, other) }) //nolint:errcheck
	request(t, sam, "history.search", search, &h)
	if len(h.Results) != 0 {
		t.Fatalf("Sam, given another queue, found %v", h.ids())
	}
	if code, _ := refusal(t, sam, "history.get", tm.data()); code != "not_found" {
		t.Errorf("Sam, given another queue, history.get: %s", code)
	}
}
