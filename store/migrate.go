package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migrations is one component's ordered SQL migrations: files named
// NNNN_what.sql at the root of FS, applied in the order of NNNN.
type Migrations struct {
	Component string // e.g. "auth"; versions are counted per component
	FS        fs.FS
}

// migrationLock is the advisory lock key that serialises migrations when
// several nodes start at once.
const migrationLock = 0x7061726c6579 // "parley"

// Migrate applies every migration of sets not yet recorded in
// schema_migrations. Each file runs in its own transaction together with its
// record, so a failed migration leaves the schema as it was and stops here.
func Migrate(ctx context.Context, pool *pgxpool.Pool, sets ...Migrations) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component  text NOT NULL,
		version    integer NOT NULL,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, set := range sets {
		files, err := list(set)
		if err != nil {
			return err
		}
		for _, f := range files {
			var applied bool
			err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations
				WHERE component = $1 AND version = $2)`, set.Component, f.version).Scan(&applied)
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			if applied {
				continue
			}
			sql, err := fs.ReadFile(set.FS, f.name)
			if err != nil {
				return fmt.Errorf("migrate %s/%s: %w", set.Component, f.name, err)
			}
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, string(sql)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (component, version, name)
					VALUES ($1, $2, $3)`, set.Component, f.version, f.name)
				return err
			})
			if err != nil {
				return fmt.Errorf("migration %s/%s failed, schema left unchanged: %w", set.Component, f.name, err)
			}
		}
	}
	return nil
}

type migrationFile struct {
	version int
	name    string
}

func list(set Migrations) ([]migrationFile, error) {
	entries, err := fs.ReadDir(set.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", set.Component, err)
	}
	var files []migrationFile
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migrate %s: %q is not named NNNN_what.sql", set.Component, e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrate %s: %q and %q share version %d", set.Component, prev, e.Name(), v)
		}
		seen[v] = e.Name()
		files = append(files, migrationFile{v, e.Name()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].version < files[j].version })
	return files, nil
}

// SeedLock is the advisory lock key under which a node fills a new
// database with what a first start makes (the demo accounts and queue),
// so nodes starting together make it once.
const SeedLock = migrationLock + 1

// Exclusive runs f while holding the advisory lock key, which one
// connection of the whole deployment holds at a time: nodes starting
// together take turns.
func Exclusive(ctx context.Context, pool *pgxpool.Pool, key int64, f func() error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck
	return f()
}
