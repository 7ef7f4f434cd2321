package queues

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// SecretGrace is how long a rotated-out secret still verifies identities:
// the time a company has to give its backend the new one.
const SecretGrace = time.Hour

// Secret is a queue's identity secret as an admin sees it
// (docs/protocol.md, "Verified identity"). The HMAC key is the text of
// Secret, its 64 hex characters, exactly as shown.
type Secret struct {
	Queue  string `json:"queue"`
	Secret string `json:"secret"`
	// RotatedAt is when Secret replaced the one before it; nil for a
	// queue's first secret.
	RotatedAt *time.Time `json:"rotated_at"`
	// PreviousValidUntil is when the secret before it stops verifying;
	// nil when there is none, or it no longer does.
	PreviousValidUntil *time.Time `json:"previous_valid_until"`
}

// newSecret is 32 random bytes in hex.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("chat: queue secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// secretOf reads queue key's secret, making it first when the queue has
// none. An unknown key is ErrNotFound.
func (s *Store) secretOf(ctx context.Context, tx pgx.Tx, key string, rotate bool) (Secret, error) {
	if err := BadText("key", key); err != nil {
		return Secret{}, err
	}
	var id QueueID
	if err := tx.QueryRow(ctx, `SELECT id FROM queues WHERE key = $1 FOR UPDATE`, key).Scan(&id); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return Secret{}, Detail(ErrNotFound, "no such queue")
		}
		return Secret{}, err
	}
	fresh, err := newSecret()
	if err != nil {
		return Secret{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO queue_secrets (queue_id, secret) VALUES ($1, $2)
		ON CONFLICT (queue_id) DO NOTHING`, id, fresh); err != nil {
		return Secret{}, err
	}
	if rotate {
		if fresh, err = newSecret(); err != nil {
			return Secret{}, err
		}
		if _, err := tx.Exec(ctx, `UPDATE queue_secrets SET previous_secret = secret, secret = $2, rotated_at = now()
			WHERE queue_id = $1`, id, fresh); err != nil {
			return Secret{}, err
		}
	}
	out := Secret{Queue: key}
	var until *time.Time
	err = tx.QueryRow(ctx, `SELECT secret, rotated_at,
		CASE WHEN previous_secret IS NOT NULL AND rotated_at + $2 * interval '1 second' > now()
			THEN rotated_at + $2 * interval '1 second' END
		FROM queue_secrets WHERE queue_id = $1`, id, SecretGrace.Seconds()).Scan(&out.Secret, &out.RotatedAt, &until)
	out.PreviousValidUntil = until
	return out, err
}

// QueueSecret is queue key's identity secret, for admins; a queue that
// has none gets one now.
func (s *Store) QueueSecret(ctx context.Context, p auth.Principal, key string) (Secret, error) {
	return s.secret(ctx, p, key, false)
}

// RotateSecret gives queue key a new identity secret, for admins, and
// returns it. The one it replaces still verifies for SecretGrace; one
// rotated out before that stops at once.
func (s *Store) RotateSecret(ctx context.Context, p auth.Principal, key string) (Secret, error) {
	return s.secret(ctx, p, key, true)
}

func (s *Store) secret(ctx context.Context, p auth.Principal, key string, rotate bool) (Secret, error) {
	if err := mustAdmin(p); err != nil {
		return Secret{}, err
	}
	var out Secret
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.secretOf(ctx, tx, key, rotate)
		return err
	})
	return out, err
}

// VerifyingSecrets are the secrets that verify queue id's identities now:
// its current one, then the previous one while SecretGrace after the
// rotation lasts. None when no admin has made one yet.
func (s *Store) VerifyingSecrets(ctx context.Context, id QueueID) ([]string, error) {
	var cur string
	var prev *string
	err := s.pool.QueryRow(ctx, `SELECT secret,
		CASE WHEN rotated_at + $2 * interval '1 second' > now() THEN previous_secret END
		FROM queue_secrets WHERE queue_id = $1`, id, SecretGrace.Seconds()).Scan(&cur, &prev)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if prev != nil {
		return []string{cur, *prev}, nil
	}
	return []string{cur}, nil
}
