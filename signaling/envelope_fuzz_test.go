package signaling

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"parley/chat"
)

// FuzzDecodeRequest checks that any frame either decodes to a request that
// satisfies the envelope rules or fails with a wire-coded error, and never
// panics. The seed corpus is in testdata/fuzz/FuzzDecodeRequest.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"type":"session.hello","id":"1","data":{"version":1}}`,
		`{"type":"chat.send","id":"r-17","data":{"text":"hi"}}`,
		`{"type":"session.ping","id":"2"}`,
		`{"type":"x","id":"3"}`,
		`{"type":"session.ping","id":"4","data":"{}"}`,
		`{"type":null,"id":null,"data":null}`,
		`[]`, `""`, `{`, ``, `{"type":"a.b","id":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		env, err := DecodeRequest(frame)
		if err != nil {
			var e *Error
			if !asError(err, &e) || e.Code == "" || e.Message == "" {
				t.Fatalf("error without a wire code: %v", err)
			}
			if len(env.ID) > maxIDLen {
				t.Fatalf("error answers an over-long id %q", env.ID)
			}
			return
		}
		if env.ID == "" || len(env.ID) > maxIDLen || !typeRE.MatchString(env.Type) || len(env.Type) > maxTypeLen {
			t.Fatalf("accepted a bad envelope %+v from %q", env, frame)
		}
		if len(env.Data) > 0 && !json.Valid(env.Data) {
			t.Fatalf("accepted invalid data %q", env.Data)
		}
		if _, err := encodeAck(env.ID, nil); err != nil {
			t.Fatalf("cannot answer %q: %v", env.ID, err)
		}
	})
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

func TestDecodeRequestAcceptsTheDocumentedShape(t *testing.T) {
	env, err := DecodeRequest([]byte(` {"type": "chat.send", "id": "r-17", "data": {"text": "hi"}, "extra": 1} `))
	if err != nil {
		t.Fatal(err)
	}
	if env.Type != "chat.send" || env.ID != "r-17" || string(env.Data) != `{"text": "hi"}` {
		t.Fatalf("%+v", env)
	}
}

// encodeAckReference is encodeAck as it was, marshalling twice: the
// reference the one in envelope.go must match byte for byte.
func encodeAckReference(re string, data any) ([]byte, error) {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	return json.Marshal(Envelope{Type: "ack", Re: re, Data: raw})
}

// An ack is written as the envelope's encoding/json writes it, whatever
// the request id and whichever answer: a send's result (which writes its
// own JSON), any other value, a raw message, none.
func FuzzEncodeAckMatchesEncodingJSON(f *testing.F) {
	f.Add("r-1742", 17, int64(1767322445000000006), false, "")
	f.Add("", 0, int64(0), true, "a & b < c \u2028 \"q\" é\n\\")
	f.Add("\xff<\x00>\u2029", -1, int64(-9223372036854775808), false, "\xfe")
	f.Add("r<1>&2", 5, int64(1), false, "<b>")
	f.Add("r\x7f", 3, int64(253402300800000000), true, " { \"x\" : [1, 2] } ")
	f.Fuzz(func(t *testing.T, re string, seq int, nanos int64, dup bool, text string) {
		res := chat.SendResult{Seq: seq, Time: time.Unix(0, nanos).UTC(), Duplicate: dup}
		for _, data := range []any{nil, res, &res, map[string]any{"text": text, "seq": seq},
			json.RawMessage(text), struct{}{}, (*chat.SendResult)(nil)} {
			want, werr := encodeAckReference(re, data)
			got, err := encodeAck(re, data)
			if (err == nil) != (werr == nil) {
				t.Fatalf("encodeAck(%q, %#v): error %v, encoding/json's %v", re, data, err, werr)
			}
			if err == nil && !bytes.Equal(got, want) {
				t.Fatalf("encodeAck(%q, %#v):\n%s\nencoding/json:\n%s", re, data, got, want)
			}
		}
	})
}

// A chat.send's data read by bindSend gives what Bind gives: the same
// input, or the same error.
func FuzzBindSendMatchesBind(f *testing.F) {
	for _, s := range []string{
		`{"conversation_id":4211,"client_id":"m-2f1c9a","text":"Hello, where is my order?"}`,
		`{"conversation_id":-0,"client_id":"a","text":"b","private":true,"Text":"c","PRIVATE":false}`,
		`{"conversation_id":1.5,"text":"x"}`, `{"conversation_id":1e3}`, `{"conversation_id":"7"}`,
		`{"conversation_id":99999999999999999999,"text":"x"}`, `{"conversation_id":123456789012345678}`,
		`{"conversation_id":3,"text":"line\nbreak \"q\" \u00e9"}`, `{"text":"line\nbreak","client_id":null}`, `{"text":"\xff"}`, `{"private":1}`,
		`{"conversation_id":3,"options":["a","b"]}`, `{"conversation_id":3,"files":[1,2]}`,
		`{"conversation_id":3,"choice":{"message_seq":2,"option_id":1}}`, `{"extra":1,"text":"t"}`,
		`{"conversation_\u0069d":5,"text":"t"}`, `{"ſtext":"x","teXt":"y"}`, `{}`, ``, `[]`, `"text"`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 0 && !json.Valid(data) {
			return // DecodeRequest takes only valid JSON
		}
		var want, got chat.SendInput
		werr := Bind(data, &want)
		err := bindSend(data, &got)
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Fatalf("bindSend(%s): error %v, Bind's %v", data, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("bindSend(%s):\n%+v\nBind:\n%+v", data, got, want)
		}
	})
}
