package conversation

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"parley/bus"
)

// The frame of a plain event written without reflection is byte for byte
// bus.Frame's (encoding/json): every string escaped as it escapes them,
// the omitted fields omitted, the time as its MarshalJSON writes it.
func FuzzPlainEventMatchesEncodingJSON(f *testing.F) {
	f.Add(int64(7), 3, "message", "customer", "Vera <v@x>", "a & b < c \u2028 \"quoted\" é\n\t\\", "c1", "", "", false, int64(1767322445000000006), 0)
	f.Add(int64(1), 1, "queued", "system", "", "", "", "", "", true, int64(0), 3600)
	f.Add(int64(-5), -1, "closed", "agent", "Ann\x00\x1f\x7f", "\xff\xfe bad \u2029 \b\f\r", "", "resolved", "r-1", false, int64(-9223372036854775808), -19800)
	f.Fuzz(func(t *testing.T, conv int64, seq int, kind, authorKind, name, text, clientID, status, roomID string,
		private bool, nanos int64, offset int) {
		ev := Event{ConversationID: ID(conv), Seq: seq, Kind: kind, Author: Author{Kind: authorKind, Name: name},
			Text: text, Private: private, ClientID: clientID, Status: status, RoomID: roomID,
			Time: time.Unix(0, nanos).In(time.FixedZone("z", offset%(30*3600)))}
		want, werr := bus.Frame("chat.event", ev)
		got, ok := appendPlainEvent(nil, ev)
		switch {
		case !ok && werr == nil && plainTime(ev.Time):
			t.Fatalf("a plain event was left to encoding/json")
		case ok && werr != nil:
			t.Fatalf("written %s; encoding/json refuses it: %v", got, werr)
		case ok && !bytes.Equal(got, want):
			t.Fatalf("written:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}

// An event with any field a message never has is left to encoding/json.
func TestAnEventThatIsNotPlainIsLeftToEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for name, ev := range map[string]Event{
		"target":   {Target: &Target{Kind: "agent", Name: "Bob"}},
		"mentions": {Mentions: []Mention{{}}},
		"rating":   {Rating: 4},
		"reason":   {Reason: "idle"},
		"limit":    {LimitSeconds: 60},
		"files":    {Files: []FileRef{{}}},
		"ticket":   {Ticket: &EventTicket{}},
		"options":  {Options: []Option{{}}},
		"answered": {Answered: &Answered{}},
		"choice":   {Choice: &Choice{}},
		"contact":  {Contact: &ContactName{}},
		"year":     {Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if ev.Time.IsZero() {
			ev.Time = at
		}
		ev.ConversationID, ev.Seq, ev.Kind = 7, 3, "message"
		if _, ok := appendPlainEvent(nil, ev); ok {
			t.Errorf("%s: written as a plain event", name)
		}
		want, werr := bus.Frame("chat.event", ev)
		got, err := eventFrame(ev)
		if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Errorf("%s: eventFrame %s (%v), bus.Frame %s (%v)", name, got, err, want, werr)
		}
	}
}

// Every field of Event and Author is either written by appendPlainEvent
// or makes an event not plain: a field added to either without deciding
// which would be dropped from the frame without a word.
func TestEveryEventFieldIsWrittenOrLeftToEncodingJSON(t *testing.T) {
	decided := map[reflect.Type][]string{
		reflect.TypeFor[Event](): {
			// written
			"ConversationID", "Seq", "Kind", "Author", "Text", "Private", "ClientID", "Status", "RoomID", "Time",
			// not plain (TestAnEventThatIsNotPlainIsLeftToEncodingJSON)
			"Target", "Mentions", "Rating", "Reason", "LimitSeconds", "Files", "Ticket", "Options", "Answered", "Choice", "Contact",
		},
		reflect.TypeFor[Author](): {"Kind", "Name"},
	}
	for typ, names := range decided {
		known := map[string]bool{}
		for _, n := range names {
			known[n] = true
		}
		for f := range typ.Fields() {
			if f.IsExported() && f.Tag.Get("json") != "-" && !known[f.Name] {
				t.Errorf("%s.%s: neither written by appendPlainEvent nor a reason to leave the event to encoding/json", typ.Name(), f.Name)
			}
		}
	}
}

// BenchmarkEventFrame is the frame of one chat message's event, as
// Publish makes it once or twice per message.
func BenchmarkEventFrame(b *testing.B) {
	ev := Event{ConversationID: 4211, Seq: 17, Kind: KindMessage, Author: Author{Kind: "customer", Name: "Vera Lindqvist"},
		Text: "Hello, I would like to know where my order 7731 is; it was due yesterday.", ClientID: "c-9f2e41",
		Time: time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventFrame(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// A send's result written without reflection is byte for byte
// encoding/json's, and a time it refuses is left to it.
func FuzzSendResultMatchesEncodingJSON(f *testing.F) {
	f.Add(17, int64(1767322445000000006), 0, false)
	f.Add(-1, int64(0), 3600, true)
	f.Add(0, int64(-9223372036854775808), -19800, false)
	f.Add(1<<40, int64(253402300800000000), 0, true) // year 10000
	f.Fuzz(func(t *testing.T, seq int, nanos int64, offset int, dup bool) {
		r := SendResult{Seq: seq, Time: time.Unix(0, nanos).In(time.FixedZone("z", offset%(30*3600))), Duplicate: dup}
		if nanos == 253402300800000000 {
			r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		want, werr := json.Marshal(r)
		got, ok := r.AppendJSON([]byte("x"))
		switch {
		case !ok && werr == nil && plainTime(r.Time):
			t.Fatalf("a plain result was left to encoding/json")
		case !ok && string(got) != "x":
			t.Fatalf("appended %q and reported false", got)
		case ok && werr != nil:
			t.Fatalf("written %s; encoding/json refuses it: %v", got, werr)
		case ok && string(got) != "x"+string(want):
			t.Fatalf("written:\n%s\nencoding/json:\n%s", got[1:], want)
		}
	})
}
