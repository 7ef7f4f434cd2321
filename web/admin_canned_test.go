package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"parley/auth"
)

// The canned responses' REST routes: each role against each route, and
// bad input answered 400 with a message that names the field.
func TestCannedRoutesAreForAdminsAndNameTheFieldOfBadInput(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	cookies := map[string]map[string]string{"signed out": {}}
	for _, u := range []auth.NewUser{
		{Username: "cr-agent", Name: "Alice Agent", Role: auth.RoleAgent, Password: "demo"},
		{Username: "cr-supervisor", Name: "Sue Supervisor", Role: auth.RoleSupervisor, Password: "demo"},
		{Username: "cr-admin", Name: "Ada Admin", Role: auth.RoleAdmin, Password: "demo"},
	} {
		if _, err := s.auth.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		sess, err := s.auth.Login(ctx, u.Username, "demo")
		if err != nil {
			t.Fatal(err)
		}
		cookies[string(u.Role)] = map[string]string{"Cookie": auth.CookieName + "=" + sess.Token}
	}
	admin := cookies["admin"]
	base := s.URL + "/api/admin/queues/cq-canned/canned"
	if resp, body := fetch(t, http.DefaultClient, "PUT", s.URL+"/api/admin/queues/cq-canned", `{"key": "cq-canned", "name": "Canned queue", "members": ["cr-agent"]}`, admin); resp.StatusCode != http.StatusOK {
		t.Fatalf("making the queue: %d %s", resp.StatusCode, body)
	}
	resp, body := fetch(t, http.DefaultClient, "POST", base, `{"title": "Refund policy", "text": "Within 30 days."}`, admin)
	var made struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &made) != nil || made.Title != "Refund policy" {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	one := fmt.Sprintf("%s/%d", base, made.ID)

	type route struct{ method, url, body string }
	routes := []route{
		{"GET", base, ""},
		{"POST", base, `{"title": "t", "text": "x"}`},
		{"PUT", one, `{"title": "Refund policy", "text": "Within 30 days."}`},
		{"PUT", base + "/order", fmt.Sprintf(`{"ids": [%d]}`, made.ID)},
		{"DELETE", base + "/999999", ""},
	}
	for _, who := range []struct {
		name string
		want []int
	}{
		{"signed out", []int{401, 401, 401, 401, 401}},
		{"agent", []int{403, 403, 403, 403, 403}},
		{"supervisor", []int{403, 403, 403, 403, 403}},
		{"admin", []int{200, 201, 200, 400, 404}}, // the order misses the response the admin's POST made
	} {
		for i, r := range routes {
			resp, body := fetch(t, http.DefaultClient, r.method, r.url, r.body, cookies[who.name])
			if resp.StatusCode != who.want[i] {
				t.Errorf("%s: %s %s: %d %s, want %d", who.name, r.method, strings.TrimPrefix(r.url, s.URL), resp.StatusCode, body, who.want[i])
			}
		}
	}

	for _, c := range []struct {
		method, url, body string
		status            int
		message           string // the start of the error's message
	}{
		{"POST", base, fmt.Sprintf(`{"title": %q, "text": "x"}`, strings.Repeat("R", 101)), 400, "title: 1–100 characters"},
		{"POST", base, `{"title": "t", "text": "   "}`, 400, "text: "},
		{"POST", base, fmt.Sprintf(`{"title": "t", "text": %q}`, strings.Repeat("a", 4001)), 400, "text: at most 4000 characters"},
		{"POST", base, `{"title": 5, "text": "x"}`, 400, `"title" cannot be a JSON number`},
		{"POST", base, `not json`, 400, `a JSON object {"title": "…", "text": "…"}`},
		{"PUT", base + "/abc", `{"title": "t", "text": "x"}`, 404, "no such canned response"},
		{"PUT", base + "/999999", `{"title": "t", "text": "x"}`, 404, "no such canned response"},
		{"PUT", base + "/order", `{"ids": [1, 1]}`, 400, "ids: "},
		{"GET", s.URL + "/api/admin/queues/nope/canned", "", 404, "no such queue"},
	} {
		resp, body := fetch(t, http.DefaultClient, c.method, c.url, c.body, admin)
		if _, msg := apiErr(t, body); resp.StatusCode != c.status || !strings.HasPrefix(msg, c.message) {
			t.Errorf("%s %s %.40s: %d %q, want %d %q…", c.method, strings.TrimPrefix(c.url, s.URL), c.body, resp.StatusCode, msg, c.status, c.message)
		}
	}
}
