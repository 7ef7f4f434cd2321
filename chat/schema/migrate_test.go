package schema

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/store"
	"parley/store/storetest"
)

// Conversations stored before the customer had a numbering of its own get
// one: their public events are numbered 1, 2, 3… in seq order.
func TestTheMigrationNumbersThePublicEventsOfExistingConversations(t *testing.T) {
	ctx := context.Background()
	u, err := url.Parse(storetest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("parley_test_chat_migrate_%d", time.Now().UnixNano())
	u.Path = "/" + name
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, storetest.BaseURL())
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`) //nolint:errcheck
	})
	before := fstest.MapFS{}
	for _, f := range []string{"0001_chat.sql", "0002_rooms.sql"} {
		b, err := fs.ReadFile(Migrations.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		before[f] = &fstest.MapFile{Data: b}
	}
	pool := storetest.PoolAt(t, u.String(), auth.Migrations, store.Migrations{Component: "chat", FS: before})
	var id int64
	err = pool.QueryRow(ctx, `WITH q AS (INSERT INTO queues (key, name) VALUES ('old', 'Old') RETURNING id)
		INSERT INTO conversations (queue_id, visitor, customer_name, state, last_seq)
		SELECT id, 'v-old', 'Olive', 'active', 5 FROM q RETURNING id`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO conversation_events (conversation_id, seq, kind, author_kind, private)
		VALUES ($1, 1, 'queued', 'customer', false), ($1, 2, 'offered', 'agent', true), ($1, 3, 'accepted', 'agent', false),
		($1, 4, 'message', 'agent', true), ($1, 5, 'message', 'customer', false)`, id); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, pool, auth.Migrations, Migrations); err != nil {
		t.Fatal(err)
	}
	var nums []string
	rows, err := pool.Query(ctx, `SELECT seq || ':' || coalesce(public_seq::text, '-') FROM conversation_events
		WHERE conversation_id = $1 ORDER BY seq`, id)
	if err != nil {
		t.Fatal(err)
	}
	if nums, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	var last int
	if err := pool.QueryRow(ctx, `SELECT last_public_seq FROM conversations WHERE id = $1`, id).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(nums) != "[1:1 2:- 3:2 4:- 5:3]" || last != 3 {
		t.Fatalf("after the migration: %v, last_public_seq %d; want [1:1 2:- 3:2 4:- 5:3] and 3", nums, last)
	}
}
