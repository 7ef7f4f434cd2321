package main

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"parley/auth"
	"parley/chat/crm"
	"parley/store"
)

// A small fill-contacts makes contacts that every kind of k1's searches
// finds, twice over in the same database (each fill's external ids its
// own); k1 runs on them. The same code fills docs/benchmarks.md's 100,000.
func TestFillContactsMakesContactsK1Finds(t *testing.T) {
	ctx := context.Background()
	base := os.Getenv("PARLEY_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	dbURL, drop, err := freshDatabase(base, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Log(err)
		}
	})
	pool, err := store.Open(ctx, dbURL, store.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for range 2 {
		if err := fillContacts(ctx, pool, 1500); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE search <> '' AND external_id IS NOT NULL`).Scan(&n); err != nil || n != 3000 {
		t.Fatalf("%d contacts, %v; want 3000", n, err)
	}
	res, err := k1(ctx, pool, 100, time.Minute, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pass {
		t.Fatalf("k1 failed: %+v", res)
	}
	// Every kind of query made from a contact finds some.
	s := crm.NewContacts(pool)
	staff := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent, UserID: 1}
	r := rand.New(rand.NewPCG(1, 2))
	for _, q := range k1Queries[:len(k1Queries)-1] { // two random letters may find nothing
		for _, k := range []int{0, 777, 1499} {
			query := q.make(r, k)
			got, err := s.Search(ctx, staff, query, crm.MaxContactLimit)
			if err != nil || len(got) == 0 {
				t.Errorf("%s %q (contact %d): %d found, %v", q.name, query, k, len(got), err)
			}
		}
	}
}
