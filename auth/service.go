package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"parley/fault"
	"parley/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the tables auth owns: users, sessions, signing_keys.
var Migrations = store.Migrations{Component: "auth", FS: mustSub(migrations, "migrations")}

// Options configure the Service. Zero values take the defaults.
type Options struct {
	BcryptCost int           // default bcrypt.DefaultCost (10); tests use bcrypt.MinCost
	SessionTTL time.Duration // default 7 days
}

// Service owns accounts, sessions and scoped tokens.
type Service struct {
	pool   *pgxpool.Pool
	opt    Options
	tokens *tokenSigner
	// dummyHash is compared against when a username is unknown, so that a
	// wrong username takes as long as a wrong password.
	dummyHash []byte
}

// User is an account as others may see it.
type User struct {
	ID       UserID `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
}

// Principal is the user as a principal.
func (u User) Principal() Principal {
	return Principal{Kind: KindUser, Role: u.Role, Name: u.Name, UserID: u.ID}
}

// NewService loads (or on first start creates) the token signing key.
func NewService(ctx context.Context, pool *pgxpool.Pool, opt Options) (*Service, error) {
	if opt.BcryptCost == 0 {
		opt.BcryptCost = bcrypt.DefaultCost
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 7 * 24 * time.Hour
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	// First node to start stores its key; every node then reads the same one.
	if _, err := pool.Exec(ctx, `INSERT INTO signing_keys (secret) VALUES ($1) ON CONFLICT (id) DO NOTHING`, secret); err != nil {
		return nil, fmt.Errorf("auth: signing key: %w", err)
	}
	if err := pool.QueryRow(ctx, `SELECT secret FROM signing_keys WHERE id = 1`).Scan(&secret); err != nil {
		return nil, fmt.Errorf("auth: signing key: %w", err)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("parley-timing"), opt.BcryptCost)
	if err != nil {
		return nil, err
	}
	return &Service{pool: pool, opt: opt, tokens: &tokenSigner{secret: secret}, dummyHash: dummy}, nil
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username string
	Name     string
	Role     Role
	Password string
}

var usernameRE = regexp.MustCompile(`^[a-z0-9._-]{2,64}$`)

// CreateUser adds an account. The password is stored only as a bcrypt hash.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	if err := store.CheckTexts("username", nu.Username, "name", nu.Name, "password", nu.Password); err != nil {
		return User{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	nu.Username = strings.ToLower(strings.TrimSpace(nu.Username))
	nu.Name = strings.TrimSpace(nu.Name)
	if !usernameRE.MatchString(nu.Username) {
		return User{}, bad("username: 2–64 characters, each a-z, 0-9, '.', '_' or '-'")
	}
	if err := checkName(nu.Name); err != nil {
		return User{}, err
	}
	if err := checkRole(nu.Role); err != nil {
		return User{}, err
	}
	if err := checkPassword(nu.Password); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), s.opt.BcryptCost)
	if err != nil {
		return User{}, err
	}
	u := User{Username: nu.Username, Name: nu.Name, Role: nu.Role}
	err = s.pool.QueryRow(ctx, `INSERT INTO users (username, display_name, role, password_hash)
		VALUES ($1, $2, $3, $4) RETURNING id`, u.Username, u.Name, u.Role, hash).Scan(&u.ID)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return User{}, fault.Detailf(ErrExists, "username: %q is taken", u.Username)
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: create user: %w", err)
	}
	return u, nil
}

func isAccountRole(r Role) bool {
	for _, a := range AccountRoles {
		if r == a {
			return true
		}
	}
	return false
}

// Session is a signed-in user and the token that proves it.
type Session struct {
	Token   string    `json:"token"`
	User    User      `json:"user"`
	Expires time.Time `json:"expires_at"`
}

// Login checks a username and password and opens a session.
func (s *Service) Login(ctx context.Context, username, password string) (Session, error) {
	if err := store.CheckTexts("username", username, "password", password); err != nil {
		return Session{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	var u User
	var hash []byte
	err := s.pool.QueryRow(ctx, `SELECT id, username, display_name, role, password_hash
		FROM users WHERE username = $1 AND NOT disabled`,
		strings.ToLower(strings.TrimSpace(username))).Scan(&u.ID, &u.Username, &u.Name, &u.Role, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password)) //nolint:errcheck // timing only
		return Session{}, ErrInvalidCredentials
	}
	if err != nil {
		return Session{}, fmt.Errorf("auth: login: %w", err)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return Session{}, ErrInvalidCredentials
	}
	token := sessionPrefix + randomToken()
	expires := time.Now().Add(s.opt.SessionTTL).UTC().Truncate(time.Second)
	// The session only while the account is still active (an admin may
	// have deactivated it since it was read), and the sign-in's time.
	tag, err := s.pool.Exec(ctx, `WITH u AS (UPDATE users SET last_sign_in_at = now() WHERE id = $2 AND NOT disabled RETURNING id)
		INSERT INTO sessions (token_hash, user_id, expires_at) SELECT $1, id, $3 FROM u`,
		hashToken(token), u.ID, expires)
	if err == nil && tag.RowsAffected() == 0 {
		return Session{}, ErrInvalidCredentials
	}
	if err != nil {
		return Session{}, fmt.Errorf("auth: login: %w", err)
	}
	return Session{Token: token, User: u, Expires: expires}, nil
}

// Logout ends the session of token. Ending an unknown session is not an
// error: the outcome is the same.
func (s *Service) Logout(ctx context.Context, token string) error {
	if !strings.HasPrefix(token, sessionPrefix) {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// Authenticate returns the principal a token speaks for: a session token
// (checked in the database) or a visitor or guest token (checked by its
// signature and expiry).
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	switch {
	case token == "":
		return Principal{}, ErrUnauthenticated
	case strings.HasPrefix(token, sessionPrefix):
		var u User
		err := s.pool.QueryRow(ctx, `SELECT u.id, u.username, u.display_name, u.role
			FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled`,
			hashToken(token)).Scan(&u.ID, &u.Username, &u.Name, &u.Role)
		if errors.Is(err, pgx.ErrNoRows) {
			return Principal{}, ErrUnauthenticated
		}
		if err != nil {
			return Principal{}, fmt.Errorf("auth: session: %w", err)
		}
		return u.Principal(), nil
	default:
		return s.tokens.parse(token)
	}
}

// UserByID returns an account.
func (s *Service) UserByID(ctx context.Context, id UserID) (User, error) {
	u := User{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT username, display_name, role FROM users WHERE id = $1`, id).
		Scan(&u.Username, &u.Name, &u.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, store.ErrNotFound
	}
	return u, err
}

