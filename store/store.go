// Package store opens Parley's PostgreSQL pool, creates the database when it
// is absent, and applies the SQL migrations each domain package embeds.
// Domain packages own their tables and their SQL; store owns only the pool
// and the migration machinery.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune the pool. The zero value is usable.
type Options struct {
	MaxConns       int32         // default 16
	ConnectTimeout time.Duration // per connection attempt; default 3s
	Logger         *slog.Logger
}

// Open connects to the database at dbURL, creating the database first if the
// server says it does not exist. Any failure to reach the server is reported
// in one line that names the URL tried (without its password) and how to
// set another.
func Open(ctx context.Context, dbURL string, opt Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("database URL %q is not valid (set --database-url or PARLEY_DATABASE_URL): %v", Redact(dbURL), err)
	}
	if opt.ConnectTimeout == 0 {
		opt.ConnectTimeout = 3 * time.Second
	}
	if opt.MaxConns == 0 {
		opt.MaxConns = 16
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	cfg.ConnConfig.ConnectTimeout = opt.ConnectTimeout
	cfg.MaxConns = opt.MaxConns
	cfg.HealthCheckPeriod = 10 * time.Second

	err = ping(ctx, cfg.ConnConfig)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name
		if err := createDatabase(ctx, cfg.ConnConfig); err != nil {
			return nil, err
		}
		opt.Logger.Info("created database", "database", cfg.ConnConfig.Database)
		err = ping(ctx, cfg.ConnConfig)
	}
	if err != nil {
		return nil, unreachable(dbURL, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, unreachable(dbURL, err)
	}
	return pool, nil
}

func ping(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// createDatabase connects to the server's maintenance database with the
// same credentials and creates cc.Database. Another node creating it at the
// same moment is not an error.
func createDatabase(ctx context.Context, cc *pgx.ConnConfig) error {
	admin := cc.Copy()
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("database %q does not exist and cannot be created: %w", cc.Database, err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cc.Database}.Sanitize())
	// Another node created it first: PostgreSQL says duplicate_database
	// when the other's creation committed before, and a unique violation
	// of pg_database's name when both ran at once.
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P04" || pe.Code == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", cc.Database, err)
	}
	return nil
}

func unreachable(dbURL string, err error) error {
	return fmt.Errorf("cannot reach PostgreSQL at %s (set --database-url or PARLEY_DATABASE_URL): %w: %v",
		Redact(dbURL), ErrUnavailable, err)
}

// Redact returns dbURL with any password replaced, fit for logs.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		return dbURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
