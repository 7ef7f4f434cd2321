package signaling

import (
	"encoding/json"
	"testing"
)

// A request's line is the conversation, else the room, its data names;
// anything else is on the connection's common line.
func TestLineOfNamesTheConversationElseTheRoom(t *testing.T) {
	cases := []struct{ data, line string }{
		{``, ""},
		{`{}`, ""},
		{`{"status": "away"}`, ""},
		{`{"conversation_id": 42, "text": "hi"}`, "conversation 42"},
		{`{"conversation_id":42}`, "conversation 42"},
		{`{"room_id": "r7c1f0a9d2e4b6a81", "sdp": "v=0"}`, `room "r7c1f0a9d2e4b6a81"`},
		{`{"conversation_id": 42, "room_id": "r7c1f0a9d2e4b6a81"}`, "conversation 42"},
		{`{"conversation_id": null, "room_id": "r1"}`, `room "r1"`},
		{`{"conversation_id": {"x": 1}}`, `conversation {"x": 1}`},
	}
	for _, tc := range cases {
		if got := lineOf(json.RawMessage(tc.data)); got != tc.line {
			t.Errorf("lineOf(%s) = %q, want %q", tc.data, got, tc.line)
		}
	}
}

// BenchmarkLineOf is what choosing the line adds to every request that
// is not answered at once: a second, shallow reading of its data.
func BenchmarkLineOf(b *testing.B) {
	env, err := DecodeRequest(sendFrame)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if lineOf(env.Data) != "conversation 4211" {
			b.Fatal("wrong line")
		}
	}
}
