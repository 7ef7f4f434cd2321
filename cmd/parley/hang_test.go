package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/store/storetest"
)

// hangingProxy forwards TCP connections to the database server until
// Hang: from then on it forwards nothing and leaves new connections
// unanswered, as a database that hangs does, until Restore.
type hangingProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	resume chan struct{} // nil while forwarding; closed by Restore
	conns  []net.Conn
}

func newHangingProxy(t *testing.T) *hangingProxy {
	t.Helper()
	u, err := url.Parse(storetest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &hangingProxy{ln: ln, target: u.Host}
	go p.serve()
	t.Cleanup(func() {
		p.Restore()
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

// URL is the package database's URL through the proxy.
func (p *hangingProxy) URL() string {
	u, _ := url.Parse(storetest.URL())
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *hangingProxy) Hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resume == nil {
		p.resume = make(chan struct{})
	}
}

func (p *hangingProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resume != nil {
		close(p.resume)
		p.resume = nil
	}
}

// wait blocks while the proxy hangs.
func (p *hangingProxy) wait() {
	p.mu.Lock()
	r := p.resume
	p.mu.Unlock()
	if r != nil {
		<-r
	}
}

func (p *hangingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		go func() {
			p.wait()
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, up)
			p.mu.Unlock()
			go p.pipe(up, c)
			p.pipe(c, up)
		}()
	}
}

func (p *hangingProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		p.wait()
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// With the database hung, every route answers within a few seconds, and
// every route that needs the database answers 503 unavailable.
func TestAHungDatabaseAnswersUnavailableOnEveryRouteWithinSeconds(t *testing.T) {
	proxy := newHangingProxy(t)
	s := start(t, proxy.URL(), "--db-timeout", "1s")
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
