package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"parley/chat"
)

// Envelope is the one shape of every frame (docs/protocol.md).
type Envelope struct {
	Type  string          `json:"type"`
	ID    string          `json:"id,omitempty"`
	Re    string          `json:"re,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *WireError      `json:"error,omitempty"`
}

// WireError is the body of an error envelope.
type WireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Limits of the envelope fields.
const (
	maxTypeLen = 64
	maxIDLen   = 64
)

// DecodeRequest reads a client frame. On failure it returns the envelope as
// far as it could be read (so the error can carry the request id) and an
// error with a wire code.
func DecodeRequest(frame []byte) (Envelope, error) {
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
	if !json.Valid(trimmed) {
		// encoding/json's error says what and where.
		if err := json.Unmarshal(trimmed, &raw); err != nil {
			return env, errMalformed("the frame is not valid JSON: " + jsonProblem(err))
		}
	}
	// What json.Unmarshal would set in raw, without its reflection
	// (members.go).
	eachMember(trimmed, func(key, value []byte) {
		switch {
		case keyIs(key, "type"):
			raw.Type = value
		case keyIs(key, "id"):
			raw.ID = value
		case keyIs(key, "data"):
			raw.Data = value
		}
	})
	// Read the id first so that every later error can answer it.
	if len(raw.ID) > 0 && string(raw.ID) != "null" {
		id, err := stringOf(raw.ID)
		if err != nil {
			return env, errMalformed(`"id" must be a string`)
		}
		env.ID = id
		if len(env.ID) > maxIDLen {
			id := env.ID
			env.ID = ""
			return env, errBadRequest(fmt.Sprintf(`"id" is longer than %d characters (%d)`, maxIDLen, len(id)))
		}
	}
	if len(raw.Type) == 0 || string(raw.Type) == "null" {
		return env, errBadRequest(`"type" is required`)
	}
	typ, err := stringOf(raw.Type)
	if err != nil {
		return env, errMalformed(`"type" must be a string`)
	}
	env.Type = typ
	if len(env.Type) > maxTypeLen || !isRequestType(env.Type) {
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
		env.Data = bytes.Clone(raw.Data) // the caller may reuse frame
	}
	return env, nil
}

// jsonProblem shortens encoding/json's error text to what a client can act on.
func jsonProblem(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}

// encodeAck writes what json.Marshal writes of Envelope{Type: "ack", Re:
// re, Data: data's JSON}, without marshalling twice: data's own JSON
// (json.Marshal's, or its AppendJSON) is already compact and escaped as
// the envelope's RawMessage would make it. A chat.send's result, the
// answer of most requests, writes its own JSON (chat.SendResult's
// AppendJSON).
func encodeAck(re string, data any) ([]byte, error) {
	if r, is := data.(chat.SendResult); is {
		b, ok := r.AppendJSON(ackHead(make([]byte, 0, 96+len(re)), re))
		if ok {
			return append(b, '}'), nil
		}
	}
	var raw []byte
	if data != nil {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return nil, err
		}
	}
	// Sized for the frame, as json.Marshal's copy was: a frame may wait
	// in a slow connection's queue.
	b := make([]byte, 0, len(`{"type":"ack","re":"","data":}`)+len(re)+len(raw))
	if data == nil {
		b = append(b, `{"type":"ack"`...)
		if re != "" {
			b = append(b, `,"re":`...)
			b = appendJSONString(b, re)
		}
		return append(b, '}'), nil
	}
	b = append(ackHead(b, re), raw...)
	return append(b, '}'), nil
}

// ackHead appends an ack's frame up to its data: `{"type":"ack","re":…,"data":`.
func ackHead(b []byte, re string) []byte {
	b = append(b, `{"type":"ack"`...)
	if re != "" {
		b = append(b, `,"re":`...)
		b = appendJSONString(b, re)
	}
	return append(b, `,"data":`...)
}

// appendJSONString appends s as json.Marshal writes it: as it is when
// nothing in it needs escaping (a request id mostly), else
// json.Marshal's.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func encodeError(re string, we WireError) []byte {
	b, err := json.Marshal(Envelope{Type: "error", Re: re, Error: &we})
	if err != nil {
		// Strings always marshal; this cannot happen.
		panic(err)
	}
	return b
}

// Bind decodes a request's data into v, answering a wrong JSON type with a
// bad_request that names the field as the client wrote it. Unknown fields
// are ignored, so that newer clients may send more than an older server
// reads. A null field is the same as a field left out.
func Bind(data json.RawMessage, v any) error {
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	if err := json.Unmarshal(data, v); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			field := wireField(reflect.TypeOf(v), te.Field)
			want := jsonKind(te.Type.Kind())
			if got, ok := strings.CutPrefix(te.Value, "number "); ok && want == "number" {
				return errBadRequest(fmt.Sprintf("%q is out of range (%s)", field, got))
			}
			return errBadRequest(fmt.Sprintf("%q must be a JSON %s, not %s", field, want, jsonValueKind(te.Value)))
		}
		return errMalformed(jsonProblem(err))
	}
	return nil
}

// wireField turns encoding/json's path to a field into the path a client
// wrote: the names of embedded Go structs, which the client never sees,
// are left out ("roomRef.room_id" is "room_id").
func wireField(t reflect.Type, path string) string {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		t = elem(t)
		if t == nil || t.Kind() != reflect.Struct {
			out = append(out, seg)
			t = nil
			continue
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous && f.Tag.Get("json") == "" {
			t = f.Type
			continue
		}
		out = append(out, seg)
		t = fieldByJSONName(t, seg)
	}
	return strings.Join(out, ".")
}

// elem is the type a JSON value of t decodes into, through pointers,
// slices, arrays and maps.
func elem(t reflect.Type) reflect.Type {
	for t != nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
	return nil
}

// fieldByJSONName is the type of t's field (embedded ones included) that
// JSON calls name, or nil.
func fieldByJSONName(t reflect.Type, name string) reflect.Type {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == name || (tag == "" && strings.EqualFold(f.Name, name)):
			return f.Type
		case f.Anonymous && tag == "":
			if e := elem(f.Type); e != nil && e.Kind() == reflect.Struct {
				if ft := fieldByJSONName(e, name); ft != nil {
					return ft
				}
			}
		}
	}
	return nil
}

// jsonKind is the JSON type a Go kind decodes from.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "number"
	}
}

// jsonValueKind names the JSON type encoding/json reports a value as.
func jsonValueKind(v string) string {
	switch {
	case v == "bool":
		return "a boolean"
	case v == "array", v == "object":
		return "an " + v
	case strings.HasPrefix(v, "number"):
		return "a number"
	default:
		return "a " + v
	}
}
