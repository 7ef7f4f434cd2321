package signaling

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The reader splits every request into its members without encoding/json's
// reflection (DecodeRequest, lineOf): the frame is checked once with
// json.Valid, then walked here. What it finds is what encoding/json would
// put in a struct of json.RawMessage fields: a key matches a field name
// as encoding/json matches it (bytes.EqualFold, after unescaping), and
// when a key comes twice the last one counts.

// eachMember calls fn with the key (quoted, as written) and the value of
// each member of the JSON object obj, in order. obj must be valid JSON;
// on anything else it stops and reports false, never reading out of
// bounds.
func eachMember(obj []byte, fn func(key, value []byte)) bool {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return true
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return false
		}
		end := skipString(obj, i)
		if end < 0 {
			return false
		}
		key := obj[i:end]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return false
		}
		i = skipSpace(obj, i+1)
		vend := skipValue(obj, i)
		if vend < 0 {
			return false
		}
		fn(key, obj[i:vend])
		i = skipSpace(obj, vend)
		if i >= len(obj) {
			return false
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return true
		default:
			return false
		}
	}
}

// skipSpace is the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString is the index just past the string that starts at b[i] (a
// quote), or -1.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue is the index just past the value that starts at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := skipString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // a number, true, false or null
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// keyIs reports whether the quoted key names field as encoding/json
// matches a struct field's name.
func keyIs(key []byte, field string) bool {
	if len(key) < 2 {
		return false
	}
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return bytes.EqualFold(inner, []byte(field))
	}
	var s string
	if json.Unmarshal(key, &s) != nil {
		return false
	}
	return bytes.EqualFold([]byte(s), []byte(field))
}

// stringOf decodes a JSON value into a string as json.Unmarshal does,
// without it for the usual plain string.
func stringOf(value []byte) (string, error) {
	if n := len(value); n >= 2 && value[0] == '"' && value[n-1] == '"' {
		inner := value[1 : n-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(value, &s)
	return s, err
}

// isRequestType reports whether t has the form of a request type:
// namespace.name, lower case, as `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`.
func isRequestType(t string) bool {
	parts, start := 0, true
	for i := 0; i < len(t); i++ {
		switch ch := t[i]; {
		case ch == '.':
			if start {
				return false
			}
			start = true
		case 'a' <= ch && ch <= 'z':
			if start {
				parts++
			}
			start = false
		case '0' <= ch && ch <= '9', ch == '_':
			if start {
				return false
			}
		default:
			return false
		}
	}
	return !start && parts >= 2
}
