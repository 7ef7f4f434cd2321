package signaling

import (
	"errors"
	"strings"
	"testing"
)

// Text the database cannot store is refused by the decoder, for every
// request type and at any depth of data, naming the field; text it can
// store passes untouched.
func TestDataTheDatabaseCannotStoreIsABadRequestNamingTheField(t *testing.T) {
	for _, c := range []struct {
		data  string
		field string // "" when the request is fine
	}{
		{`{"text":"a\u0000b"}`, `"text" contains a NUL`},
		{`{"candidate":{"sdpMid":"\u0000"}}`, `"candidate.sdpMid" contains a NUL`},
		{`{"tracks":[{"track_id":"ok"},{"track_id":"x\u0000"}]}`, `"tracks[1].track_id" contains a NUL`},
		{`{"name":"\ud800"}`, `"name" is not valid UTF-8`},
		{`{"name":"\udc00x"}`, `"name" is not valid UTF-8`},
		{`{"name":"\uD800\u0041"}`, `"name" is not valid UTF-8`},
		{`{"name":"\ud83d"}`, `"name" is not valid UTF-8`},
		{"{\"name\":\"\xff\"}", `"name" is not valid UTF-8`},
		{`{"reason":"fine","status":"\u0000"}`, `"status" contains a NUL`},
		{`{"name":"\ud83d\ude00 ok"}`, ""},
		{`{"name":"\\u0000 is how JSON writes NUL"}`, ""},
		{`{"name":"\u00e9t\u00e9 \u2603"}`, ""},
		{`{"name":"plain","n":1,"list":[true,null]}`, ""},
	} {
		frame := `{"type":"chat.send","id":"1","data":` + c.data + `}`
		env, err := DecodeRequest([]byte(frame))
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.data, err)
			}
			continue
		}
		var we *Error
		if !errors.As(err, &we) || we.Code != CodeBadRequest || !strings.HasPrefix(we.Message, c.field) {
			t.Errorf("%s: got %v, want bad_request starting %s", c.data, err, c.field)
		}
		if env.ID != "1" {
			t.Errorf("%s: the error does not answer the request id (%q)", c.data, env.ID)
		}
	}
}

type testRef struct {
	RoomID string `json:"room_id"`
}

// A wrong JSON type is a bad_request whose message names the field as
// the client wrote it, never a Go struct or type.
func TestBindNamesTheWireFieldNotAGoStruct(t *testing.T) {
	var in struct {
		testRef
		Version *int `json:"version"`
		Tracks  []struct {
			TrackID string `json:"track_id"`
			Muted   bool   `json:"muted"`
		} `json:"tracks"`
		Invite []int64 `json:"invite"`
	}
	for _, c := range []struct{ data, want string }{
		{`{"room_id":5}`, `"room_id" must be a JSON string, not a number`},
		{`{"room_id":{}}`, `"room_id" must be a JSON string, not an object`},
		{`{"room_id":[]}`, `"room_id" must be a JSON string, not an array`},
		{`{"version":"1"}`, `"version" must be a JSON number, not a string`},
		{`{"tracks":[{"muted":"yes"}]}`, `"tracks.muted" must be a JSON boolean, not a string`},
		{`{"tracks":{}}`, `"tracks" must be a JSON array, not an object`},
		{`{"invite":[1,"x"]}`, `"invite" must be a JSON number, not a string`},
		{`{"version":1e99}`, `"version" is out of range (1e99)`},
	} {
		err := Bind([]byte(c.data), &in)
		var we *Error
		if !errors.As(err, &we) || we.Code != CodeBadRequest || we.Message != c.want {
			t.Errorf("%s: got %v, want bad_request %s", c.data, err, c.want)
		}
	}
}
