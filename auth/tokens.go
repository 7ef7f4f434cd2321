package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenSigner makes and checks the HMAC-signed (JWT, HS256) tokens of
// visitors and guests. They need no database row: the scope is inside the
// signed claims.
type tokenSigner struct{ secret []byte }

type claims struct {
	Kind  Kind   `json:"knd"`
	Name  string `json:"name,omitempty"`
	Scope string `json:"scp"`
	jwt.RegisteredClaims
}

const issuer = "parley"

func (t *tokenSigner) sign(p Principal, ttl time.Duration) (string, error) {
	if p.Kind != KindVisitor && p.Kind != KindGuest {
		return "", fmt.Errorf("auth: no scoped token for kind %q", p.Kind)
	}
	if p.Scope == "" {
		return "", fmt.Errorf("%w: a scoped token needs a scope", ErrBadInput)
	}
	now := time.Now()
	c := claims{Kind: p.Kind, Name: p.Name, Scope: p.Scope, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   p.Subject,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
}

func (t *tokenSigner) parse(token string) (Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer), jwt.WithExpirationRequired())
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, errors.Unwrap(err))
	}
	p := Principal{Kind: c.Kind, Name: c.Name, Subject: c.Subject, Scope: c.Scope}
	switch c.Kind {
	case KindVisitor:
		p.Role = RoleCustomer
	case KindGuest:
		p.Role = RoleGuest
	default:
		return Principal{}, ErrUnauthenticated
	}
	if p.Subject == "" || p.Scope == "" {
		return Principal{}, ErrUnauthenticated
	}
	return p, nil
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
