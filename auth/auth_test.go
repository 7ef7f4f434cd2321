package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func newService(t *testing.T) *auth.Service {
	t.Helper()
	pool := storetest.Pool(t, auth.Migrations)
	if _, err := pool.Exec(context.Background(), `TRUNCATE users CASCADE`); err != nil {
		t.Fatal(err)
	}
	s, err := auth.NewService(context.Background(), pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoginOpensASessionThatLogoutEnds(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "Carol", Name: "Carol", Role: auth.RoleAgent, Password: "pw-carol"}); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Login(ctx, "carol", "pw-carol")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != auth.KindUser || p.Role != auth.RoleAgent || p.Name != "Carol" || p.Key() != "user:"+sess.User.ID.String() {
		t.Fatalf("principal %+v", p)
	}
	if err := s.Logout(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, sess.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("after logout: %v", err)
	}
}

func TestLoginRefusesWrongPasswordAndUnknownUserAlike(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "dave", Name: "Dave", Role: auth.RoleAgent, Password: "right"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"dave", "wrong"}, {"nobody", "right"}, {"dave", ""}} {
		if _, err := s.Login(ctx, c[0], c[1]); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("login %q/%q: %v, want invalid credentials", c[0], c[1], err)
		}
	}
}

func TestCreateUserValidates(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for name, nu := range map[string]auth.NewUser{
		"bad username": {Username: "a b", Name: "X", Role: auth.RoleAgent, Password: "pass"},
		"no name":      {Username: "xx", Name: " ", Role: auth.RoleAgent, Password: "pass"},
		"customer":     {Username: "xx", Name: "X", Role: auth.RoleCustomer, Password: "pass"},
		"short pw":     {Username: "xx", Name: "X", Role: auth.RoleAgent, Password: "p"},
	} {
		if _, err := s.CreateUser(ctx, nu); !errors.Is(err, auth.ErrBadInput) {
			t.Errorf("%s: %v, want bad input", name, err)
		}
	}
	ok := auth.NewUser{Username: "erin", Name: "Erin", Role: auth.RoleAdmin, Password: "pass"}
	if _, err := s.CreateUser(ctx, ok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, ok); !errors.Is(err, auth.ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestDemoAccountsAreMadeOnceAndCanSignIn(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	made, err := s.EnsureDemoAccounts(ctx)
	if err != nil || len(made) != len(auth.DemoAccounts) {
		t.Fatalf("first start: %d made, %v", len(made), err)
	}
	again, err := s.EnsureDemoAccounts(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second start: %d made, %v", len(again), err)
	}
	sess, err := s.Login(ctx, "alice", auth.DemoPassword)
	if err != nil || sess.User.Role != auth.RoleAgent {
		t.Fatalf("alice: %+v %v", sess, err)
	}
}

func TestScopedTokensCarryTheirScopeAndExpire(t *testing.T) {
	s := newService(t)
	tok, p, err := s.IssueVisitor("q-sales", "", "Vera", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got != p || got.Role != auth.RoleCustomer || got.Scope != "q-sales" {
		t.Fatalf("visitor %+v, want %+v", got, p)
	}
	gtok, gp, err := s.IssueGuest("room-1", "Gus", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Authenticate(context.Background(), gtok); err != nil || got != gp || got.Role != auth.RoleGuest {
		t.Fatalf("guest %+v %v", got, err)
	}
	expired, _, err := s.IssueGuest("room-1", "Old", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"expired":  expired,
		"tampered": tok[:len(tok)-2] + "xx",
		"garbage":  "not-a-token",
		"empty":    "",
		"session?": "ps_unknown",
	} {
		if _, err := s.Authenticate(context.Background(), bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%s token: %v, want unauthenticated", name, err)
		}
	}
}

func TestLimiterRefusesPastBurstPerKey(t *testing.T) {
	l := auth.NewLimiter(time.Hour, 3)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, retry := l.Allow("10.0.0.1")
	if ok || retry <= 0 {
		t.Fatalf("fourth attempt: ok=%v retry=%v", ok, retry)
	}
	if ok, _ := l.Allow("10.0.0.2"); !ok {
		t.Fatal("another key was refused")
	}
}
