package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrText marks text PostgreSQL will not store in a text column: it holds
// a NUL byte, or it is not valid UTF-8. Either would make the database
// refuse the statement, so every entry point checks its text with
// CheckText first and answers a bad request instead.
var ErrText = errors.New("text the database cannot store")

// textError is ErrText with what exactly is wrong.
type textError string

func (e textError) Error() string        { return string(e) }
func (e textError) Is(target error) bool { return target == ErrText }

// CheckText reports why PostgreSQL would refuse s as text, or nil. The
// error's text is a phrase to follow a field's name: "name: " + err.
func CheckText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return textError(`contains a NUL character (\u0000), which cannot be stored`)
	}
	if !utf8.ValidString(s) {
		return textError("is not valid UTF-8")
	}
	return nil
}

// CheckTexts is CheckText over fields named by the caller, in order: the
// first bad one is reported as "field: problem", wrapping ErrText.
func CheckTexts(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if err := CheckText(fields[i+1]); err != nil {
			return textError(fields[i] + ": " + err.Error())
		}
	}
	return nil
}

// CheckJSON is CheckText over every string in the JSON document data,
// which encoding/json would otherwise pass on (a NUL) or change silently
// into U+FFFD (a lone surrogate escape such as \ud800, or raw bytes that
// are not UTF-8). The error names the first bad string by its path
// ("tracks[0].track_id"), quoted, and wraps ErrText. Object keys are not
// checked: they are never stored. data that is not JSON is left to the
// caller's decoder.
func CheckJSON(data []byte) error {
	if utf8.Valid(data) && !suspectEscape(data) {
		return nil // the usual case: one pass, no allocation
	}
	return walkText("", data)
}

// suspectEscape reports whether data has a \u escape of NUL or of a
// surrogate half. It may say yes for text that is fine (an escaped
// backslash followed by "u0000"); walkText then decides exactly.
func suspectEscape(data []byte) bool {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(`\u`))
		if j < 0 || i+j+6 > len(data) {
			return false
		}
		i += j + 2
		h := data[i : i+4]
		if string(h) == "0000" || (h[0] == 'd' || h[0] == 'D') && strings.IndexByte("89abcdefABCDEF", h[1]) >= 0 {
			return true
		}
	}
}

// walkText finds the first string in the JSON value raw, at path, that
// the database cannot store.
func walkText(path string, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		if problem := literalProblem(raw); problem != "" {
			return textError(fmt.Sprintf("%q %s", path, problem))
		}
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil // not JSON: the caller's decoder says so
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := walkText(p, obj[k]); err != nil {
				return err
			}
		}
	case '[':
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return nil
		}
		for i, v := range arr {
			if err := walkText(path+"["+strconv.Itoa(i)+"]", v); err != nil {
				return err
			}
		}
	}
	return nil
}

// literalProblem says what in the JSON string literal lit (quotes
// included) the database cannot store, in the words of store.CheckText,
// or "".
func literalProblem(lit []byte) string {
	notUTF8 := "is not valid UTF-8"
	for i := 1; i < len(lit)-1; {
		c := lit[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(lit[i:])
			if r == utf8.RuneError && n == 1 {
				return notUTF8
			}
			i += n
			continue
		}
		if c != '\\' {
			i++
			continue
		}
		if lit[i+1] != 'u' {
			i += 2
			continue
		}
		r := hex4(lit[i+2 : i+6])
		i += 6
		switch {
		case r == 0:
			return CheckText("\x00").Error()
		case utf16.IsSurrogate(r):
			// A high half must be followed by a low half.
			if r >= 0xdc00 || i+6 > len(lit) || lit[i] != '\\' || lit[i+1] != 'u' {
				return notUTF8 + fmt.Sprintf(` (a lone surrogate \u%04x)`, r)
			}
			if lo := hex4(lit[i+2 : i+6]); lo < 0xdc00 || lo > 0xdfff {
				return notUTF8 + fmt.Sprintf(` (a lone surrogate \u%04x)`, r)
			}
			i += 6
		}
	}
	return ""
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}
