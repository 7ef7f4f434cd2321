package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Who may read a queue's change log (GET /api/admin/queues/{key}/changes):
// admins only; and what an admin's save through the API records there.
func TestOnlyAdminsReadAQueuesChangeLog(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	if code, body := call(t, "PUT", s.base+"/api/admin/queues/logged", admin,
		`{"name":"Logged","title":"First","members":["alice"]}`); code != http.StatusOK {
		t.Fatalf("save: %d %s", code, body)
	}
	if code, body := call(t, "PUT", s.base+"/api/admin/queues/logged", admin,
		`{"name":"Logged","title":"Second","members":["bob"]}`); code != http.StatusOK {
		t.Fatalf("save: %d %s", code, body)
	}
	path := s.base + "/api/admin/queues/logged/changes"
	for _, c := range []struct {
		who   string
		token string
		want  int
	}{
		{"signed out", "", http.StatusUnauthorized},
		{"customer", s.visitorToken(t, ""), http.StatusForbidden},
		{"agent", s.login(t, "alice"), http.StatusForbidden},
		{"supervisor", s.login(t, "sam"), http.StatusForbidden},
		{"admin", admin, http.StatusOK},
	} {
		if code, body := call(t, "GET", path, c.token, ""); code != c.want {
			t.Errorf("%s: %d %s, want %d", c.who, code, body, c.want)
		}
	}

	code, body := call(t, "GET", path+"?limit=1", admin, "")
	var page struct {
		Changes []struct {
			By struct {
				Name string `json:"name"`
			} `json:"by"`
			Created        bool              `json:"created"`
			Fields         []json.RawMessage `json:"fields"`
			MembersAdded   []string          `json:"members_added"`
			MembersRemoved []string          `json:"members_removed"`
		} `json:"changes"`
		Next int64 `json:"next"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if len(page.Changes) != 1 || page.Next == 0 || page.Changes[0].Created || page.Changes[0].By.Name == "" ||
		len(page.Changes[0].Fields) != 1 || !strings.Contains(string(page.Changes[0].Fields[0]), `"old":"First","new":"Second"`) ||
		strings.Join(page.Changes[0].MembersAdded, ",") != "bob" || strings.Join(page.Changes[0].MembersRemoved, ",") != "alice" {
		t.Errorf("the newest entry: %s", body)
	}
	for q, want := range map[string]int{"?limit=0": 400, "?limit=x": 400, "?before=-1": 400, "?limit=101": 400} {
		if code, body := call(t, "GET", path+q, admin, ""); code != want || !strings.Contains(body, "bad_request") {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	if code, _ := call(t, "GET", s.base+"/api/admin/queues/no-such-queue/changes", admin, ""); code != http.StatusNotFound {
		t.Errorf("an unknown queue: %d", code)
	}
}

// The widget page in preview mode, which the Queues tab frames, is for
// admins only, and only Parley's own pages may frame it.
func TestTheWidgetPreviewIsForAdminsFramedByParleyOnly(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		who   string
		token string
		want  int
	}{
		{"signed out", "", http.StatusFound},
		{"customer", s.visitorToken(t, ""), http.StatusFound},
		{"agent", s.login(t, "alice"), http.StatusFound},
		{"supervisor", s.login(t, "sam"), http.StatusFound},
		{"admin", s.login(t, "ada"), http.StatusOK},
	} {
		req, err := http.NewRequest("GET", s.base+"/admin/widget-preview", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.who, resp.StatusCode, c.want)
		}
		if c.want == http.StatusOK {
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'self'") || strings.Contains(csp, "frame-ancestors 'self' ") ||
				resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
				t.Errorf("the preview's framing: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
			}
		}
	}
}
