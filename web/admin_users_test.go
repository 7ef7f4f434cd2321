package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"parley/auth"
)

// /admin is for admins: a supervisor is sent to the supervisor console,
// an agent to the desk, someone signed out to sign in and back, and a
// deactivated admin's old session counts as signed out.
func TestTheAdminPageIsForAdmins(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	users := map[string]auth.User{}
	for _, u := range []auth.NewUser{
		{Username: "adm-agent", Name: "Alice Agent", Role: auth.RoleAgent, Password: "demo"},
		{Username: "adm-supervisor", Name: "Sue Supervisor", Role: auth.RoleSupervisor, Password: "demo"},
		{Username: "adm-admin", Name: "Ada Admin", Role: auth.RoleAdmin, Password: "demo"},
		{Username: "adm-gone", Name: "Gil Gone", Role: auth.RoleAdmin, Password: "demo"},
	} {
		made, err := s.auth.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		users[u.Username] = made
	}
	sessions := map[string]string{}
	for name := range users {
		sess, err := s.auth.Login(ctx, name, "demo")
		if err != nil {
			t.Fatal(err)
		}
		sessions[name] = sess.Token
	}
	if _, err := s.auth.Deactivate(ctx, users["adm-admin"].Principal(), users["adm-gone"].ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ who, location string }{
		{"", "/login?next=%2Fadmin"},
		{"adm-gone", "/login?next=%2Fadmin"},
		{"adm-agent", "/desk"},
		{"adm-supervisor", "/supervisor"},
		{"adm-admin", ""},
	} {
		header := map[string]string{}
		if c.who != "" {
			header["Cookie"] = auth.CookieName + "=" + sessions[c.who]
		}
		resp, body := fetch(t, noRedirect, "GET", s.URL+"/admin", "", header)
		switch {
		case c.location != "" && (resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != c.location):
			t.Errorf("%q: %d to %q, want a redirect to %s", c.who, resp.StatusCode, resp.Header.Get("Location"), c.location)
		case c.location == "" && (resp.StatusCode != http.StatusOK || !strings.Contains(body, "/static/admin/accounts.css")):
			t.Errorf("%q: %d %.80q, want the page with the accounts' styles", c.who, resp.StatusCode, body)
		}
	}
}
