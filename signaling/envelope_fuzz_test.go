package signaling

import (
	"encoding/json"
	"testing"
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
