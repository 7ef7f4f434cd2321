package conversation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"parley/auth"
	"parley/chat/chattest"
	"parley/chat/queues"
)

// The worked example of docs/protocol.md ("Verified identity"), which a
// company's developer checks their own code against.
const (
	exampleSecret  = "4f1c0e9a7b2d3c8e5f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e"
	examplePayload = `{"queue":"demo","id":"c-1042","name":"Vera Visitor","email":"vera@example.com","exp":1798761600}`
	exampleToken   = "eyJxdWV1ZSI6ImRlbW8iLCJpZCI6ImMtMTA0MiIsIm5hbWUiOiJWZXJhIFZpc2l0b3IiLCJlbWFpbCI6InZlcmFAZXhhbXBsZS5jb20iLCJleHAiOjE3OTg3NjE2MDB9" +
		".c7251f4d7e370cb0dee40729787fedf816edfa24d4259a409de280f95c5e5db3"
)

func TestTheProtocolsIdentityExampleIsSignedAndVerifiedByteForByte(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{exampleSecret, examplePayload, exampleToken} {
		if !strings.Contains(string(doc), s) {
			t.Errorf("docs/protocol.md does not show %s", s)
		}
	}
	payload := base64.RawURLEncoding.EncodeToString([]byte(examplePayload))
	if got := payload + "." + identityMAC(exampleSecret, payload); got != exampleToken {
		t.Fatalf("signing the example's payload gives\n%s\nnot the example's\n%s", got, exampleToken)
	}
	want := Identity{Queue: "demo", ID: "c-1042", Name: "Vera Visitor", Email: "vera@example.com", Exp: 1798761600}
	if got := SignIdentity(exampleSecret, want); got != exampleToken {
		t.Fatalf("SignIdentity gives %s", got)
	}
	got, err := VerifyIdentity(exampleToken, "demo", []string{exampleSecret}, time.Unix(1798761600, 0).Add(-time.Hour))
	if err != nil || got != want {
		t.Fatalf("the example verifies as %+v, %v", got, err)
	}
}

// resign is token with its payload changed by edit and its signature
// kept: a tampered token.
func resign(t *testing.T, token string, edit func(map[string]any)) string {
	t.Helper()
	payload, sig, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	raw, _ = json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(raw) + "." + sig
}

func TestAnIdentityIsRefusedWhenAnythingInItIsWrong(t *testing.T) {
	now := time.Unix(1798761600, 0).Add(-time.Hour)
	good := Identity{Queue: "demo", ID: "c-1042", Name: "Vera Visitor", Email: "vera@example.com", Exp: now.Add(time.Hour).Unix()}
	sign := func(edit func(*Identity)) string {
		id := good
		edit(&id)
		return SignIdentity(exampleSecret, id)
	}
	const otherSecret = "0000000000000000000000000000000000000000000000000000000000000000"
	for _, c := range []struct {
		name, token string
		at          time.Time
		secrets     []string
		want        string // the error's message; "" is verified
	}{
		{"good", SignIdentity(exampleSecret, good), now, nil, ""},
		{"the id changed", resign(t, SignIdentity(exampleSecret, good), func(m map[string]any) { m["id"] = "c-1043" }), now, nil,
			"identity: the signature does not match"},
		{"the name changed", resign(t, SignIdentity(exampleSecret, good), func(m map[string]any) { m["name"] = "Mallory" }), now, nil,
			"identity: the signature does not match"},
		{"the e-mail changed", resign(t, SignIdentity(exampleSecret, good), func(m map[string]any) { m["email"] = "m@evil.example" }), now, nil,
			"identity: the signature does not match"},
		{"the expiry changed", resign(t, SignIdentity(exampleSecret, good), func(m map[string]any) { m["exp"] = now.Add(20 * time.Hour).Unix() }), now, nil,
			"identity: the signature does not match"},
		{"the queue changed", resign(t, SignIdentity(exampleSecret, good), func(m map[string]any) { m["queue"] = "other" }), now, nil,
			"identity: the signature does not match"},
		{"the signature changed", SignIdentity(exampleSecret, good)[:len(SignIdentity(exampleSecret, good))-1] + "0", now, nil,
			"identity: the signature does not match"},
		{"another queue's secret", SignIdentity(otherSecret, good), now, nil, "identity: the signature does not match"},
		{"no secret made yet", SignIdentity(exampleSecret, good), now, []string{}, "identity: the signature does not match"},
		{"the previous secret still verifying", SignIdentity(otherSecret, good), now, []string{exampleSecret, otherSecret}, ""},
		{"expired", sign(func(id *Identity) { id.Exp = now.Add(-IdentitySkew - time.Second).Unix() }), now, nil,
			"identity: the signature has expired"},
		{"expired within the clock skew", sign(func(id *Identity) { id.Exp = now.Add(-IdentitySkew + time.Second).Unix() }), now, nil, ""},
		{"expiring too far ahead", sign(func(id *Identity) { id.Exp = now.Add(IdentityMaxLifetime + IdentitySkew + time.Second).Unix() }), now, nil,
			"identity: exp is more than 24 hours away; sign each token for one page view"},
		{"no expiry", sign(func(id *Identity) { id.Exp = 0 }), now, nil,
			"identity: exp (when the signature expires, in Unix seconds) is required"},
		{"for another queue", sign(func(id *Identity) { id.Queue = "sales" }), now, nil,
			`identity: the token is for the queue "sales", not "demo"`},
		{"no id", sign(func(id *Identity) { id.ID = " " }), now, nil,
			"identity: id (the customer's id in your systems) is required"},
		{"a bad e-mail", sign(func(id *Identity) { id.Email = "vera" }), now, nil, "identity: email: not a valid e-mail address"},
		{"a name too long", sign(func(id *Identity) { id.Name = strings.Repeat("n", 101) }), now, nil, "identity: name: at most 100 characters"},
		{"no dot", "abc", now, nil, errIdentityForm.Error()},
		{"a signature not hex", "abc.xyz", now, nil, errIdentityForm.Error()},
	} {
		t.Run(c.name, func(t *testing.T) {
			secrets := c.secrets
			if secrets == nil {
				secrets = []string{exampleSecret}
			}
			got, err := VerifyIdentity(c.token, "demo", secrets, c.at)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want == "" && got.ID != "c-1042":
				t.Fatalf("verified as %+v", got)
			case c.want != "" && (err == nil || err.Error() != c.want || !errors.Is(err, queues.ErrBadInput)):
				t.Fatalf("got %+v, %v; want bad_request %q", got, err, c.want)
			}
		})
	}
	unknown := base64.RawURLEncoding.EncodeToString([]byte(`{"queue":"demo","id":"c","exp":1798761600,"mail":"x@y.z"}`))
	if _, err := VerifyIdentity(unknown+"."+identityMAC(exampleSecret, unknown), "demo", []string{exampleSecret}, now); err == nil ||
		!strings.Contains(err.Error(), `unknown field "mail"`) {
		t.Fatalf("an unknown attribute: %v", err)
	}
}

