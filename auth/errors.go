package auth

// Sentinel errors. Each answers Code() with its wire code, so the surfaces
// map it without knowing this package.
var (
	ErrInvalidCredentials = codedError{"invalid_credentials", "wrong username or password"}
	ErrUnauthenticated    = codedError{"unauthenticated", "not signed in, or the session has ended"}
	ErrForbidden          = codedError{"forbidden", "not allowed"}
	ErrBadInput           = codedError{"bad_request", "bad input"}
	ErrExists             = codedError{"conflict", "already exists"}
	ErrRateLimited        = codedError{"rate_limited", "too many attempts; try again later"}
)

type codedError struct{ code, msg string }

func (e codedError) Error() string { return e.msg }
func (e codedError) Code() string  { return e.code }