// Users lists every active account (Accounts lists the deactivated
// ones too).
func (s *Service) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, username, display_name, role FROM users WHERE NOT disabled ORDER BY username`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[User])
}

// UserByUsername returns an account by its username.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `SELECT id, username, display_name, role FROM users WHERE username = $1`,
		strings.ToLower(username)).Scan(&u.ID, &u.Username, &u.Name, &u.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, store.ErrNotFound
	}
	return u, err
}

// IssueVisitor makes a token for a customer of the queue with key queue.
// subject identifies the visitor across reloads; an empty one makes a new
// visitor.
func (s *Service) IssueVisitor(queue, subject, name string, ttl time.Duration) (string, Principal, error) {
	if subject == "" {
		subject = randomID()
	}
	p := Principal{Kind: KindVisitor, Role: RoleCustomer, Name: name, Subject: subject, Scope: queue}
	tok, err := s.tokens.sign(p, ttl)
	return tok, p, err
}

// IssueGuest makes a token that admits a guest called name to one room.
func (s *Service) IssueGuest(room, name string, ttl time.Duration) (string, Principal, error) {
	p := Principal{Kind: KindGuest, Role: RoleGuest, Name: name, Subject: randomID(), Scope: room}
	tok, err := s.tokens.sign(p, ttl)
	return tok, p, err
}

const sessionPrefix = "ps_"

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
