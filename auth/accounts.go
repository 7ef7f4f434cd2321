package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"parley/fault"
	"parley/store"
)

// Accounts as an admin keeps them (docs/protocol.md, "Administration"):
// edit the name and the role, set a new password, deactivate and
// reactivate. Who may is decided here: admins only (mayManage); an admin
// cannot deactivate its own account, and the deployment always keeps one
// active admin (lastAdmin). Accounts are never deleted: a deactivated
// one keeps its row, so the history keeps its name, and it cannot sign
// in (Login and Authenticate read only active accounts).

// Account is a user as the admin console lists it.
type Account struct {
	User
	// Active is false once an admin deactivated the account.
	Active        bool       `json:"active"`
	CreatedAt     time.Time  `json:"created_at"`
	DeactivatedAt *time.Time `json:"deactivated_at"`
	LastSignInAt  *time.Time `json:"last_sign_in_at"`
}

const accountColumns = `id, username, display_name, role, NOT disabled, created_at, deactivated_at, last_sign_in_at`

func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Username, &a.Name, &a.Role, &a.Active, &a.CreatedAt, &a.DeactivatedAt, &a.LastSignInAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNoUser
	}
	return a, err
}

// bad is a bad request whose message starts with the field it is about.
func bad(message string) error { return fault.Detail{Of: ErrBadInput, Message: message} }

func checkName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return bad("name: 1–100 characters")
	}
	return nil
}

func checkRole(r Role) error {
	if !isAccountRole(r) {
		return bad("role: agent, supervisor or admin")
	}
	return nil
}

func checkPassword(pw string) error {
	if len(pw) < 4 || len(pw) > 72 {
		return bad("password: 4–72 bytes")
	}
	return nil
}

// mayManage answers forbidden unless by is an admin's account.
func mayManage(by Principal) error {
	if by.Kind != KindUser || !by.Is(RoleAdmin) {
		return fault.Detail{Of: ErrForbidden, Message: "only admins manage accounts"}
	}
	return nil
}

// Accounts lists every account, deactivated ones too, by username.
func (s *Service) Accounts(ctx context.Context, by Principal) ([]Account, error) {
	if err := mayManage(by); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Account reads account id.
func (s *Service) Account(ctx context.Context, by Principal, id UserID) (Account, error) {
	if err := mayManage(by); err != nil {
		return Account{}, err
	}
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM users WHERE id = $1`, id))
}

// AccountChange is what an admin edits of an account; nil leaves a field
// as it is.
type AccountChange struct {
	Name *string
	Role *Role
}

// UpdateAccount changes account id's name and role. It answers the
// account as saved and whether its role changed (the caller then closes
// the user's connections, which hold the old role). Taking the admin
// role from the last active admin is a conflict.
func (s *Service) UpdateAccount(ctx context.Context, by Principal, id UserID, ch AccountChange) (Account, bool, error) {
	if err := mayManage(by); err != nil {
		return Account{}, false, err
	}
	if ch.Name != nil {
		if err := store.CheckTexts("name", *ch.Name); err != nil {
			return Account{}, false, bad(err.Error())
		}
		name := strings.TrimSpace(*ch.Name)
		if err := checkName(name); err != nil {
			return Account{}, false, err
		}
		ch.Name = &name
	}
	if ch.Role != nil {
		if err := checkRole(*ch.Role); err != nil {
			return Account{}, false, err
		}
	}
	var a Account
	var roleChanged bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if ch.Role != nil && *ch.Role != RoleAdmin && before.Role == RoleAdmin && before.Active {
			if err := keepAnAdmin(ctx, tx, before, "role", "take the admin role from"); err != nil {
				return err
			}
		}
		a, err = scanAccount(tx.QueryRow(ctx, `UPDATE users SET display_name = coalesce($2, display_name),
			role = coalesce($3, role) WHERE id = $1 RETURNING `+accountColumns, id, ch.Name, ch.Role))
		roleChanged = err == nil && a.Role != before.Role
		return err
	})
	return a, roleChanged, err
}

// SetPassword gives account id a new password, which an admin chose. The
// user's sessions end, all but keep (the token of the admin's own
// session, when the admin sets its own password: it stays signed in
// where it is).
func (s *Service) SetPassword(ctx context.Context, by Principal, id UserID, password, keep string) error {
	if err := mayManage(by); err != nil {
		return err
	}
	if err := store.CheckTexts("password", password); err != nil {
		return bad(err.Error())
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.opt.BcryptCost)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hash)
		if err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNoUser
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, id, hashToken(keep))
		return err
	})
}

// Deactivate deactivates account id: it cannot sign in, and every session
// of it ends in the same transaction, so its tokens stop working at once.
// Its open connections, its status and its chats are the caller's (web
// asks chat and the websockets' hub). An admin cannot deactivate itself.
// Deactivating an account already deactivated changes nothing and is not
// an error (the caller's clean-up may run again).
func (s *Service) Deactivate(ctx context.Context, by Principal, id UserID) (Account, error) {
	if err := mayManage(by); err != nil {
		return Account{}, err
	}
	if id == by.UserID {
		return Account{}, fault.Detail{Of: ErrConflict, Message: "You cannot deactivate your own account."}
	}
	var a Account
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Role == RoleAdmin && before.Active {
			if err := keepAnAdmin(ctx, tx, before, "", "deactivate"); err != nil {
				return err
			}
		}
		a, err = scanAccount(tx.QueryRow(ctx, `UPDATE users SET disabled = true,
			deactivated_at = coalesce(deactivated_at, now()) WHERE id = $1 RETURNING `+accountColumns, id))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("auth: deactivate: %w", err)
		}
		return nil
	})
	return a, err
}

// Reactivate lets deactivated account id sign in again (with the
// password it had, or one an admin sets).
func (s *Service) Reactivate(ctx context.Context, by Principal, id UserID) (Account, error) {
	if err := mayManage(by); err != nil {
		return Account{}, err
	}
	return scanAccount(s.pool.QueryRow(ctx, `UPDATE users SET disabled = false, deactivated_at = NULL
		WHERE id = $1 RETURNING `+accountColumns, id))
}

// lockAccount reads account id and locks its row for the transaction.
func lockAccount(ctx context.Context, tx pgx.Tx, id UserID) (Account, error) {
	return scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
}

// keepAnAdmin answers conflict when active admin a is the last one, so
// that what would be done to it (doing, e.g. "deactivate") would leave
// no admin; field, when set, starts the message. The active admins are
// locked, so two admins demoting each other at once cannot both succeed.
func keepAnAdmin(ctx context.Context, tx pgx.Tx, a Account, field, doing string) error {
	rows, err := tx.Query(ctx, `SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[UserID])
	if err != nil {
		return err
	}
	for _, other := range ids {
		if other != a.ID {
			return nil
		}
	}
	msg := fmt.Sprintf("%s is the last admin: make another account an admin before you %s them.", a.Name, doing)
	if field != "" {
		msg = field + ": " + msg
	}
	return fault.Detail{Of: ErrConflict, Message: msg}
}
