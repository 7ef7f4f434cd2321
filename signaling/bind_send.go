package signaling

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"parley/chat"
)

// bindSend is Bind(data, in) for a chat.send, the request most frames
// are: the usual message (a conversation_id that is an integer, a
// client_id and a text that are strings without escapes, private true
// or false, and no other member) is read by walking its members
// (members.go) instead of by encoding/json's reflection. Anything else
// (another member, an escape, a null, a number with a fraction or out of
// range) goes to Bind, so the input and every error are Bind's
// (FuzzBindSendMatchesBind).
func bindSend(data json.RawMessage, in *chat.SendInput) error {
	if plainSend(data, in) {
		return nil
	}
	*in = chat.SendInput{}
	return Bind(data, in)
}

// plainSend fills in from data and reports true when data is a plain
// message; else it reports false and leaves in as it was.
func plainSend(data []byte, in *chat.SendInput) bool {
	var out chat.SendInput
	plain := true
	whole := eachMember(data, func(key, value []byte) {
		if !plain {
			return
		}
		switch {
		case keyIs(key, "conversation_id"):
			n, ok := plainInt(value)
			out.ConversationID, plain = chat.ConversationID(n), ok
		case keyIs(key, "client_id"):
			out.ClientID, plain = plainString(value)
		case keyIs(key, "text"):
			out.Text, plain = plainString(value)
		case keyIs(key, "private"):
			switch string(value) {
			case "true":
				out.Private = true
			case "false":
				out.Private = false
			default:
				plain = false
			}
		default:
			plain = false
		}
	})
	if !whole || !plain {
		return false
	}
	*in = out
	return true
}

// plainInt is a JSON number written as an integer of at most 18 digits,
// which encoding/json would put in an int64 as it is.
func plainInt(value []byte) (int64, bool) {
	digits := value
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(value), 10, 64)
	return n, err == nil
}

// plainString is a JSON string with no escape and valid UTF-8, whose
// value is its bytes between the quotes.
func plainString(value []byte) (string, bool) {
	n := len(value)
	if n < 2 || value[0] != '"' || value[n-1] != '"' {
		return "", false
	}
	inner := value[1 : n-1]
	if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}
