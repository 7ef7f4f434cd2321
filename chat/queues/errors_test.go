package queues

import (
	"errors"
	"fmt"
	"testing"

	"parley/fault"
)

// The chat packages' errors keep their sentinel's code, their own message, match
// the sentinel with errors.Is, and are found as a detail with errors.As
// (SaveQueue answers them as they are, without its own wrapping).
func TestChatErrorsKeepCodeMessageAndSentinel(t *testing.T) {
	for _, tc := range []struct {
		err      error
		sentinel *fault.Error
		code     string
		message  string
	}{
		{Bad("members: every member must be an existing username"), ErrBadInput, fault.BadRequest, "members: every member must be an existing username"},
		{Conflict("the chat is %s", "closed"), ErrConflict, fault.Conflict, "the chat is closed"},
		{BadText("name", "a\x00b"), ErrBadInput, fault.BadRequest, ""},
		{detail{ErrForbidden, "only agents accept chats"}, ErrForbidden, fault.Forbidden, "only agents accept chats"},
	} {
		wrapped := fmt.Errorf("in a transaction: %w", tc.err)
		if !errors.Is(wrapped, tc.sentinel) {
			t.Errorf("%v does not match its sentinel %v", tc.err, tc.sentinel)
		}
		var d detail
		if !errors.As(wrapped, &d) || d.Error() != tc.err.Error() {
			t.Errorf("%v is not found as a detail", tc.err)
		}
		var coded interface{ Code() string }
		if !errors.As(tc.err, &coded) || coded.Code() != tc.code {
			t.Errorf("%v: not coded %s", tc.err, tc.code)
		}
		if tc.message != "" && tc.err.Error() != tc.message {
			t.Errorf("message %q, want %q", tc.err.Error(), tc.message)
		}
	}
}
