package signaling

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"parley/chat"
	"parley/fault"
	"parley/store"
)

// toWire says what fault.Describe says, the websocket's own errors
// included, except for a code the websocket never sends.
func TestToWireAnswersAsFaultDescribes(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	for _, err := range []error{
		chat.ErrTooLong,
		fault.Detailf(chat.ErrConflict, "the chat is closed"),
		fmt.Errorf("chat: send: %w", store.ErrUnavailable),
		store.ErrNotFound,
		errors.New("boom"),
	} {
		code, msg := fault.Describe(err, quiet)
		if got := toWire(err, quiet); got != (WireError{code, msg}) {
			t.Errorf("%v: toWire %+v, fault.Describe %s %q", err, got, code, msg)
		}
	}
	for _, err := range []error{&Error{CodeConflict, "already in the room"}, fmt.Errorf("join: %w", &Error{CodeConflict, "already in the room"})} {
		if got := toWire(err, quiet); got != (WireError{CodeConflict, "already in the room"}) {
			t.Errorf("%v: toWire %+v, want its code and message", err, got)
		}
	}
	var buf bytes.Buffer
	gone := fault.New(fault.Gone, "This room has ended")
	if got := toWire(gone, slog.New(slog.NewTextHandler(&buf, nil))); got.Code != CodeInternal || !bytes.Contains(buf.Bytes(), []byte("code=gone")) {
		t.Errorf("a code the websocket does not send: got %+v, logged %q; want internal, logged", got, buf.String())
	}
}
