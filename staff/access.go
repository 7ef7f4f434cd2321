package staff

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// The one rule of staff messages:
//
//   - signed-in users (agents, supervisors and admins) may use them;
//     customers and guests may not (ErrForbidden);
//   - a user messages any other active user, by id; not oneself
//     (bad_request), and not an id that is no active user (not_found);
//   - a thread is read, marked read and written only by its two users: to
//     anyone else it does not exist (not_found), whatever their role.

// may says whether p may use staff messages at all.
func may(p auth.Principal) error {
	if !p.IsStaff() || !p.Is(auth.AccountRoles...) {
		return ErrForbidden
	}
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// resolve finds, for p, the thread ref names and the user it is with. A
// pair that has no thread yet has id 0. active asks that the other user
// be active (to be written to); a thread with a user since disabled can
// still be read.
func resolve(ctx context.Context, q querier, p auth.Principal, ref Ref, active bool) (ThreadID, Person, error) {
	if err := may(p); err != nil {
		return 0, Person{}, err
	}
	switch {
	case ref.UserID != 0 && ref.ThreadID != 0:
		return 0, Person{}, bad(`give "user_id" or "thread_id", not both`)
	case ref.UserID < 0 || ref.ThreadID < 0:
		return 0, Person{}, bad(`"user_id" and "thread_id" are positive numbers`)
	case ref.UserID == p.UserID:
		return 0, Person{}, bad("you cannot message yourself")
	}
	if ref.ThreadID != 0 {
		var with auth.UserID
		err := q.QueryRow(ctx, `SELECT CASE WHEN user_a = $2 THEN user_b ELSE user_a END
			FROM staff_threads WHERE id = $1 AND $2 IN (user_a, user_b)`, ref.ThreadID, p.UserID).Scan(&with)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, Person{}, notFound("no such thread")
		}
		if err != nil {
			return 0, Person{}, err
		}
		who, err := person(ctx, q, with, active)
		return ref.ThreadID, who, err
	}
	if ref.UserID == 0 {
		return 0, Person{}, bad(`"user_id" is required: whom to write to`)
	}
	who, err := person(ctx, q, ref.UserID, true)
	if err != nil {
		return 0, Person{}, err
	}
	a, b := pair(p.UserID, who.ID)
	var id ThreadID
	err = q.QueryRow(ctx, `SELECT id FROM staff_threads WHERE user_a = $1 AND user_b = $2`, a, b).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, Person{}, err
	}
	return id, who, nil
}

// person reads a user; an unknown id, or a disabled one when active, is
// not_found.
func person(ctx context.Context, q querier, id auth.UserID, active bool) (Person, error) {
	var who Person
	var disabled bool
	err := q.QueryRow(ctx, `SELECT id, display_name, role, disabled FROM users WHERE id = $1`, id).
		Scan(&who.ID, &who.Name, &who.Role, &disabled)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && active && disabled) {
		return Person{}, notFound("no colleague with id %d", id)
	}
	return who, err
}

// pair orders two users as a thread's row does.
func pair(x, y auth.UserID) (a, b auth.UserID) {
	if x < y {
		return x, y
	}
	return y, x
}