// identityFixture is a writer fixture whose queue has a secret.
func identityFixture(t *testing.T) (*writerFixture, auth.Principal, string) {
	t.Helper()
	f := newWriterFixture(t)
	admin := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAdmin, Name: "Ada"}
	s, err := f.qs.QueueSecret(context.Background(), admin, f.q.Key)
	if err != nil {
		t.Fatal(err)
	}
	return f, admin, s.Secret
}

func (f *writerFixture) token(secret string, edit ...func(*Identity)) string {
	id := Identity{Queue: f.q.Key, ID: "c-1042", Name: "Vera Verified", Email: "vera@example.com", Exp: time.Now().Add(time.Hour).Unix()}
	for _, e := range edit {
		e(&id)
	}
	return SignIdentity(secret, id)
}

func TestASignedIdentityReplacesTheFormAndShowsToStaffOnly(t *testing.T) {
	f, _, secret := identityFixture(t)
	ctx := context.Background()
	vera := chattest.Visitor("vera", f.q.Key)
	c, _, err := f.svc.Start(ctx, vera, StartInput{Name: "Typed Name", Email: "typed@example.com",
		Identity: f.token(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Customer.Name != "Vera Verified" || c.Customer.Email != "vera@example.com" {
		t.Fatalf("the customer's view: %+v", c.Customer)
	}
	if c.Customer.Verified != nil || c.Customer.ExternalID != "" {
		t.Fatalf("the customer sees what staff see: %+v", c.Customer)
	}
	staff, _, err := f.svc.Resume(ctx, f.sup, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := Verified{ID: true, Name: true, Email: true}
	if staff.Customer.ExternalID != "c-1042" || staff.Customer.Verified == nil || *staff.Customer.Verified != want {
		t.Fatalf("staff see %+v", staff.Customer)
	}

	// Only an e-mail signed: the typed name stays, unverified.
	mia := chattest.Visitor("mia", f.q.Key)
	c, _, err = f.svc.Start(ctx, mia, StartInput{Name: "Mia Typed", Identity: f.token(secret, func(id *Identity) { id.ID, id.Name = "c-7", "" })})
	if err != nil {
		t.Fatal(err)
	}
	staff, _, _ = f.svc.Resume(ctx, f.sup, c.ID, 0)
	want = Verified{ID: true, Name: false, Email: true}
	if staff.Customer.Name != "Mia Typed" || staff.Customer.Verified == nil || *staff.Customer.Verified != want {
		t.Fatalf("staff see %+v", staff.Customer)
	}

	// No identity: nothing verified.
	_, id := f.customer(t, "Nora")
	staff, _, _ = f.svc.Resume(ctx, f.sup, id, 0)
	if staff.Customer.Verified != nil || staff.Customer.ExternalID != "" {
		t.Fatalf("an anonymous customer shows as verified: %+v", staff.Customer)
	}
}

func TestABadIdentityStartsNoChat(t *testing.T) {
	f, _, secret := identityFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, token, want string
	}{
		{"tampered", resign(t, f.token(secret), func(m map[string]any) { m["email"] = "boss@example.com" }), "identity: the signature does not match"},
		{"expired", f.token(secret, func(id *Identity) { id.Exp = time.Now().Add(-time.Hour).Unix() }), "identity: the signature has expired"},
		{"another queue's secret", f.token(strings.Repeat("ab", 32)), "identity: the signature does not match"},
	} {
		p := chattest.Visitor("v", f.q.Key)
		_, _, err := f.svc.Start(ctx, p, StartInput{Name: "Vera", Identity: c.token})
		if err == nil || err.Error() != c.want || !errors.Is(err, queues.ErrBadInput) {
			t.Errorf("%s: %v, want bad_request %q", c.name, err, c.want)
		}
		if open, _ := f.svc.openOf(ctx, p); len(open) != 0 {
			t.Errorf("%s: a chat started", c.name)
		}
	}
}

func TestARotatedSecretVerifiesForItsGraceOnly(t *testing.T) {
	f, admin, old := identityFixture(t)
	ctx := context.Background()
	rotated, err := f.qs.RotateSecret(ctx, admin, f.q.Key)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == old || len(rotated.Secret) != 64 || rotated.RotatedAt == nil || rotated.PreviousValidUntil == nil {
		t.Fatalf("rotated: %+v", rotated)
	}
	if again, _ := f.qs.QueueSecret(ctx, admin, f.q.Key); again.Secret != rotated.Secret {
		t.Fatalf("GET after the rotation shows %s, not the new %s", again.Secret, rotated.Secret)
	}
	start := func(secret string) error {
		_, _, err := f.svc.Start(ctx, chattest.Visitor("v", f.q.Key), StartInput{Identity: f.token(secret)})
		return err
	}
	if err := start(rotated.Secret); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	if err := start(old); err != nil {
		t.Fatalf("the previous secret within its grace: %v", err)
	}
	if _, err := f.svc.pool.Exec(ctx, `UPDATE queue_secrets SET rotated_at = now() - $2 * interval '1 second' - interval '1 second'
		WHERE queue_id = $1`, f.q.ID, queues.SecretGrace.Seconds()); err != nil {
		t.Fatal(err)
	}
	if err := start(old); !errors.Is(err, ErrIdentitySignature) {
		t.Fatalf("the previous secret after its grace: %v", err)
	}
	if s, _ := f.qs.QueueSecret(ctx, admin, f.q.Key); s.PreviousValidUntil != nil {
		t.Fatalf("the previous secret still shows as valid: %+v", s)
	}
	if err := start(rotated.Secret); err != nil {
		t.Fatalf("the new secret after the grace: %v", err)
	}
}

func TestAVerifiedOnlyQueueRefusesAnAnonymousStart(t *testing.T) {
	f, _, secret := identityFixture(t)
	ctx := context.Background()
	if _, err := f.svc.pool.Exec(ctx, `UPDATE queues SET verified_only = true WHERE id = $1`, f.q.ID); err != nil {
		t.Fatal(err)
	}
	f.qs.Forget(f.q.ID)
	_, _, err := f.svc.Start(ctx, chattest.Visitor("anon", f.q.Key), StartInput{Name: "Anon"})
	if !errors.Is(err, queues.ErrForbidden) || !strings.HasPrefix(err.Error(), "identity: ") {
		t.Fatalf("anonymous: %v, want forbidden identity: …", err)
	}
	if _, _, err := f.svc.Start(ctx, chattest.Visitor("vera", f.q.Key), StartInput{Identity: f.token(secret)}); err != nil {
		t.Fatalf("signed: %v", err)
	}
}

func TestOnlyAdminsReadAndRotateAQueuesSecret(t *testing.T) {
	f, _, secret := identityFixture(t)
	ctx := context.Background()
	for _, p := range []auth.Principal{
		chattest.Visitor("v", f.q.Key),
		{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g-1", Scope: "r-1"},
		f.alice,
		f.sup,
	} {
		if _, err := f.qs.QueueSecret(ctx, p, f.q.Key); !errors.Is(err, queues.ErrForbidden) {
			t.Errorf("%s %s reads the secret: %v", p.Kind, p.Role, err)
		}
		if _, err := f.qs.RotateSecret(ctx, p, f.q.Key); !errors.Is(err, queues.ErrForbidden) {
			t.Errorf("%s %s rotates the secret: %v", p.Kind, p.Role, err)
		}
	}
	admin := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAdmin, Name: "Ada"}
	if s, err := f.qs.QueueSecret(ctx, admin, f.q.Key); err != nil || s.Secret != secret {
		t.Fatalf("the admin reads %+v, %v", s, err)
	}
	if _, err := f.qs.QueueSecret(ctx, admin, "no-such-queue"); !errors.Is(err, queues.ErrNotFound) {
		t.Fatalf("an unknown queue: %v", err)
	}
}
