package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
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

var typeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

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
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return env, errMalformed("the frame is not valid JSON: " + jsonProblem(err))
	}
	// Read the id first so that every later error can answer it.
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
		env.Data = raw.Data
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

func encodeAck(re string, data any) ([]byte, error) {
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

func encodeError(re string, we WireError) []byte {
	b, err := json.Marshal(Envelope{Type: "error", Re: re, Error: &we})
	if err != nil {
		// Strings always marshal; this cannot happen.
		panic(err)
	}
	return b
}

// Bind decodes a request's data into v, answering a wrong JSON type with a
// bad_request that names the field. Unknown fields are ignored, so that
// newer clients may send more than an older server reads.
func Bind(data json.RawMessage, v any) error {
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	if err := json.Unmarshal(data, v); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			return errBadRequest(fmt.Sprintf("%q must be of JSON type %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value))
		}
		return errMalformed(jsonProblem(err))
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	default:
		return "number"
	}
}
