package signaling_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"parley/bus"
	"parley/chat"
	"parley/chat/floor"
	"parley/conference"
	"parley/fault"
	"parley/rooms"
	"parley/signaling"
	"parley/staff"
)

// The conformance tests read docs/protocol.md itself: a client is written
// from it alone, so it must name every request type the server has, with
// an example the server decodes, and every error code the server sends.

// fullRouter is the router with every request type cmd/parley registers.
// Registering touches no database, so the services need none.
func fullRouter(t *testing.T) *signaling.Router {
	t.Helper()
	b := bus.NewMemory()
	r := signaling.NewRouter()
	hub := signaling.NewHub(signaling.DefaultConfig(), b, r, quiet, nil)
	chatSvc := chat.New(nil, b, quiet, chat.Options{})
	signaling.RegisterChat(r, hub, chatSvc)
	signaling.RegisterStaff(r, chatSvc, staff.New(nil, b, quiet))
	signaling.RegisterRooms(r, rooms.New(conference.New(nil, nil, b, nil, quiet, conference.Options{}), chatSvc, b, quiet))
	signaling.RegisterFloor(r, floor.New(nil, b, chatSvc, quiet, floor.Options{}))
	return r
}

func protocolDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docRequest is an example request of the document.
type docRequest struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
	Raw  string          `json:"-"`
}

// exampleRequests finds every envelope in the document's code blocks that
// is a request (it has an "id"). Envelopes that elide part of themselves
// with "…" outside a string are not JSON and are skipped.
func exampleRequests(t *testing.T, doc string) []docRequest {
	t.Helper()
	var out []docRequest
	blocks := regexp.MustCompile("(?s)```[a-z]*\n(.*?)```").FindAllStringSubmatch(doc, -1)
	for _, b := range blocks {
		text := b[1]
		for i := 0; i < len(text); {
			j := strings.Index(text[i:], `{"type":`)
			if j < 0 {
				break
			}
			i += j
			dec := json.NewDecoder(strings.NewReader(text[i:]))
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				i++
				continue
			}
			var r docRequest
			if json.Unmarshal(raw, &r) == nil && r.ID != "" {
				r.Raw = string(raw)
				out = append(out, r)
			}
			i += int(dec.InputOffset())
		}
	}
	if len(out) == 0 {
		t.Fatal("no example requests found in docs/protocol.md")
	}
	return out
}

func TestEveryRequestTypeIsDocumentedWithAnExample(t *testing.T) {
	examples := exampleRequests(t, protocolDoc(t))
	have := map[string]bool{}
	for _, e := range examples {
		have[e.Type] = true
	}
	registered := map[string]bool{}
	for _, typ := range fullRouter(t).Types() {
		registered[typ] = true
		if !have[typ] {
			t.Errorf("%s is registered on the router but docs/protocol.md has no example request of it", typ)
		}
	}
	for typ := range have {
		if !registered[typ] {
			t.Errorf("docs/protocol.md has an example request of %s, which the server does not handle", typ)
		}
	}
}

func TestEveryExampleRequestDecodes(t *testing.T) {
	for _, e := range exampleRequests(t, protocolDoc(t)) {
		env, err := signaling.DecodeRequest([]byte(e.Raw))
		if err != nil {
			t.Errorf("%s: %v", e.Raw, err)
			continue
		}
		if env.Type != e.Type || env.ID != e.ID {
			t.Errorf("%s decoded as %+v", e.Raw, env)
		}
	}
}

// errorTable is the "## Errors" section of the document.
func errorTable(t *testing.T) string {
	t.Helper()
	doc := protocolDoc(t)
	start := strings.Index(doc, "\n## Errors")
	end := strings.Index(doc[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal(`docs/protocol.md has no "## Errors" section`)
	}
	return doc[start : start+1+end]
}

// httpStatuses maps the names of net/http's status constants
// ("StatusTooManyRequests") to their numbers.
func httpStatuses() map[string]int {
	out := map[string]int{}
	for code := 100; code < 600; code++ {
		text := http.StatusText(code)
		if text == "" {
			continue
		}
		name := strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return r
			}
			return -1
		}, text)
		out["Status"+name] = code
	}
	return out
}

