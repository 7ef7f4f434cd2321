package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen follows the PostgreSQL channel (LISTEN) on a connection of its
// own, outside pool, until ctx ends. It calls listening each time it has
// begun to listen (at first, and after every reconnect: a notification
// sent meanwhile was missed, so the caller looks again) and notified with
// each notification's payload. A lost connection is logged and made again
// a second later.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel string, log *slog.Logger, listening func(), notified func(payload string)) {
	for {
		err := listenOnce(ctx, pool, channel, listening, notified)
		if ctx.Err() != nil {
			return
		}
		log.Warn("following the database's notifications", "channel", channel, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, channel string, listening func(), notified func(string)) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(ctx) //nolint:errcheck // the connection is being dropped
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		notified(n.Payload)
	}
}
