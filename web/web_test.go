package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/conference"
	"parley/store/storetest"
	"parley/web"
)

// The web tests serve the HTTP surface over httptest with the real
// database behind it: pages, headers, the error handler and signing in.

func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type site struct {
	*httptest.Server
	e    *echo.Echo
	auth *auth.Service
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool := storetest.Pool(t, auth.Migrations, conference.Migrations, chat.Migrations)
	a, err := auth.NewService(ctx, pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	public, _ := url.Parse("http://parley.example")
	e := web.New(web.Deps{
		Auth:      a,
		Chat:      chat.New(pool, bus.NewMemory(), quiet, chat.Options{}),
		DB:        pool,
		WS:        http.NotFoundHandler(),
		PublicURL: public,
		Log:       quiet,
		Metrics:   prometheus.NewRegistry(),
	})
	s := &site{Server: httptest.NewServer(e), e: e, auth: a}
	t.Cleanup(s.Close)
	return s
}

// fetch sends a request and returns the answer with its body read.
func fetch(t *testing.T, c *http.Client, method, url, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// apiErr decodes an error body.
func apiErr(t *testing.T, body string) (code, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an error body: %q", body)
	}
	return e.Error.Code, e.Error.Message
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestThePagesAreServedWithTheirHeaders(t *testing.T) {
	s := newSite(t)
	for _, c := range []struct{ path, contains string }{
		{"/login", "<html"},
		{"/desk", "<html"},
		{"/external/conference", "<html"},
		{"/external/conference/", "<html"},
	} {
		resp, body := fetch(t, noRedirect, "GET", s.URL+c.path, "", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(body), c.contains) {
			t.Errorf("%s: %d %.80q", c.path, resp.StatusCode, body)
			continue
		}
		h := resp.Header
		if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: Content-Type %q, Cache-Control %q", c.path, h.Get("Content-Type"), h.Get("Cache-Control"))
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: security headers %v", c.path, h)
		}
	}
	resp, _ := fetch(t, noRedirect, "GET", s.URL+"/", "", nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/desk" {
		t.Errorf("/: %d to %q, want a redirect to /desk", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := fetch(t, noRedirect, "GET", s.URL+"/robots.txt", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || body == "" {
		t.Errorf("/robots.txt: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = fetch(t, noRedirect, "GET", s.URL+"/static/robots.txt", "", nil)
	if resp.StatusCode != http.StatusOK || body == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("a static file: %d %q", resp.StatusCode, body)
	}
	resp, body = fetch(t, noRedirect, "GET", s.URL+"/healthz", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"database":"ok"`) {
		t.Errorf("/healthz: %d %s", resp.StatusCode, body)
	}
}

func TestTheErrorHandlerAnswersEveryErrorAsJSONWithoutAStack(t *testing.T) {
	s := newSite(t)
	s.e.GET("/test/panic", func(echo.Context) error { panic("a secret stack") })
	s.e.GET("/test/internal", func(echo.Context) error { return errors.New("a secret cause") })
	s.e.GET("/test/coded", func(echo.Context) error { return conference.ErrNotFound })
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/test/panic", http.StatusInternalServerError, "internal"},
		{"/test/internal", http.StatusInternalServerError, "internal"},
		{"/test/coded", http.StatusNotFound, "not_found"},
		{"/no/such/page", http.StatusNotFound, "not_found"},
	} {
		resp, body := fetch(t, noRedirect, "GET", s.URL+c.path, "", nil)
		code, msg := apiErr(t, body)
		if resp.StatusCode != c.status || code != c.code || msg == "" {
			t.Errorf("%s: %d %s, want %d %s", c.path, resp.StatusCode, body, c.status, c.code)
		}
		if strings.Contains(body, "secret") || strings.Contains(body, "goroutine") {
			t.Errorf("%s tells what it should not: %s", c.path, body)
		}
	}
}

func TestSignInMeAndSignOut(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	if _, err := s.auth.CreateUser(ctx, auth.NewUser{Username: "alice", Name: "Alice Agent", Role: auth.RoleAgent, Password: "demo"}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}

	resp, body := fetch(t, browser, "GET", s.URL+"/api/me", "", nil)
	if code, _ := apiErr(t, body); resp.StatusCode != http.StatusUnauthorized || code != "unauthenticated" {
		t.Fatalf("me before signing in: %d %s", resp.StatusCode, body)
	}
	resp, body = fetch(t, browser, "POST", s.URL+"/api/login", `{"username":"alice","password":"wrong"}`, nil)
	if code, msg := apiErr(t, body); resp.StatusCode != http.StatusUnauthorized || code != "invalid_credentials" || msg != "Wrong username or password." {
		t.Fatalf("a wrong password: %d %s", resp.StatusCode, body)
	}
	resp, body = fetch(t, browser, "POST", s.URL+"/api/login", `{"username":"alice"}`, nil)
	if code, _ := apiErr(t, body); resp.StatusCode != http.StatusBadRequest || code != "bad_request" {
		t.Fatalf("no password: %d %s", resp.StatusCode, body)
	}
	resp, body = fetch(t, browser, "POST", s.URL+"/api/login", `{"username":"alice","password":"demo"}`,
		map[string]string{"Origin": "https://elsewhere.example"})
	if code, _ := apiErr(t, body); resp.StatusCode != http.StatusForbidden || code != "forbidden_origin" {
		t.Fatalf("a sign-in from another site: %d %s", resp.StatusCode, body)
	}

	resp, body = fetch(t, browser, "POST", s.URL+"/api/login", `{"username":"alice","password":"demo"}`, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	var sess struct{ Token string }
	json.Unmarshal([]byte(body), &sess) //nolint:errcheck
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Value != sess.Token || sess.Token == "" {
		t.Fatalf("the session cookie %+v, token %q", cookie, sess.Token)
	}
	resp, body = fetch(t, browser, "GET", s.URL+"/api/me", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"username":"alice"`) || !strings.Contains(body, `"role":"agent"`) {
		t.Fatalf("me by cookie: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "password") {
		t.Fatalf("me tells the password hash: %s", body)
	}
	resp, body = fetch(t, http.DefaultClient, "GET", s.URL+"/api/me", "", map[string]string{"Authorization": "Bearer " + sess.Token})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"username":"alice"`) {
		t.Fatalf("me by bearer token: %d %s", resp.StatusCode, body)
	}

	resp, body = fetch(t, browser, "POST", s.URL+"/api/logout", "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", resp.StatusCode, body)
	}
	resp, body = fetch(t, http.DefaultClient, "GET", s.URL+"/api/me", "", map[string]string{"Authorization": "Bearer " + sess.Token})
	if code, _ := apiErr(t, body); resp.StatusCode != http.StatusUnauthorized || code != "unauthenticated" {
		t.Fatalf("the old session after signing out: %d %s", resp.StatusCode, body)
	}
	resp, body = fetch(t, browser, "GET", s.URL+"/api/me", "", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me after signing out: %d %s", resp.StatusCode, body)
	}
}

// /supervisor is for supervisors and admins: an agent is sent to the
// desk, someone signed out to sign in and back.
func TestTheSupervisorPageIsForSupervisorsAndAdmins(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	for _, u := range []auth.NewUser{
		{Username: "page-agent", Name: "Alice Agent", Role: auth.RoleAgent, Password: "demo"},
		{Username: "page-supervisor", Name: "Sue Supervisor", Role: auth.RoleSupervisor, Password: "demo"},
		{Username: "page-admin", Name: "Ada Admin", Role: auth.RoleAdmin, Password: "demo"},
	} {
		if _, err := s.auth.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ who, location string }{
		{"", "/login?next=%2Fsupervisor"},
		{"page-agent", "/desk"},
		{"page-supervisor", ""},
		{"page-admin", ""},
	} {
		header := map[string]string{}
		if c.who != "" {
			sess, err := s.auth.Login(ctx, c.who, "demo")
			if err != nil {
				t.Fatal(err)
			}
			header["Cookie"] = auth.CookieName + "=" + sess.Token
		}
		resp, body := fetch(t, noRedirect, "GET", s.URL+"/supervisor", "", header)
		switch {
		case c.location != "" && (resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != c.location):
			t.Errorf("%q: %d to %q, want a redirect to %s", c.who, resp.StatusCode, resp.Header.Get("Location"), c.location)
		case c.location == "" && (resp.StatusCode != http.StatusOK || !strings.Contains(body, "<html") ||
			resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("X-Frame-Options") != "DENY"):
			t.Errorf("%q: %d %.80q, want the page with its headers", c.who, resp.StatusCode, body)
		}
	}
}
