// Package storetest gives each test package a fresh database on the real
// PostgreSQL server, and a TCP proxy that can cut the database off to test
// what happens when it goes away.
//
// A test package calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
//
// and Pool(t, migrations...) in each test that needs the database, or
// Fresh(t, migrations...) for a database of the test's own.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/store"
)

// BaseURL is the server the test databases are made on; set
// PARLEY_TEST_DATABASE_URL to use another.
func BaseURL() string {
	if u := os.Getenv("PARLEY_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var (
	dbURL  string
	dbName string
)

// URL is the test package's own database, valid after Main has begun.
func URL() string {
	if dbURL == "" {
		panic("storetest: call storetest.Main(m) from TestMain")
	}
	return dbURL
}

// Main creates the package's database, runs its tests and drops the
// database afterwards, whatever the result.
func Main(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	name := "parley_test_" + pkgName() + "_" + randomHex(4)
	u, err := withDatabase(BaseURL(), name)
	if err == nil {
		err = exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	}
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "storetest: cannot create test database on %s: %v\n", store.Redact(BaseURL()), err)
		os.Exit(2)
	}
	dbURL, dbName = u, name
	code := m.Run()
	if template.name != "" {
		drop(template.name)
	}
	drop(name)
	os.Exit(code)
}

// drop drops database name, whoever is still connected to it.
func drop(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "storetest: drop %s: %v\n", name, err)
	}
}

// template is the package's database that Fresh copies, made at its
// first call.
var template struct {
	once sync.Once
	name string
	err  error
}

var freshSeq atomic.Int64

// Fresh gives test t a database of its own, dropped when t ends, and
// returns its URL: a copy of the package's template, which has sets'
// migrations (applied at the first call, so every call of a package
// passes the same sets). Copying is quicker than migrating, and tests
// that each have their own database may run in parallel.
func Fresh(t testing.TB, sets ...store.Migrations) string {
	t.Helper()
	URL() // Main must have begun
	template.once.Do(func() { template.name, template.err = makeTemplate(dbName+"_tmpl", sets) })
	if template.err != nil {
		t.Fatalf("storetest: template database: %v", template.err)
	}
	name := fmt.Sprintf("%s_%d", dbName, freshSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template.name}.Sanitize()); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { drop(name) })
	u, err := withDatabase(BaseURL(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// makeTemplate creates database name with sets' migrations, and closes
// every connection to it: a database is copied only while nobody is
// connected to it.
func makeTemplate(name string, sets []store.Migrations) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	u, err := withDatabase(BaseURL(), name)
	if err != nil {
		return name, err
	}
	pool, err := store.Open(ctx, u, store.Options{ConnectTimeout: time.Second})
	if err != nil {
		return name, err
	}
	defer pool.Close()
	return name, store.Migrate(ctx, pool, sets...)
}

// Pool opens a pool on the package's database, applies sets, and closes the
// pool when the test ends.
func Pool(t testing.TB, sets ...store.Migrations) *pgxpool.Pool {
	t.Helper()
	return PoolAt(t, URL(), sets...)
}

// PoolAt is Pool on another database URL (a proxy's, say).
func PoolAt(t testing.TB, u string, sets ...store.Migrations) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := store.Open(ctx, u, store.Options{ConnectTimeout: time.Second})
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := store.Migrate(ctx, pool, sets...); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return pool
}

func exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, BaseURL())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// pkgName is the test binary's package, from its name ("signaling.test").
func pkgName() string {
	n := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	var b strings.Builder
	for _, r := range strings.ToLower(n) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 || b.Len() > 30 {
		return "pkg"
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
