package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
)

// The reader's own walk over a request (members.go) must read every frame
// exactly as encoding/json did before it: these fuzz tests compare it with
// the encoding/json versions it replaced, kept here as the reference.

// typeRE is the request type's form, as the protocol states it.
var typeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// decodeRequestJSON is DecodeRequest as it was, through encoding/json.
func decodeRequestJSON(frame []byte) (Envelope, error) {
	var raw struct {
		Type json.RawMessage `json:"type"`
		ID   json.RawMessage `json:"id"`
		Data json.RawMessage `json:"data"`
	}
	var env Envelope
	trimmed := bytes.TrimSpace(frame)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return env, errMalformed("a frame must be one JSON object")
	}
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return env, errMalformed("the frame is not valid JSON: " + jsonProblem(err))
	}
	if len(raw.ID) > 0 && string(raw.ID) != "null" {
		if err := json.Unmarshal(raw.ID, &env.ID); err != nil {
			return env, errMalformed(`"id" must be a string`)
		}
		if len(env.ID) > maxIDLen {
			id := env.ID
			env.ID = ""
			return env, errBadRequest(fmt.Sprintf(`"id" is longer than %d characters (%d)`, maxIDLen, len(id)))
		}
	}
	if len(raw.Type) == 0 || string(raw.Type) == "null" {
		return env, errBadRequest(`"type" is required`)
	}
	if err := json.Unmarshal(raw.Type, &env.Type); err != nil {
		return env, errMalformed(`"type" must be a string`)
	}
	if len(env.Type) > maxTypeLen || !typeRE.MatchString(env.Type) {
		t := env.Type
		env.Type = ""
		if len(t) > maxTypeLen {
			t = t[:maxTypeLen] + "…"
		}
		return env, errBadRequest(fmt.Sprintf(`"type" %q is not of the form namespace.name`, t))
	}
	if env.ID == "" {
		return env, errBadRequest(`"id" is required on every request`)
	}
	if len(raw.Data) > 0 && string(raw.Data) != "null" {
		if raw.Data[0] != '{' {
			return env, errMalformed(`"data" must be a JSON object`)
		}
		if err := checkText(raw.Data); err != nil {
			return env, err
		}
		env.Data = raw.Data
	}
	return env, nil
}

// lineOfJSON is lineOf as it was, through encoding/json.
func lineOfJSON(data json.RawMessage) string {
	if len(data) == 0 {
		return ""
	}
	var keys struct {
		ConversationID json.RawMessage `json:"conversation_id"`
		RoomID         json.RawMessage `json:"room_id"`
	}
	if json.Unmarshal(data, &keys) != nil {
		return ""
	}
	if k := bytes.TrimSpace(keys.ConversationID); len(k) > 0 && string(k) != "null" {
		return "conversation " + string(k)
	}
	if k := bytes.TrimSpace(keys.RoomID); len(k) > 0 && string(k) != "null" {
		return "room " + string(k)
	}
	return ""
}

// memberSeeds are frames that reach the corners of the walk: escaped and
// case-folded keys, repeated keys, nested and odd values, bad UTF-8.
var memberSeeds = []string{
	`{"type":"chat.send","id":"r-1","data":{"conversation_id":42,"text":"hi"}}`,
	`{"TYPE":"chat.send","Id":"r-1","DATA":{"Conversation_ID":42}}`,
	`{"typ\u0065":"chat.send","\u0069d":"r-1","data":{"conversation\u005fid":"7"}}`,
	`{"type":"chat.send","id":"r-1","id":"r-2","data":{"conversation_id":1,"conversation_id":null,"room_id":"x"}}`,
	`{"type":"chat.send","id":"r-1","data":{"room_id":{"a":[1,"]}",{"b":"\""}]},"conversation_id":-1.5e3}}`,
	`{"type":"chat.sen\u0064","id":"r-\u00e9","data":{"x":[[[]]],"conversation_id":true}}`,
	"{\"type\":\"chat.send\",\"id\":\"r-\xff\",\"data\":{}}",
	` { "type" : "a.b" , "id" : "1" , "data" : { "conversation_id" : 42 } } `,
	`{"type":"a.b","id":1}`, `{"type":1,"id":"1"}`, `{"type":"a.b","id":"1","data":[]}`,
	`{"type":"A.b","id":"1"}`, `{"type":"a.b.","id":"1"}`, `{"type":"a..b","id":"1"}`,
	`{"type":"a.b","id":"1","data":{"k":"\ud800"}}`, `{"type":"a.b","id":"1","data":{"k":"\u0000"}}`,
	`{"type":"a.b","id":"1","ſ":2,"K":3}`, `{"type":"a.b","id":"1","data":{"room_\u0130d":1}}`,
	`{}`, `{"a":}`, `{"type":"a.b" "id":"1"}`, `{"type":"a.b","id":"1"}x`,
}

func addSeeds(f *testing.F) {
	for _, s := range memberSeeds {
		f.Add([]byte(s))
	}
	// The corpus of FuzzDecodeRequest too.
	files, _ := filepath.Glob("testdata/fuzz/FuzzDecodeRequest/*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var v []byte
		if _, err := fmt.Sscanf(string(bytes.SplitN(b, []byte("\n"), 3)[1]), "[]byte(%q)", &v); err == nil {
			f.Add(v)
		}
	}
}

// FuzzDecodeRequestMatchesEncodingJSON: the same envelope or the same
// error, for any frame.
func FuzzDecodeRequestMatchesEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		got, gotErr := DecodeRequest(frame)
		want, wantErr := decodeRequestJSON(frame)
		if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("DecodeRequest(%q)\n = %+v, %v\nencoding/json: %+v, %v", frame, got, gotErr, want, wantErr)
		}
	})
}

// FuzzLineOfMatchesEncodingJSON: the same line for the data of any frame
// DecodeRequest accepts (the only data lineOf is given), and for any
// object at all.
func FuzzLineOfMatchesEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		data := json.RawMessage(frame)
		if env, err := DecodeRequest(frame); err == nil {
			data = env.Data
		} else if !json.Valid(frame) {
			return
		}
		if got, want := lineOf(data), lineOfJSON(data); got != want {
			t.Fatalf("lineOf(%q) = %q, encoding/json: %q", data, got, want)
		}
	})
}

func FuzzIsRequestTypeMatchesTheProtocolsForm(f *testing.F) {
	for _, s := range []string{"chat.send", "a.b", "a", "a.", ".a", "a..b", "a1.b_2.c", "1a.b", "a.1b", "a._b", "A.b", "a.b\n", "é.b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isRequestType(s), typeRE.MatchString(s); got != want {
			t.Fatalf("isRequestType(%q) = %v, the form says %v", s, got, want)
		}
	})
}
