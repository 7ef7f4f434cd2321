package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/store"
	"parley/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestMigrationsApplyOnceAndTwiceChangesNothing(t *testing.T) {
	pool := storetest.Pool(t)
	set := store.Migrations{Component: "twice", FS: fstest.MapFS{
		"0001_create.sql": {Data: []byte(`CREATE TABLE twice (id int PRIMARY KEY)`)},
		"0002_row.sql":    {Data: []byte(`INSERT INTO twice VALUES (1)`)},
	}}
	for i := 0; i < 2; i++ {
		if err := store.Migrate(ctx(t), pool, set); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	var rows, versions int
	if err := pool.QueryRow(ctx(t), `SELECT count(*) FROM twice`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx(t), `SELECT count(*) FROM schema_migrations WHERE component = 'twice'`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || versions != 2 {
		t.Fatalf("after two runs: %d rows, %d versions recorded; want 1 and 2", rows, versions)
	}
}

func TestFailedMigrationLeavesSchemaUnchangedAndStops(t *testing.T) {
	pool := storetest.Pool(t)
	set := store.Migrations{Component: "broken", FS: fstest.MapFS{
		"0001_ok.sql":    {Data: []byte(`CREATE TABLE broken_ok (id int)`)},
		"0002_half.sql":  {Data: []byte(`CREATE TABLE broken_half (id int); SELECT no_such_column FROM broken_half`)},
		"0003_after.sql": {Data: []byte(`CREATE TABLE broken_after (id int)`)},
	}}
	err := store.Migrate(ctx(t), pool, set)
	if err == nil || !strings.Contains(err.Error(), "0002_half.sql") {
		t.Fatalf("want an error naming 0002_half.sql, got %v", err)
	}
	for table, want := range map[string]bool{"broken_ok": true, "broken_half": false, "broken_after": false} {
		var exists bool
		if err := pool.QueryRow(ctx(t), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists != want {
			t.Errorf("table %s exists = %v, want %v", table, exists, want)
		}
	}
}

func TestMigrationFileNamesAreChecked(t *testing.T) {
	pool := storetest.Pool(t)
	set := store.Migrations{Component: "names", FS: fstest.MapFS{"create.sql": {Data: []byte(`SELECT 1`)}}}
	if err := store.Migrate(ctx(t), pool, set); err == nil {
		t.Fatal("a migration without a version number was accepted")
	}
}

func TestOpenCreatesAnAbsentDatabase(t *testing.T) {
	name := "parley_test_created_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	u := strings.Replace(storetest.BaseURL(), "/postgres?", "/"+name+"?", 1)
	pool, err := store.Open(ctx(t), u, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), storetest.BaseURL())
		if err == nil {
			conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
			conn.Close(context.Background())
		}
	})
	// A second Open finds it there.
	pool, err = store.Open(ctx(t), u, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
}

// Nodes of a deployment started together all create the database at
// once: every one of them starts.
func TestNodesStartingTogetherCreateTheDatabaseOnce(t *testing.T) {
	name := "parley_test_together_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	u := strings.Replace(storetest.BaseURL(), "/postgres?", "/"+name+"?", 1)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), storetest.BaseURL())
		if err == nil {
			conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
			conn.Close(context.Background())
		}
	})
	const nodes = 6
	start := make(chan struct{})
	errs := make(chan error, nodes)
	for i := 0; i < nodes; i++ {
		go func() {
			<-start
			pool, err := store.Open(ctx(t), u, store.Options{})
			if err == nil {
				pool.Close()
			}
			errs <- err
		}()
	}
	close(start)
	for i := 0; i < nodes; i++ {
		if err := <-errs; err != nil {
			t.Errorf("a node did not start: %v", err)
		}
	}
}

func TestOpenUnreachableNamesTheURLAndTheSetting(t *testing.T) {
	_, err := store.Open(ctx(t), "postgres://postgres:secret@127.0.0.1:1/parley?sslmode=disable", store.Options{ConnectTimeout: time.Second})
	if err == nil {
		t.Fatal("opened a database on port 1")
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1", "PARLEY_DATABASE_URL", "--database-url"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("message %q shows the password", msg)
	}
	if !errors.Is(err, store.ErrUnavailable) || !store.IsUnavailable(err) {
		t.Errorf("error is not marked unavailable: %v", err)
	}
}

func TestCutDatabaseIsUnavailableThenRecovers(t *testing.T) {
	proxy := storetest.NewProxy(t)
	pool := storetest.PoolAt(t, proxy.URL())
	if err := pool.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	_, err := pool.Exec(ctx(t), `SELECT 1`)
	if !store.IsUnavailable(err) {
		t.Fatalf("query with the database cut: want unavailable, got %v", err)
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = pool.Exec(ctx(t), `SELECT 1`)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool did not recover after restore: %v", err)
		}
	}
}

func TestIsUnavailableIgnoresQueryErrors(t *testing.T) {
	pool := storetest.Pool(t)
	_, err := pool.Exec(ctx(t), `SELECT no_such_column FROM no_such_table`)
	if err == nil || store.IsUnavailable(err) {
		t.Fatalf("a bad query must not read as unavailable: %v", err)
	}
	if store.IsUnavailable(nil) {
		t.Fatal("nil is unavailable")
	}
}
