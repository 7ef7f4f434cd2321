package web

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"parley/chat"
	"parley/conference"
	"parley/fault"
	"parley/store"
)

// toHTTP answers what fault.Describe says with the status of fault's
// table; the HTTP surface's own errors keep theirs.
func TestToHTTPAnswersAsFaultDescribes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	for _, tc := range []struct {
		err    error
		status int
	}{
		{conference.ErrEnded, http.StatusConflict},
		{fault.Detailf(chat.ErrBadInput, "capacity: 1–100 chats per agent"), http.StatusBadRequest},
		{fmt.Errorf("transcript: %w", store.ErrUnavailable), http.StatusServiceUnavailable},
		{store.ErrNotFound, http.StatusNotFound},
		{errors.New("boom"), http.StatusInternalServerError},
	} {
		code, msg := fault.Describe(tc.err, log)
		if got := toHTTP(tc.err, log); *got != (httpError{tc.status, code, msg}) {
			t.Errorf("%v: toHTTP %+v, want %d %s %q", tc.err, *got, tc.status, code, msg)
		}
	}
	if got := toHTTP(apiError(http.StatusGone, "gone", "This room has ended"), log); *got != (httpError{http.StatusGone, "gone", "This room has ended"}) {
		t.Errorf("apiError: got %+v", *got)
	}
	if got := toHTTP(echo.ErrMethodNotAllowed, log); got.status != http.StatusMethodNotAllowed || got.code != "method_not_allowed" {
		t.Errorf("echo's 405: got %+v", *got)
	}
	buf.Reset()
	if got := toHTTP(chat.ErrTooLong, log); got.status != http.StatusInternalServerError || got.code != "internal" || !strings.Contains(buf.String(), "too_long") {
		t.Errorf("a code HTTP does not answer: got %+v, logged %q; want 500 internal, logged", *got, buf.String())
	}
}
