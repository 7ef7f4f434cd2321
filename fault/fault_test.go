package fault_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"parley/auth"
	"parley/chat"
	"parley/conference"
	"parley/fault"
	"parley/store"
)

func TestDescribeSaysWhatTheClientIsTold(t *testing.T) {
	const internal = "Something went wrong on the server; it has been logged."
	const unavailable = "The database is not answering; try again in a moment."
	for _, tc := range []struct {
		name          string
		err           error
		code, message string
		logged        bool
	}{
		{"a sentinel", chat.ErrTooLong, fault.TooLong, "the text is longer than the limit", false},
		{"a detail of a sentinel", fault.Detailf(conference.ErrBadInput, "name: %d characters", 101), fault.BadRequest, "name: 101 characters", false},
		{"a wrapped sentinel keeps the whole message", fmt.Errorf("%w: name must be 1–100 characters", auth.ErrBadInput), fault.BadRequest, "bad input: name must be 1–100 characters", false},
		{"a coded error of its own", fault.New(fault.Conflict, "already accepted"), fault.Conflict, "already accepted", false},
		{"a database that does not answer", fmt.Errorf("chat: send: %w", store.ErrUnavailable), fault.Unavailable, unavailable, false},
		{"a passed deadline", fmt.Errorf("chat: read: %w", context.DeadlineExceeded), fault.Unavailable, unavailable, false},
		{"a row that is not there", fmt.Errorf("conference: get: %w", store.ErrNotFound), fault.NotFound, "not found", false},
		{"an unknown error", errors.New("pq: secret detail"), fault.Internal, internal, true},
		{"a code that is not in the table", fault.New("no_such_code", "secret detail"), fault.Internal, internal, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			code, message := fault.Describe(tc.err, slog.New(slog.NewTextHandler(&buf, nil)))
			if code != tc.code || message != tc.message {
				t.Errorf("got %s %q, want %s %q", code, message, tc.code, tc.message)
			}
			if logged := strings.Contains(buf.String(), "level=ERROR"); logged != tc.logged {
				t.Errorf("logged %v, want %v: %s", logged, tc.logged, buf.String())
			}
			if tc.logged && !strings.Contains(buf.String(), "secret detail") {
				t.Errorf("the log does not hold the error: %s", buf.String())
			}
		})
	}
}

func TestADetailMatchesItsSentinelAndNoOther(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", fault.Detailf(chat.ErrBadInput, "capacity: 1–100 chats per agent"))
	if !errors.Is(err, chat.ErrBadInput) {
		t.Error("a detail does not match its sentinel")
	}
	for _, other := range []error{chat.ErrConflict, conference.ErrBadInput, auth.ErrBadInput} {
		if errors.Is(err, other) {
			t.Errorf("a detail of chat.ErrBadInput matches %v, another sentinel of the same or another code", other)
		}
	}
	var coded interface{ Code() string }
	if !errors.As(err, &coded) || coded.Code() != fault.BadRequest {
		t.Errorf("the detail's code is not its sentinel's")
	}
}

func TestEverySentinelHasACodeOfTheTable(t *testing.T) {
	for _, s := range []*fault.Error{
		auth.ErrInvalidCredentials, auth.ErrUnauthenticated, auth.ErrForbidden, auth.ErrBadInput, auth.ErrExists, auth.ErrRateLimited,
		chat.ErrNotFound, chat.ErrForbidden, chat.ErrConflict, chat.ErrBadInput, chat.ErrTooLong,
		chat.ErrQueueClosed, chat.ErrQueueFull,
		conference.ErrNotFound, conference.ErrEnded, conference.ErrForbidden, conference.ErrBadInput,
	} {
		if _, ok := fault.Lookup(s.Code()); !ok {
			t.Errorf("%q has the code %q, which is not in the table", s, s.Code())
		}
	}
}
