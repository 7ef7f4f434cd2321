package signaling_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"parley/bus"
	"parley/chat"
	"parley/conference"
	"parley/rooms"
	"parley/signaling"
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
	signaling.RegisterRooms(r, rooms.New(conference.New(nil, nil, b, nil, quiet, conference.Options{}), chatSvc, b, quiet))
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

// Every error code the server's source can send is in the error table.
// The codes are read from where the source defines them: the wire codes of
// signaling, each domain package's coded errors, and the HTTP handlers'
// errors.
func TestEveryErrorCodeIsInTheErrorTable(t *testing.T) {
	doc := protocolDoc(t)
	start := strings.Index(doc, "\n## Errors")
	end := strings.Index(doc[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal(`docs/protocol.md has no "## Errors" section`)
	}
	table := doc[start : start+1+end]
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\bCode[A-Z]\w*\s*=\s*"(\w+)"`),
		regexp.MustCompile(`codedError\{"(\w+)"`),
		regexp.MustCompile(`apiError\(http\.Status\w+,\s*"(\w+)"`),
		regexp.MustCompile(`httpError\(w,\s*http\.Status\w+,\s*"(\w+)"`),
	}
	codes := map[string]string{}
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
			for _, m := range p.FindAllSubmatch(src, -1) {
				codes[string(m[1])] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) < 10 {
		t.Fatalf("found only %d codes in the source; the patterns are stale: %v", len(codes), codes)
	}
	names := make([]string, 0, len(codes))
	for c := range codes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		if !bytes.Contains([]byte(table), []byte("| `"+c+"` |")) {
			t.Errorf("%s sends the code %q, which is not in the error table of docs/protocol.md", codes[c], c)
		}
	}
}
