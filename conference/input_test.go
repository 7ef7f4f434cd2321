package conference

import (
	"context"
	"errors"
	"strings"
	"testing"

	"parley/auth"
)

// A room's or a guest's name the database cannot store is a bad request
// naming the field, checked before anything is written.
func TestNamesTheDatabaseCannotStoreAreABadRequest(t *testing.T) {
	s := New(nil, nil, nil, nil, nil, Options{})
	number := "4819027736"
	user := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent, UserID: 1, Name: "Alice"}
	for _, bad := range []string{"a\x00b", "a\xffb"} {
		_, err := s.CreateConference(context.Background(), user, bad, nil)
		if !errors.Is(err, ErrBadInput) || !strings.HasPrefix(err.Error(), "name: ") {
			t.Errorf("room name %q: got %v, want a bad request naming name", bad, err)
		}
		_, _, err = s.IssueGuest(Room{Kind: KindConference, Number: &number}, bad)
		if !errors.Is(err, ErrBadInput) || !strings.HasPrefix(err.Error(), "name: ") {
			t.Errorf("guest name %q: got %v, want a bad request naming name", bad, err)
		}
	}
}
