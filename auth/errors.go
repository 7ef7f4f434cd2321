package auth

import "parley/fault"

// ErrInvalidCredentials is a sign-in with a wrong username or password.
var ErrInvalidCredentials = fault.New(fault.InvalidCredentials, "wrong username or password")

// ErrUnauthenticated is a credential that is missing, unknown, expired or
// revoked.
var ErrUnauthenticated = fault.New(fault.Unauthenticated, "not signed in, or the session has ended")

// ErrForbidden is a principal whose role does not allow the act.
var ErrForbidden = fault.New(fault.Forbidden, "not allowed")

// ErrBadInput is input out of its rules; the error that wraps it says
// which field and why.
var ErrBadInput = fault.New(fault.BadRequest, "bad input")

// ErrExists is an account whose username is taken.
var ErrExists = fault.New(fault.Conflict, "already exists")

// ErrRateLimited is an attempt past its limit.
var ErrRateLimited = fault.New(fault.RateLimited, "too many attempts; try again later")

// ErrConflict is an account change that would leave the deployment
// without an admin, or an admin deactivating itself.
var ErrConflict = fault.New(fault.Conflict, "conflict")

// ErrNoUser is an account id that does not exist.
var ErrNoUser = fault.New(fault.NotFound, "there is no such user")
