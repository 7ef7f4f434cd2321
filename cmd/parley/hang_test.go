package main

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/store/storetest"
)

// With the database hung, every route answers within a few seconds, and
// every route that needs the database answers 503 unavailable.
func TestAHungDatabaseAnswersUnavailableOnEveryRouteWithinSeconds(t *testing.T) {
	t.Parallel()
	proxy := storetest.NewProxy(t)
	s := start(t, proxy.URLOf(testDB(t)), "--db-timeout", "1s")
	token := s.login(t, "ada")
	proxy.Hang()
	defer proxy.Restore()
	needsNoDatabase := map[string]bool{"/": true, "/login": true, "/desk": true, "/demo": true, "/robots.txt": true,
		"/external/conference": true, "/external/conference/": true, "/static/*": true, "/widget.js": true}
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	// The websocket first, while the pool still holds the idle
	// connection the sign-in used (a new one would fail to connect
	// within store's connect timeout anyway); then the rest at once.
	all := routes(t)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Path == "/ws" && all[j].Path != "/ws" })
	var wg sync.WaitGroup
	for i, r := range all {
		wg.Add(1)
		check := func() {
			defer wg.Done()
			url := s.base + concrete(r.Path, "demo")
			began := time.Now()
			var code int
			var body string
			if r.Path == "/ws" {
				c, resp, err := websocket.DefaultDialer.Dial(strings.Replace(url, "http", "ws", 1)+"?token="+token, nil)
				if c != nil {
					c.Close()
				}
				if resp == nil {
					t.Errorf("/ws: %v", err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				code, body = resp.StatusCode, string(b)
			} else {
				req, _ := http.NewRequest(r.Method, url, strings.NewReader(`{"number":"4819027736","name":"Gita","username":"alice","password":"demo"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("%s %s: %v", r.Method, r.Path, err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				code, body = resp.StatusCode, string(b)
			}
			took := time.Since(began)
			if took > 5*time.Second {
				t.Errorf("%s %s took %v", r.Method, r.Path, took)
			}
			if needsNoDatabase[r.Path] {
				if code >= 500 {
					t.Errorf("%s %s: %d %s", r.Method, r.Path, code, body)
				}
			} else if code != http.StatusServiceUnavailable || !strings.Contains(body, `"unavailable"`) {
				t.Errorf("%s %s: %d %.200s, want 503 unavailable", r.Method, r.Path, code, body)
			}
		}
		if i == 0 {
			check()
		} else {
			go check()
		}
	}
	wg.Wait()
}
