package conversation

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/chat/queues"
)

// Verified identity (docs/protocol.md, "Verified identity"): the company's
// backend signs what it knows of its customer with the queue's secret,
// the widget passes the token on in chat.start, and the attributes that
// came signed replace what the pre-chat form held and show to staff as
// verified.
//
// A token is PAYLOAD "." SIGNATURE: PAYLOAD is the base64url encoding
// (RFC 4648 §5, without padding) of a JSON object (Identity), SIGNATURE
// the lowercase hex HMAC-SHA256 of PAYLOAD's characters, keyed with the
// queue's secret's text. The MAC covers the exact bytes sent, so no
// canonical form of the JSON is needed: whatever the backend encoded is
// what is checked.

// Identity is what a company's backend signed of its customer.
type Identity struct {
	// Queue is the key of the queue the token is for.
	Queue string `json:"queue"`
	// ID is the customer's id in the company's systems (required).
	ID string `json:"id"`
	// Name and Email, when given, are the customer's as the company knows
	// them; each replaces what the pre-chat form held.
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	// Exp is when the signature stops being good, in Unix seconds.
	Exp int64 `json:"exp"`
}

// The bounds of an identity's expiry.
const (
	// IdentityMaxLifetime is how far ahead Exp may be: a token is made for
	// one page view, not kept.
	IdentityMaxLifetime = 24 * time.Hour
	// IdentitySkew is how far the backend's clock may be from ours: a
	// token is still good this long after Exp, and Exp may be this much
	// beyond IdentityMaxLifetime.
	IdentitySkew = 5 * time.Minute
	// MaxIdentityToken is the longest token taken, in bytes.
	MaxIdentityToken = 4096
)

// Errors of verification; each message starts "identity:".
var (
	errIdentityForm = queues.Bad("identity: the token is not PAYLOAD.SIGNATURE (base64url JSON, a dot, the hex HMAC-SHA256 of PAYLOAD)")
	// ErrIdentitySignature: the signature is not the queue's secret's for
	// this payload (a changed attribute, another queue's secret, a secret
	// rotated out more than SecretGrace ago).
	ErrIdentitySignature = queues.Bad("identity: the signature does not match")
	// ErrIdentityExpired: the token's Exp (with IdentitySkew) has passed.
	ErrIdentityExpired = queues.Bad("identity: the signature has expired")
	// ErrIdentityRequired: the queue is verified_only and chat.start
	// carried no identity.
	ErrIdentityRequired = queues.Detail(queues.ErrForbidden,
		"identity: this chat is only for signed-in customers; sign in on the site and try again")
)

// SignIdentity is the token for id under secret, as the company's backend
// makes it: what the tests and docs/protocol.md's example do.
func SignIdentity(secret string, id Identity) string {
	b, _ := json.Marshal(id)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + identityMAC(secret, payload)
}

// identityMAC is the hex HMAC-SHA256 of payload's characters keyed with
// secret's.
func identityMAC(secret, payload string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyIdentity checks token for the queue with key against the secrets
// that verify it now (queues.Store.VerifyingSecrets) at time now, and
// returns what it carries. The signature is checked before anything in
// the payload is read.
func VerifyIdentity(token, key string, secrets []string, now time.Time) (Identity, error) {
	token = strings.TrimSpace(token)
	if len(token) > MaxIdentityToken {
		return Identity{}, queues.Bad("identity: the token is longer than %d bytes", MaxIdentityToken)
	}
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || payload == "" || strings.Contains(sig, ".") {
		return Identity{}, errIdentityForm
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return Identity{}, errIdentityForm
	}
	match := false
	for _, s := range secrets {
		want, _ := hex.DecodeString(identityMAC(s, payload))
		if hmac.Equal(got, want) {
			match = true
		}
	}
	if !match {
		return Identity{}, ErrIdentitySignature
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return Identity{}, errIdentityForm
	}
	var id Identity
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&id); err != nil {
		return Identity{}, queues.Bad("identity: the payload is not a JSON object of queue, id, name, email and exp: %v", err)
	}
	if err := id.check(key, now); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// check checks a signed identity's fields, and trims them.
func (id *Identity) check(key string, now time.Time) error {
	if err := queues.BadText("identity: queue", id.Queue, "identity: id", id.ID, "identity: name", id.Name,
		"identity: email", id.Email); err != nil {
		return err
	}
	id.ID, id.Name, id.Email = strings.TrimSpace(id.ID), strings.TrimSpace(id.Name), strings.TrimSpace(id.Email)
	exp := time.Unix(id.Exp, 0)
	switch {
	case id.Queue != key:
		return queues.Bad("identity: the token is for the queue %q, not %q", id.Queue, key)
	case id.ID == "":
		return queues.Bad("identity: id (the customer's id in your systems) is required")
	case utf8.RuneCountInString(id.ID) > 200:
		return queues.Bad("identity: id: at most 200 characters")
	case utf8.RuneCountInString(id.Name) > 100:
		return queues.Bad("identity: name: at most 100 characters")
	case id.Email != "" && !validEmail(id.Email):
		return queues.Bad("identity: email: not a valid e-mail address")
	case id.Exp <= 0:
		return queues.Bad("identity: exp (when the signature expires, in Unix seconds) is required")
	case now.After(exp.Add(IdentitySkew)):
		return ErrIdentityExpired
	case exp.After(now.Add(IdentityMaxLifetime + IdentitySkew)):
		return queues.Bad("identity: exp is more than 24 hours away; sign each token for one page view")
	}
	return nil
}

// verified is what a chat's customer had verified: nothing when ID is "".
type verified struct {
	ID          string
	Name, Email bool
}

// identify verifies the identity in's token carries for queue q, and puts
// its name and e-mail, when signed, in place of what the form held. A
// verified-only queue refuses a start without one.
func (s *Log) identify(ctx context.Context, q queues.Queue, in *StartInput) (verified, error) {
	if strings.TrimSpace(in.Identity) == "" {
		if q.VerifiedOnly {
			return verified{}, ErrIdentityRequired
		}
		return verified{}, nil
	}
	secrets, err := s.queues.VerifyingSecrets(ctx, q.ID)
	if err != nil {
		return verified{}, err
	}
	id, err := VerifyIdentity(in.Identity, q.Key, secrets, time.Now())
	if err != nil {
		return verified{}, err
	}
	v := verified{ID: id.ID, Name: id.Name != "", Email: id.Email != ""}
	if v.Name {
		in.Name = id.Name
	}
	if v.Email {
		in.Email = id.Email
	}
	return v, nil
}

// save records v with conversation id, in the transaction that starts it.
func (v verified) save(ctx context.Context, tx pgx.Tx, id ID) error {
	if v.ID == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE conversations SET verified_id = $2, verified_name = $3, verified_email = $4
		WHERE id = $1`, id, v.ID, v.Name, v.Email)
	return err
}

// Verified says which of a customer's attributes its company's backend
// signed (staff only).
type Verified struct {
	ID    bool `json:"id"`
	Name  bool `json:"name"`
	Email bool `json:"email"`
}

// scanVerified sets c's customer's verified attributes from the columns
// Columns reads.
func (c *Conversation) scanVerified(id *string, name, email bool) {
	if id == nil {
		return
	}
	c.Customer.ExternalID = *id
	c.Customer.Verified = &Verified{ID: true, Name: name, Email: email}
}
