package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"parley/auth"
)

// Text the database cannot store is a bad request naming the field, for
// accounts and for sign-in (a form post reaches Login without a JSON
// check), never a failed statement.
func TestAccountTextTheDatabaseCannotStoreIsABadRequest(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for _, bad := range []string{"a\x00b", "a\xffb"} {
		for _, c := range []struct {
			field string
			err   error
		}{
			{"username", func() error {
				_, err := s.CreateUser(ctx, auth.NewUser{Username: bad, Name: "N", Role: auth.RoleAgent, Password: "secret"})
				return err
			}()},
			{"name", func() error {
				_, err := s.CreateUser(ctx, auth.NewUser{Username: "nina", Name: bad, Role: auth.RoleAgent, Password: "secret"})
				return err
			}()},
			{"username", func() error { _, err := s.Login(ctx, bad, "secret"); return err }()},
		} {
			if !errors.Is(c.err, auth.ErrBadInput) || !strings.Contains(c.err.Error(), c.field+": ") {
				t.Errorf("%s = %q: got %v, want a bad request naming %s", c.field, bad, c.err, c.field)
			}
		}
	}
}
