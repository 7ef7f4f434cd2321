package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"parley/auth"
)

// accounts makes accounts in a fresh service (password "secret"), by
// username.
func accounts(t *testing.T, s *auth.Service, roles map[string]auth.Role) map[string]auth.User {
	t.Helper()
	out := map[string]auth.User{}
	for name, role := range roles {
		u, err := s.CreateUser(context.Background(), auth.NewUser{Username: name, Name: strings.ToUpper(name[:1]) + name[1:], Role: role, Password: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = u
	}
	return out
}

// Who may keep accounts, as a table over every kind of principal: only
// an admin's account.
func TestOnlyAnAdminKeepsAccounts(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u := accounts(t, s, map[string]auth.Role{"ann": auth.RoleAdmin, "al": auth.RoleAgent, "sue": auth.RoleSupervisor, "tom": auth.RoleAgent})
	name, role := "Changed", auth.RoleAdmin
	for _, who := range []auth.Principal{
		u["al"].Principal(), u["sue"].Principal(),
		{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "v"},
		{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g"},
		{Kind: auth.KindVisitor, Role: auth.RoleAdmin, Subject: "forged"}, // an admin role on a token that is no account
	} {
		tom := u["tom"].ID
		for what, err := range map[string]error{
			"list": func() error { _, err := s.Accounts(ctx, who); return err }(),
			"read": func() error { _, err := s.Account(ctx, who, tom); return err }(),
			"edit": func() error {
				_, _, err := s.UpdateAccount(ctx, who, tom, auth.AccountChange{Name: &name, Role: &role})
				return err
			}(),
			"password":   s.SetPassword(ctx, who, tom, "forged-pw", ""),
			"deactivate": func() error { _, err := s.Deactivate(ctx, who, tom); return err }(),
			"reactivate": func() error { _, err := s.Reactivate(ctx, who, tom); return err }(),
		} {
			if !errors.Is(err, auth.ErrForbidden) {
				t.Errorf("%s by %s %s: %v, want forbidden", what, who.Kind, who.Role, err)
			}
		}
	}
	if _, err := s.Login(ctx, "tom", "secret"); err != nil {
		t.Fatalf("tom after the refusals: %v", err)
	}
	admin := u["ann"].Principal()
	for what, err := range map[string]error{
		"read": func() error { _, err := s.Account(ctx, admin, 999999); return err }(),
		"edit": func() error {
			_, _, err := s.UpdateAccount(ctx, admin, 999999, auth.AccountChange{Name: &name})
			return err
		}(),
		"password":   s.SetPassword(ctx, admin, 999999, "new-secret", ""),
		"deactivate": func() error { _, err := s.Deactivate(ctx, admin, 999999); return err }(),
		"reactivate": func() error { _, err := s.Reactivate(ctx, admin, 999999); return err }(),
	} {
		if !errors.Is(err, auth.ErrNoUser) {
			t.Errorf("%s of no such user: %v, want not found", what, err)
		}
	}
}

// A deactivated account cannot sign in (told as a wrong password) and its
// sessions end at once; reactivated, it signs in with its password.
func TestADeactivatedAccountCannotSignInAndItsSessionsEnd(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u := accounts(t, s, map[string]auth.Role{"ann": auth.RoleAdmin, "al": auth.RoleAgent})
	admin := u["ann"].Principal()
	sess, err := s.Login(ctx, "al", "secret")
	if err != nil {
		t.Fatal(err)
	}
	acc, err := s.Deactivate(ctx, admin, u["al"].ID)
	if err != nil || acc.Active || acc.DeactivatedAt == nil {
		t.Fatalf("deactivate: %+v %v", acc, err)
	}
	if _, err := s.Authenticate(ctx, sess.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("the session of a deactivated account: %v", err)
	}
	if _, err := s.Login(ctx, "al", "secret"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("a deactivated account signs in: %v", err)
	}
	if again, err := s.Deactivate(ctx, admin, u["al"].ID); err != nil || again.DeactivatedAt == nil || !again.DeactivatedAt.Equal(*acc.DeactivatedAt) {
		t.Fatalf("deactivated twice: %+v %v", again, err)
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Username != "ann" {
		t.Fatalf("the active users %+v %v", users, err)
	}
	all, err := s.Accounts(ctx, admin)
	if err != nil || len(all) != 2 || all[0].Username != "al" || all[0].Active || all[0].Name != "Al" {
		t.Fatalf("every account %+v %v", all, err)
	}
	if acc, err := s.Reactivate(ctx, admin, u["al"].ID); err != nil || !acc.Active || acc.DeactivatedAt != nil {
		t.Fatalf("reactivate: %+v %v", acc, err)
	}
	sess, err = s.Login(ctx, "al", "secret")
	if err != nil {
		t.Fatalf("sign in after the reactivation: %v", err)
	}
	if acc, err := s.Account(ctx, admin, u["al"].ID); err != nil || acc.LastSignInAt == nil {
		t.Fatalf("the last sign-in: %+v %v", acc, err)
	}
}

// The deployment keeps an active admin: an admin cannot deactivate
// itself, and the last admin cannot be made anything else; with two,
// either may step down.
func TestTheLastAdminStays(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u := accounts(t, s, map[string]auth.Role{"ann": auth.RoleAdmin, "bea": auth.RoleAdmin})
	ann, bea := u["ann"], u["bea"]
	if _, err := s.Deactivate(ctx, ann.Principal(), ann.ID); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("an admin deactivates itself: %v", err)
	}
	agent := auth.RoleAgent
	if _, err := s.Deactivate(ctx, ann.Principal(), bea.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.UpdateAccount(ctx, ann.Principal(), ann.ID, auth.AccountChange{Role: &agent})
	if !errors.Is(err, auth.ErrConflict) || !strings.HasPrefix(err.Error(), "role: Ann is the last admin") {
		t.Fatalf("the last admin steps down: %v", err)
	}
	if _, err := s.Reactivate(ctx, ann.Principal(), bea.ID); err != nil {
		t.Fatal(err)
	}
	acc, changed, err := s.UpdateAccount(ctx, ann.Principal(), ann.ID, auth.AccountChange{Role: &agent})
	if err != nil || !changed || acc.Role != auth.RoleAgent {
		t.Fatalf("an admin of two steps down: %+v %v %v", acc, changed, err)
	}
	if _, _, err := s.UpdateAccount(ctx, bea.Principal(), bea.ID, auth.AccountChange{Role: &agent}); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("now bea is the last: %v", err)
	}
	same := auth.RoleAdmin
	if _, changed, err := s.UpdateAccount(ctx, bea.Principal(), bea.ID, auth.AccountChange{Role: &same}); err != nil || changed {
		t.Fatalf("the same role again: %v %v", changed, err)
	}
}

// A new password works at once; the old one and every session of the
// user end, but an admin who sets its own keeps the session it did it
// from.
func TestANewPasswordEndsTheOtherSessions(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u := accounts(t, s, map[string]auth.Role{"ann": auth.RoleAdmin, "al": auth.RoleAgent})
	admin := u["ann"].Principal()
	al, _ := s.Login(ctx, "al", "secret")
	here, _ := s.Login(ctx, "ann", "secret")
	there, _ := s.Login(ctx, "ann", "secret")
	if err := s.SetPassword(ctx, admin, u["al"].ID, "x", ""); !errors.Is(err, auth.ErrBadInput) || !strings.HasPrefix(err.Error(), "password: ") {
		t.Fatalf("a short password: %v", err)
	}
	if err := s.SetPassword(ctx, admin, u["al"].ID, "new-secret", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, al.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("al's session after the new password: %v", err)
	}
	if _, err := s.Login(ctx, "al", "secret"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("the old password: %v", err)
	}
	if _, err := s.Login(ctx, "al", "new-secret"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	if err := s.SetPassword(ctx, admin, u["ann"].ID, "ann-new", here.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, here.Token); err != nil {
		t.Fatalf("the session the admin set its password from: %v", err)
	}
	if _, err := s.Authenticate(ctx, there.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("the admin's other session: %v", err)
	}
}

// Names and roles are checked as on creation, each error naming its
// field; a name is trimmed.
func TestAnEditIsCheckedFieldByField(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u := accounts(t, s, map[string]auth.Role{"ann": auth.RoleAdmin, "al": auth.RoleAgent})
	admin := u["ann"].Principal()
	blank, long, nul := "  ", strings.Repeat("n", 101), "a\x00b"
	customer := auth.RoleCustomer
	for field, ch := range map[string]auth.AccountChange{
		"name: ":      {Name: &blank},
		"name: 1":     {Name: &long},
		"name: cont":  {Name: &nul},
		"role: agent": {Role: &customer},
	} {
		_, _, err := s.UpdateAccount(ctx, admin, u["al"].ID, ch)
		if !errors.Is(err, auth.ErrBadInput) || !strings.HasPrefix(err.Error(), field) {
			t.Errorf("%q: %v", field, err)
		}
	}
	name := "  Al Agent "
	acc, changed, err := s.UpdateAccount(ctx, admin, u["al"].ID, auth.AccountChange{Name: &name})
	if err != nil || changed || acc.Name != "Al Agent" || acc.Role != auth.RoleAgent {
		t.Fatalf("rename: %+v %v %v", acc, changed, err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "al", Name: "Al", Role: auth.RoleAgent, Password: "secret"}); !errors.Is(err, auth.ErrExists) ||
		!strings.HasPrefix(err.Error(), `username: "al" is taken`) {
		t.Fatalf("a taken username: %v", err)
	}
}
