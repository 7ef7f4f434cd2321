package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/signaling/client"
)

// The input sweeps: every request the protocol document shows, and every
// HTTP route that reads text, with each field in turn made into text the
// database cannot store or a value of the wrong JSON type. Each must be
// answered with the documented code and a message naming the field, never
// internal, and the server must log no ERROR line.
//
// Which request types exist is the router's to say: a conformance test in
// signaling fails when a registered type has no example in
// docs/protocol.md, so every type the router has is swept here.

// docExample is an example request of docs/protocol.md.
type docExample struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

func docExamples(t *testing.T) []docExample {
	t.Helper()
	b, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []docExample
	for _, m := range regexp.MustCompile("(?s)```[a-z]*\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		text := m[1]
		for i := 0; ; {
			j := strings.Index(text[i:], `{"type":`)
			if j < 0 {
				break
			}
			i += j
			dec := json.NewDecoder(strings.NewReader(text[i:]))
			var e docExample
			if dec.Decode(&e) != nil {
				i++
				continue
			}
			if e.ID != "" {
				out = append(out, e)
			}
			i += int(dec.InputOffset())
		}
	}
	return out
}

// mutation is one bad version of a request's data.
type mutation struct {
	what  string // for the failure message
	field string // the field the answer must name
	data  []byte
	null  bool // the field set to null: answered as if left out
	gone  []byte
}

const surrogateMark = "SURROGATE-MARK-7f3"

// mutations lists, for every field at any depth of data, the field as
// text with a NUL, as a lone surrogate (strings only), as each wrong JSON
// type, and as null.
func mutations(data json.RawMessage) []mutation {
	var root any
	if len(data) == 0 || json.Unmarshal(data, &root) != nil {
		return nil
	}
	var out []mutation
	var walk func(path []any, v any)
	walk = func(path []any, v any) {
		if len(path) > 0 {
			name := wirePath(path)
			// A wrong type is named without array indexes ("tracks.muted"):
			// the decoder does not say which element it was.
			typed := `"` + regexp.MustCompile(`\[\d+\]`).ReplaceAllString(name, "") + `"`
			if _, ok := v.(string); ok {
				out = append(out,
					mutation{what: name + " with a NUL", field: `"` + name + `"`, data: encode(set(root, path, "a\x00b"))},
					mutation{what: name + " as a lone surrogate", field: `"` + name + `"`, data: encode(set(root, path, surrogateMark))})
			}
			for _, wrong := range []any{7, "x", map[string]any{}, []any{}, true} {
				if kind(wrong) != kind(v) {
					out = append(out, mutation{what: fmt.Sprintf("%s as a JSON %s", name, kind(wrong)), field: typed,
						data: encode(set(root, path, wrong))})
				}
			}
			if _, inArray := path[len(path)-1].(int); !inArray {
				out = append(out, mutation{what: name + " as null", null: true,
					data: encode(set(root, path, nil)), gone: encode(del(root, path))})
			}
		}
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(append(append([]any{}, path...), k), x[k])
			}
		case []any:
			for i, e := range x {
				walk(append(append([]any{}, path...), i), e)
			}
		}
	}
	walk(nil, root)
	return out
}

func wirePath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		}
	}
	return b.String()
}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64, int:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}

// clone deep-copies a decoded JSON value.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clone(e)
		}
		return s
	}
	return v
}

// parentOf is the object or array holding the value at path in r.
func parentOf(r any, path []any) any {
	parent := r
	for _, p := range path[:len(path)-1] {
		switch p := p.(type) {
		case string:
			parent = parent.(map[string]any)[p]
		case int:
			parent = parent.([]any)[p]
		}
	}
	return parent
}

// set is a copy of root with the value at path replaced by v.
func set(root any, path []any, v any) any {
	r := clone(root)
	switch p := path[len(path)-1].(type) {
	case string:
		parentOf(r, path).(map[string]any)[p] = v
	case int:
		parentOf(r, path).([]any)[p] = v
	}
	return r
}