// Every error code the server's source can send is in the error table.
// The domain packages' codes are fault's constants, which the next test
// holds to the table; here the source is searched for the codes that the
// HTTP surfaces write themselves, with their status, which must be the
// table's for that code.
func TestEveryErrorCodeIsInTheErrorTable(t *testing.T) {
	table := errorTable(t)
	signalingCodes := map[string]string{
		"CodeMalformed": signaling.CodeMalformed, "CodeBadRequest": signaling.CodeBadRequest,
		"CodeUnknownType": signaling.CodeUnknownType, "CodeHelloRequired": signaling.CodeHelloRequired,
		"CodeUnsupportedVersion": signaling.CodeUnsupportedVersion, "CodeUnauthenticated": signaling.CodeUnauthenticated,
		"CodeForbidden": signaling.CodeForbidden, "CodeNotFound": signaling.CodeNotFound,
		"CodeConflict": signaling.CodeConflict, "CodeRateLimited": signaling.CodeRateLimited,
		"CodeTooLarge": signaling.CodeTooLarge, "CodeUnavailable": signaling.CodeUnavailable,
		"CodeInternal": signaling.CodeInternal,
	}
	statuses := httpStatuses()
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`apiError\(http\.(Status\w+),\s*(?:"(\w+)"|(Code\w+))`),
		regexp.MustCompile(`httpError\(w,\s*http\.(Status\w+),\s*(?:"(\w+)"|(Code\w+))`),
		regexp.MustCompile(`fault\.New\(()"(\w+)"()`),
	}
	codes := map[string]string{}
	for _, c := range fault.Codes() {
		codes[c] = "fault's table"
	}
	found := 0
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "loadtest" || d.Name() == "client" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, p := range patterns {
			for _, m := range p.FindAllStringSubmatch(string(src), -1) {
				found++
				code := m[2]
				if m[3] != "" {
					if code = signalingCodes[m[3]]; code == "" {
						t.Errorf("%s: %s is not one of signaling's codes", path, m[3])
						continue
					}
				}
				codes[code] = path
				r, ok := fault.Lookup(code)
				if !ok {
					t.Errorf("%s: the code %q is not in fault's table", path, code)
					continue
				}
				if m[1] != "" && statuses[m[1]] != r.Status {
					t.Errorf("%s answers %q with http.%s, but fault's table says %d", path, code, m[1], r.Status)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 10 {
		t.Fatalf("found only %d errors written in the source; the patterns are stale", found)
	}
	names := make([]string, 0, len(codes))
	for c := range codes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		if !strings.Contains(table, "| `"+c+"` |") {
			t.Errorf("%s sends the code %q, which is not in the error table of docs/protocol.md", codes[c], c)
		}
	}
}

// The document's error table and fault's translation table are the same
// table: the same codes, each with the same HTTP status and the same
// behaviour on the websocket.
func TestTheErrorTableIsFaultsTable(t *testing.T) {
	row := regexp.MustCompile("(?m)^\\| `(\\w+)` \\|.*\\| ([^|]+) \\| ([^|]+) \\|$")
	sockets := map[string]fault.Socket{
		"stays":                      fault.Stays,
		"none":                       fault.NotOnSocket,
		"refused before the upgrade": fault.BeforeUpgrade,
	}
	documented := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(errorTable(t), -1) {
		code, socket, status := m[1], strings.TrimSpace(m[2]), strings.TrimSpace(m[3])
		documented[code] = true
		r, ok := fault.Lookup(code)
		if !ok {
			t.Errorf("docs/protocol.md's error table has %q, which fault's table does not", code)
			continue
		}
		want := 0
		if status != "none" {
			n, err := strconv.Atoi(strings.FieldsFunc(status, func(r rune) bool { return !unicode.IsDigit(r) })[0])
			if err != nil {
				t.Errorf("%s: HTTP status %q is not a number", code, status)
			}
			want = n
		}
		if r.Status != want {
			t.Errorf("%s: docs/protocol.md says HTTP %q, fault's table %d", code, status, r.Status)
		}
		s, ok := sockets[socket]
		if strings.HasPrefix(socket, "closes") {
			s, ok = fault.Closes, true
		}
		if !ok {
			t.Errorf("%s: the websocket column %q is none of stays, closes, refused before the upgrade, none", code, socket)
		} else if r.Socket != s {
			t.Errorf("%s: docs/protocol.md says the websocket %q, fault's table %d", code, socket, r.Socket)
		}
	}
	if len(documented) < 10 {
		t.Fatalf("found only %d rows in docs/protocol.md's error table; the pattern is stale", len(documented))
	}
	for _, c := range fault.Codes() {
		if !documented[c] {
			t.Errorf("fault's table has %q, which docs/protocol.md's error table does not", c)
		}
	}
}
