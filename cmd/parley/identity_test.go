package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/chat"
)

// Who may read and rotate a queue's identity secret over REST: admins
// only, every other role refused, signed out 401.
func TestOnlyAdminsReadAndRotateAQueueSecretOverREST(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	bob := s.agent(t, "bob")
	var conf struct{ Room roomInfo }
	request(t, bob, "room.create", map[string]any{"name": "Secrets"}, &conf)
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*conf.Room.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var guest struct{ Token string }
	json.Unmarshal(body, &guest) //nolint:errcheck
	admin := s.login(t, "ada")
	path := s.base + "/api/admin/queues/" + s.queue + "/secret"

	for _, r := range []struct {
		role, token string
		want        int
	}{
		{"signed out", "", http.StatusUnauthorized},
		{"customer", s.visitorToken(t, ""), http.StatusForbidden},
		{"guest", guest.Token, http.StatusForbidden},
		{"agent", s.login(t, "alice"), http.StatusForbidden},
		{"supervisor", s.login(t, "sam"), http.StatusForbidden},
		{"admin", admin, http.StatusOK},
	} {
		for _, method := range []string{"GET", "POST"} {
			code, body := call(t, method, path, r.token, "")
			if code != r.want {
				t.Errorf("%s %s: %d %s, want %d", r.role, method, code, body, r.want)
			}
			if code != http.StatusOK && strings.Contains(body, `"secret"`) {
				t.Errorf("%s %s: the refusal shows a secret: %s", r.role, method, body)
			}
		}
	}

	// The admin: GET shows the current secret, POST answers a new one,
	// which GET then shows, with until when the old one still verifies.
	var before, rotated, after chat.QueueSecret
	_, body1 := call(t, "GET", path, admin, "")
	json.Unmarshal([]byte(body1), &before) //nolint:errcheck
	_, body2 := call(t, "POST", path, admin, "")
	json.Unmarshal([]byte(body2), &rotated) //nolint:errcheck
	_, body3 := call(t, "GET", path, admin, "")
	json.Unmarshal([]byte(body3), &after) //nolint:errcheck
	if len(before.Secret) != 64 || rotated.Secret == before.Secret || after.Secret != rotated.Secret || after.Queue != s.queue {
		t.Fatalf("GET %s\nPOST %s\nGET %s", body1, body2, body3)
	}
	if after.PreviousValidUntil == nil || after.PreviousValidUntil.Sub(*after.RotatedAt) != time.Hour {
		t.Fatalf("the previous secret's grace: %s", body3)
	}
	if code, _ := call(t, "GET", s.base+"/api/admin/queues/no-such-queue/secret", admin, ""); code != http.StatusNotFound {
		t.Fatalf("an unknown queue: %d", code)
	}
	// The widget's public settings never carry it.
	if _, settings := call(t, "GET", s.base+"/api/widget/"+s.queue, "", ""); strings.Contains(settings, after.Secret) ||
		strings.Contains(settings, "secret") {
		t.Fatalf("the widget's settings show the secret: %s", settings)
	}
}

// Over the websocket: a signed identity starts a chat its agent sees as
// verified; a bad one is refused with its message.
func TestChatStartCarriesASignedIdentityToTheAgent(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	var secret chat.QueueSecret
	_, body := call(t, "GET", s.base+"/api/admin/queues/"+s.queue+"/secret", s.login(t, "ada"), "")
	json.Unmarshal([]byte(body), &secret) //nolint:errcheck
	id := chat.Identity{Queue: s.queue, ID: "c-1042", Name: "Vera Verified", Email: "vera@example.com",
		Exp: time.Now().Add(time.Hour).Unix()}

	cust := s.customer(t, s.visitorToken(t, ""))
	bad := id
	bad.Exp = time.Now().Add(-time.Hour).Unix()
	if code, msg := requestErrMessage(t, cust, "chat.start", map[string]any{"name": "Vera", "identity": chat.SignIdentity(secret.Secret, bad)}); code != "bad_request" ||
		msg != "identity: the signature has expired" {
		t.Fatalf("expired: %s %s", code, msg)
	}

	var started struct {
		Conversation struct {
			ID       int64          `json:"id"`
			Customer map[string]any `json:"customer"`
		} `json:"conversation"`
	}
	request(t, cust, "chat.start", map[string]any{"name": "Typed", "identity": chat.SignIdentity(secret.Secret, id)}, &started)
	if c := started.Conversation.Customer; c["name"] != "Vera Verified" || c["verified"] != nil || c["external_id"] != nil {
		t.Fatalf("the customer's view: %v", c)
	}
	raw := waitEvent(t, alice, "chat.offer", offerOf(started.Conversation.ID))
	var offer struct {
		Conversation struct {
			Customer struct {
				Name       string          `json:"name"`
				ExternalID string          `json:"external_id"`
				Verified   map[string]bool `json:"verified"`
			} `json:"customer"`
		} `json:"conversation"`
	}
	if err := json.Unmarshal(raw, &offer); err != nil {
		t.Fatal(err)
	}
	if c := offer.Conversation.Customer; c.ExternalID != "c-1042" || !c.Verified["id"] || !c.Verified["name"] || !c.Verified["email"] {
		t.Fatalf("the agent's offer: %+v", c)
	}
}

func TestAVerifiedOnlyQueueRefusesAnAnonymousCustomerOverTheWebsocket(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "verified_only = true")
	cust := s.customer(t, s.visitorToken(t, ""))
	code, msg := requestErrMessage(t, cust, "chat.start", map[string]any{"name": "Anon"})
	if code != "forbidden" || !strings.HasPrefix(msg, "identity: ") {
		t.Fatalf("anonymous on a verified-only queue: %s %s", code, msg)
	}
}
