// Package chattest is what the tests of chat and its packages share: a
// fresh database with auth's and chat's tables, its users, visitors and
// unique names. Only tests import it.
package chattest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/chat/schema"
	"parley/store/storetest"
)

// Quiet logs nothing.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var seq atomic.Int64

// Unique is prefix made unique in the database: no other call of this
// test binary, nor an earlier run, returns it.
func Unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, seq.Add(1), time.Now().UnixNano()%1e9)
}

// DB is a fresh database (storetest.Pool) with auth's and chat's tables,
// and the auth service over it, which adds users.
func DB(t testing.TB) (*pgxpool.Pool, *auth.Service) {
	t.Helper()
	pool := storetest.Pool(t, auth.Migrations, schema.Migrations)
	a, err := auth.NewService(context.Background(), pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	return pool, a
}

// User adds a user shown as name with role, and returns it signed in.
func User(t testing.TB, a *auth.Service, name string, role auth.Role) auth.Principal {
	t.Helper()
	username := Unique(strings.ToLower(strings.ReplaceAll(name, " ", "-")))
	u, err := a.CreateUser(context.Background(), auth.NewUser{Username: username, Name: name, Role: role,
		Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	return auth.Principal{Kind: auth.KindUser, Role: role, UserID: u.ID, Name: name}
}

// Staff are a fixture's users: the agents Alice and Bob and the
// supervisor Sue.
type Staff struct{ Alice, Bob, Sue auth.Principal }

// NewStaff adds Alice, Bob and Sue.
func NewStaff(t testing.TB, a *auth.Service) Staff {
	t.Helper()
	return Staff{User(t, a, "Alice", auth.RoleAgent), User(t, a, "Bob", auth.RoleAgent), User(t, a, "Sue", auth.RoleSupervisor)}
}

// Visitor is a new visitor (a customer) of the queue with key, who has
// not chatted before.
func Visitor(name, key string) auth.Principal {
	return auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: Unique("v-" + name), Scope: key}
}
