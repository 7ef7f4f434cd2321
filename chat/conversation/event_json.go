package conversation

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendPlainEvent appends the chat.event frame of ev as eventFrame's
// encoding/json would write it, without reflection, when ev is plain:
// none of the fields a message never has (a comment's mentions, a
// question's options, files…) set. It reports false, appending nothing,
// for any other event, which encoding/json writes. Messages are most of
// the events, and this was a tenth of a message's server CPU at 1,000 a
// second (docs/benchmarks.md, "CPU per chat message").
func appendPlainEvent(b []byte, ev Event) ([]byte, bool) {
	if ev.Target != nil || len(ev.Mentions) > 0 || ev.Rating != 0 || ev.Reason != "" || ev.LimitSeconds != 0 ||
		len(ev.Files) > 0 || ev.Ticket != nil || len(ev.Options) > 0 || ev.Answered != nil || ev.Choice != nil ||
		ev.Contact != nil || !plainTime(ev.Time) {
		return b, false
	}
	b = append(b, `{"type":"chat.event","data":{"conversation_id":`...)
	b = strconv.AppendInt(b, int64(ev.ConversationID), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(ev.Seq), 10)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, ev.Kind)
	b = append(b, `,"author":{"kind":`...)
	b = appendJSONString(b, ev.Author.Kind)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, ev.Author.Name)
	b = append(b, '}')
	if ev.Text != "" {
		b = append(b, `,"text":`...)
		b = appendJSONString(b, ev.Text)
	}
	b = append(b, `,"private":`...)
	b = strconv.AppendBool(b, ev.Private)
	if ev.ClientID != "" {
		b = append(b, `,"client_id":`...)
		b = appendJSONString(b, ev.ClientID)
	}
	if ev.Status != "" {
		b = append(b, `,"status":`...)
		b = appendJSONString(b, ev.Status)
	}
	if ev.RoomID != "" {
		b = append(b, `,"room_id":`...)
		b = appendJSONString(b, ev.RoomID)
	}
	b = append(b, `,"time":"`...)
	b = ev.Time.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}}`...), true
}

// plainTime is a time whose RFC 3339 form time.Time's MarshalJSON writes
// as AppendFormat does, rather than refusing it: a year of four digits
// and a zone offset under a day.
func plainTime(t time.Time) bool {
	_, off := t.Zone()
	y := t.Year()
	return y >= 0 && y <= 9999 && off > -24*3600 && off < 24*3600
}

// appendJSONString appends s as encoding/json writes a string (with its
// HTML escaping): <, > and & escaped, as are control characters, U+2028
// and U+2029; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSON appends r as encoding/json writes it, without reflection,
// and reports true; for a time encoding/json would refuse it appends
// nothing and reports false. The websocket's ack of every chat.send
// writes it (signaling's encodeAck).
func (r SendResult) AppendJSON(b []byte) ([]byte, bool) {
	if !plainTime(r.Time) {
		return b, false
	}
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(r.Seq), 10)
	b = append(b, `,"time":"`...)
	b = r.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","duplicate":`...)
	b = strconv.AppendBool(b, r.Duplicate)
	return append(b, '}'), true
}