// del is a copy of root without the object field at path.
func del(root any, path []any) any {
	r := clone(root)
	delete(parentOf(r, path).(map[string]any), path[len(path)-1].(string))
	return r
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return []byte(strings.ReplaceAll(string(b), surrogateMark, `\ud800`))
}

// codeOf is the wire code of a request's answer, "" for an ack.
func codeOf(err error) (code, msg string) {
	if err == nil {
		return "", ""
	}
	var we *client.Error
	if errors.As(err, &we) {
		return we.Code, we.Message
	}
	return "transport: " + err.Error(), ""
}

// noErrorLogged fails when the server logged an ERROR line.
func noErrorLogged(t *testing.T, s *server) {
	t.Helper()
	for _, line := range strings.Split(s.log.String(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("the server logged an error: %s", line)
		}
	}
}

// customerTypes are the requests only a customer may make: the sweep
// sends them as one (anyone else is refused before the fields are read).
var customerTypes = map[string]bool{"chat.start": true, "chat.feedback": true, "chat.queue_position": true,
	"chat.transcript_email": true}

func TestEveryRequestFieldRefusesBadTextAndWrongTypesWithTheDocumentedCode(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t), "--ws-rate", "100000", "--ws-burst", "100000")
	admin := s.login(t, "ada")
	key := fmt.Sprintf("sweep-%d", time.Now().UnixNano()%1e9)
	if code, body := call(t, "PUT", s.base+"/api/admin/queues/"+key, admin, `{"name":"Sweep","members":["alice"]}`); code != http.StatusOK {
		t.Fatalf("queue: %d %s", code, body)
	}
	resp, body := post(t, s.base+"/api/widget/"+key+"/visitor", `{}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("visitor: %d %s", resp.StatusCode, body)
	}
	var v struct{ Token string }
	json.Unmarshal(body, &v) //nolint:errcheck
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	staff, _, err := client.Connect(ctx, s.ws(), client.Options{Token: admin})
	if err != nil {
		t.Fatal(err)
	}
	defer staff.Close()
	customer, _, err := client.Connect(ctx, s.ws(), client.Options{Token: v.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer customer.Close()

	examples := docExamples(t)
	if len(examples) < 20 {
		t.Fatalf("only %d example requests in docs/protocol.md", len(examples))
	}
	sent := 0
	for _, e := range examples {
		c := staff
		if customerTypes[e.Type] {
			c = customer
		}
		// The example as written reaches its handler: whatever it answers
		// (the ids in the document do not exist here), it is not a
		// complaint about its shape.
		if code, msg := codeOf(request2(ctx, c, e.Type, e.Data)); code == "malformed" || code == "bad_request" || code == "unknown_type" || code == "internal" {
			t.Errorf("%s: the document's example is answered %s: %s", e.Type, code, msg)
		}
		for _, m := range mutations(e.Data) {
			sent++
			code, msg := codeOf(request2(ctx, c, e.Type, m.data))
			if m.null {
				goneCode, _ := codeOf(request2(ctx, c, e.Type, m.gone))
				if code != goneCode {
					t.Errorf("%s, %s: answered %q, but with the field left out %q", e.Type, m.what, code, goneCode)
				}
				continue
			}
			if code != "bad_request" || !strings.Contains(msg, m.field) {
				t.Errorf("%s, %s: answered %q %q, want bad_request naming %s", e.Type, m.what, code, msg, m.field)
			}
		}
	}
	t.Logf("%d bad requests over %d example requests", sent, len(examples))
	noErrorLogged(t, s)
}

// request2 sends data as it is (a json.RawMessage keeps its escapes).
func request2(ctx context.Context, c *client.Client, typ string, data []byte) error {
	var raw any
	if len(data) > 0 {
		raw = json.RawMessage(data)
	}
	_, err := c.Request(ctx, typ, raw)
	return err
}

// freshAddress makes each HTTP request come from its own loopback address,
// so that the per-address limits (sign-in, new visitors, wrong numbers)
// count each request once and the sweep sees the answer to its input.
func freshAddressClient() *http.Client {
	var n atomic.Uint32
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			i := n.Add(1)
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 1, byte(i>>8), byte(i))}}
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func TestEveryHTTPRouteRefusesBadTextAndWrongTypesWith400(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t))
	admin := s.login(t, "ada")
	hc := freshAddressClient()
	do := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	key := fmt.Sprintf("sweep-%d", time.Now().UnixNano()%1e9)
	if code, body := do("PUT", "/api/admin/queues/"+key, admin, `{"name":"Sweep","members":["alice"]}`); code != http.StatusOK {
		t.Fatalf("queue: %d %s", code, body)
	}
	bodies := []struct{ method, path, token, body string }{
		{"POST", "/api/login", "", `{"username":"alice","password":"demo"}`},
		{"POST", "/api/widget/" + key + "/visitor", "", `{"token":"x"}`},
		{"POST", "/api/conference/lookup", "", `{"number":"4819027736"}`},
		{"POST", "/api/conference/guest", "", `{"number":"4819027736","name":"Gita Guest"}`},
		{"POST", "/api/admin/users", admin, `{"username":"sweeper","name":"Sweeper","role":"agent","password":"secret"}`},
		{"PUT", "/api/admin/queues/" + key, admin, `{"name":"Sweep","title":"Hi","color":"#2f6fed","greeting":"Hello",
			"agent_alias":"Team","email_mode":"optional","extra_label":"Phone","extra_mode":"optional","strategy":"round_robin",
			"capacity":2,"answer_seconds":20,"allowed_origins":["https://www.example.com"],"statuses":["Resolved"],
			"show_agent_name":true,"customer_calls":false,"members":["alice"]}`},
	}
	sent := 0
	for _, b := range bodies {
		for _, m := range mutations(json.RawMessage(b.body)) {
			if m.null {
				continue // null is "left out": the route's own rules answer it
			}
			sent++
			code, body := do(b.method, b.path, b.token, string(m.data))
			if code != http.StatusBadRequest || !strings.Contains(body, `"bad_request"`) || !strings.Contains(body, jsonQuoted(m.field)) {
				t.Errorf("%s %s, %s: %d %s, want 400 bad_request naming %s", b.method, b.path, m.what, code, body, m.field)
			}
		}
	}
	// Text in the path and the query.
	for _, bad := range []string{"%00", "a%00b", "%ED%A0%80", "%FF"} {
		for _, p := range []struct{ method, path, body string }{
			{"GET", "/api/widget/" + bad, ""},
			{"GET", "/widget/" + bad, ""},
			{"POST", "/api/widget/" + bad + "/visitor", "{}"},
			{"PUT", "/api/admin/queues/" + bad, `{"name":"Sweep"}`},
			{"GET", "/api/conversations/" + bad + "/transcript", ""},
		} {
			sent++
			code, body := do(p.method, p.path, admin, p.body)
			if code != http.StatusBadRequest || !strings.Contains(body, `"bad_request"`) {
				t.Errorf("%s %s: %d %s, want 400 bad_request", p.method, p.path, code, body)
			}
		}
	}
	// A form post is not JSON: sign-in checks its text itself.
	for _, form := range []string{"username=a%00b&password=demo", "username=alice&password=%FF"} {
		sent++
		resp, err := hc.Post(s.base+"/api/login", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"bad_request"`) {
			t.Errorf("login form %s: %d %s, want 400 bad_request", form, resp.StatusCode, body)
		}
	}
	t.Logf("%d bad HTTP requests", sent)
	noErrorLogged(t, s)
}

// jsonQuoted is s as it appears inside a JSON string.
func jsonQuoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
