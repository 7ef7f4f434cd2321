package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An admin creates an agent and a queue for it; the queue routes to them.
func TestAnAdminConfiguresAQueueThatRoutesToItsMembers(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	if code, body := call(t, "POST", s.base+"/api/admin/users", admin,
		`{"username":"carla","name":"Carla Agent","role":"agent","password":"carla-pw"}`); code != http.StatusCreated {
		t.Fatalf("create user: %d %s", code, body)
	}
	queue := `{"name":"Support","title":"Talk to support","color":"#aa3300","strategy":"round_robin","capacity":1,
		"answer_seconds":15,"email_mode":"required","extra_mode":"hidden","statuses":["Done"],
		"allowed_origins":["https://shop.example.com"],"members":["carla"]}`
	code, body := call(t, "PUT", s.base+"/api/admin/queues/support-1", admin, queue)
	if code != http.StatusOK || !strings.Contains(body, `"members":["carla"]`) {
		t.Fatalf("save queue: %d %s", code, body)
	}
	code, body = call(t, "GET", s.base+"/api/widget/support-1", "", "")
	if code != http.StatusOK || !strings.Contains(body, `"email":"required"`) || !strings.Contains(body, `"color":"#aa3300"`) {
		t.Fatalf("widget settings: %d %s", code, body)
	}

	resp, lbody := post(t, s.base+"/api/login", `{"username":"carla","password":"carla-pw"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("carla cannot sign in: %s", lbody)
	}
	var tok struct{ Token string }
	json.Unmarshal(lbody, &tok)       //nolint:errcheck
	carla := s.customer(t, tok.Token) // any principal's connection
	s.queue = "support-1"
	cust := s.customer(t, s.visitorToken(t, ""))
	if code := requestErr(t, cust, "chat.start", map[string]any{"name": "No Mail"}); code != "bad_request" {
		t.Fatalf("the queue requires e-mail, got %s", code)
	}
	c := startChat(t, cust, "Mia")
	waitEvent(t, carla, "chat.offer", offerOf(c.ID))

	// Settings change: an unknown member is refused and changes nothing.
	code, body = call(t, "PUT", s.base+"/api/admin/queues/support-1", admin, strings.Replace(queue, `["carla"]`, `["carla","nobody"]`, 1))
	if code != http.StatusBadRequest || !strings.Contains(body, "members") {
		t.Fatalf("unknown member: %d %s", code, body)
	}
}

func TestQueueSettingsAreCheckedFieldByField(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	admin := s.login(t, "ada")
	for field, body := range map[string]string{
		"strategy":        `{"name":"Q","strategy":"random"}`,
		"capacity":        `{"name":"Q","capacity":500}`,
		"color":           `{"name":"Q","color":"red"}`,
		"allowed_origins": `{"name":"Q","allowed_origins":["https://a.example.com/path"]}`,
		"extra_label":     `{"name":"Q","extra_mode":"required"}`,
		"name":            `{"name":""}`,
	} {
		code, resp := call(t, "PUT", s.base+"/api/admin/queues/checked", admin, body)
		if code != http.StatusBadRequest || !strings.Contains(resp, `"bad_request"`) || !strings.Contains(resp, field+":") {
			t.Errorf("%s: %d %s", field, code, resp)
		}
	}
	if code, resp := call(t, "PUT", s.base+"/api/admin/queues/a%20b", admin, `{"name":"Q"}`); code != http.StatusBadRequest {
		t.Errorf("bad key: %d %s", code, resp)
	}
}

func TestOnlyAdminsUseTheAdminAPI(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	agent := s.login(t, "alice")
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/admin/users", ""},
		{"POST", "/api/admin/users", `{"username":"x1","name":"X","role":"admin","password":"pppp"}`},
		{"GET", "/api/admin/queues", ""},
		{"PUT", "/api/admin/queues/evil", `{"name":"Evil"}`},
	} {
		if code, body := call(t, c.method, s.base+c.path, agent, c.body); code != http.StatusForbidden {
			t.Errorf("%s %s as an agent: %d %s", c.method, c.path, code, body)
		}
		if code, _ := call(t, c.method, s.base+c.path, "", c.body); code != http.StatusUnauthorized {
			t.Errorf("%s %s signed out: %d", c.method, c.path, code)
		}
	}
}
