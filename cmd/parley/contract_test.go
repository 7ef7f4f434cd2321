package main

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"parley/signaling/client"
)

// The contract tests hold the server to what docs/protocol.md and the
// README say, reading the numbers and codes from the documents.

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docSays finds re in the document and returns its first group.
func docSays(t *testing.T, doc, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(doc)
	if m == nil {
		t.Fatalf("the document does not say %s", re)
	}
	return m[1]
}

// Every answer that issues a token says when it ends in the same field.
func TestEveryTokenAnswerSaysExpiresAt(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	var created struct {
		Room struct{ Number *string } `json:"room"`
	}
	request(t, alice, "room.create", map[string]any{"name": "Expiry"}, &created)
	for _, c := range []struct{ what, url, body string }{
		{"login", "/api/login", `{"username":"bob","password":"demo"}`},
		{"visitor", "/api/widget/" + s.queue + "/visitor", `{}`},
		{"guest", "/api/conference/guest", `{"number":"` + *created.Room.Number + `","name":"Gita"}`},
	} {
		resp, body := post(t, s.base+c.url, c.body)
		var out map[string]json.RawMessage
		json.Unmarshal(body, &out) //nolint:errcheck
		var at time.Time
		if resp.StatusCode/100 != 2 || json.Unmarshal(out["expires_at"], &at) != nil || !at.After(time.Now()) {
			t.Errorf("%s: %d %s, want a token with expires_at in the future", c.what, resp.StatusCode, body)
		}
		if _, ok := out["expires"]; ok {
			t.Errorf("%s: answers expires besides expires_at: %s", c.what, body)
		}
	}
}

// The customer's transcript takes its visitor token as a bearer header;
// ?token= is answered with a message that says to use the header, as the
// document says.
func TestTheTranscriptTakesTheVisitorTokenAsABearerNotInTheURL(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	token := s.visitorToken(t, "")
	cust := s.customer(t, token)
	c := startChat(t, cust, "Vera")
	url := s.base + "/api/conversations/" + strconv.FormatInt(c.ID, 10) + "/transcript"
	if code, body := call(t, "GET", url, token, ""); code != http.StatusOK || !strings.Contains(body, `"conversation"`) {
		t.Fatalf("bearer: %d %s", code, body)
	}
	doc := readDoc(t, "../../docs/protocol.md")
	want := docSays(t, doc, "A transcript request with `\\?token=` is answered (\\d+)")
	code, body := call(t, "GET", url+"?token="+token, "", "")
	if strconv.Itoa(code) != want || !strings.Contains(body, "Authorization") {
		t.Fatalf("?token=: %d %s, want %s saying to send the Authorization header", code, body, want)
	}
}

// The demo queue's key, as the README and the document give it, serves the
// widget on a fresh server.
func TestTheDocumentedDemoQueueKeyServesTheWidget(t *testing.T) {
	t.Parallel()
	readme := docSays(t, readDoc(t, "../../README.md"), "demo queue \"Sales\", whose key is `(\\w+)`")
	proto := docSays(t, readDoc(t, "../../docs/protocol.md"), "\\*\\*demo queue\\*\\* with the key\\s+`(\\w+)`")
	if readme != proto {
		t.Fatalf("the README says the demo key is %q, the protocol %q", readme, proto)
	}
	s := start(t, freshDatabase(t))
	if code, body := get(t, s.base+"/api/widget/"+readme); code != http.StatusOK || !strings.Contains(body, `"key":"`+readme+`"`) {
		t.Fatalf("GET /api/widget/%s: %d %s", readme, code, body)
	}
	if resp, body := post(t, s.base+"/api/widget/"+readme+"/visitor", `{}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("visitor for %s: %d %s", readme, resp.StatusCode, body)
	}
}

// A request without id, and a customer's private message, get the codes
// the document gives.
func TestMissingIDAndACustomersPrivateMessageGetTheDocumentedCodes(t *testing.T) {
	t.Parallel()
	doc := readDoc(t, "../../docs/protocol.md")
	s := newChatServer(t, "")
	cust := s.customer(t, s.visitorToken(t, ""))
	c := startChat(t, cust, "Vera")

	want := docSays(t, doc, "A request\\s+without `id` is answered `(\\w+)`")
	if err := cust.WriteRaw([]byte(`{"type":"session.ping"}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(15 * time.Second)
	for answered := false; !answered; {
		select {
		case ev, ok := <-cust.Events():
			if !ok {
				t.Fatal("the connection ended after a request without id")
			}
			if ev.Type != client.Unanswered {
				continue
			}
			if ev.Error == nil || ev.Error.Code != want || ev.Re != "" {
				t.Fatalf("a request without id: %s, want %s with an empty re", ev.Data, want)
			}
			answered = true
		case <-deadline:
			t.Fatal("no answer to a request without id within 15s")
		}
	}
	if _, err := cust.Request(ctxFor(t), "session.ping", nil); err != nil {
		t.Fatalf("the connection does not stay after a request without id: %v", err)
	}

	want = docSays(t, doc, "a customer\\s+sending `\"private\": true` is answered `(\\w+)`")
	if code := requestErr(t, cust, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "p1", "text": "psst", "private": true}); code != want {
		t.Fatalf("a customer's private message: %s, want %s", code, want)
	}
}

// Wrong room numbers are limited as the document's Limits table says, on
// HTTP (with Retry-After) and on the websocket.
func TestWrongRoomNumbersAreLimitedAsDocumented(t *testing.T) {
	t.Parallel()
	doc := readDoc(t, "../../docs/protocol.md")
	row := docSays(t, doc, "\\| wrong room numbers, HTTP [^|]*\\|([^|]*)\\|")
	m := regexp.MustCompile(`(\d+) per client address, then one more every (\d+) s`).FindStringSubmatch(row)
	if m == nil {
		t.Fatalf("the limit row does not give its numbers: %s", row)
	}
	n, _ := strconv.Atoi(m[1])
	every, _ := strconv.Atoi(m[2])
	s := newChatServer(t, "")
	for i := range n {
		if resp, body := post(t, s.base+"/api/conference/lookup", `{"number":"0000000000"}`); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("wrong number %d of %d: %d %s", i+1, n, resp.StatusCode, body)
		}
	}
	resp, body := post(t, s.base+"/api/conference/lookup", `{"number":"0000000000"}`)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), `"rate_limited"`) || err != nil || retry < 1 || retry > every {
		t.Fatalf("number %d: %d Retry-After %q %s, want 429 rate_limited with Retry-After 1–%d", n+1, resp.StatusCode, resp.Header.Get("Retry-After"), body, every)
	}

	wsRow := docSays(t, doc, "\\| wrong room numbers, websocket [^|]*\\|([^|]*)\\|")
	m = regexp.MustCompile(`(\d+) per principal, then one more every (\d+) s`).FindStringSubmatch(wsRow)
	if m == nil {
		t.Fatalf("the limit row does not give its numbers: %s", wsRow)
	}
	n, _ = strconv.Atoi(m[1])
	alice := s.agent(t, "alice")
	for i := range n {
		if code := requestErr(t, alice, "room.get", map[string]any{"number": "0000000000"}); code != "not_found" {
			t.Fatalf("room.get wrong number %d of %d: %s", i+1, n, code)
		}
	}
	if code := requestErr(t, alice, "room.get", map[string]any{"number": "0000000000"}); code != "rate_limited" {
		t.Fatalf("room.get number %d: %s, want rate_limited", n+1, code)
	}
}

// A client that keeps sending past the documented rate is answered
// rate_limited, then cut off with 1008 "flooding", at the documented
// numbers.
func TestFloodingIsCutOffAtTheDocumentedThreshold(t *testing.T) {
	t.Parallel()
	doc := readDoc(t, "../../docs/protocol.md")
	row := docSays(t, doc, "\\| requests on one websocket \\|([^|]*)\\|")
	m := regexp.MustCompile(`(\d+) a second, with bursts of up to (\d+)`).FindStringSubmatch(row)
	if m == nil {
		t.Fatalf("the limit row does not give its numbers: %s", row)
	}
	rate, _ := strconv.Atoi(m[1])
	burst, _ := strconv.Atoi(m[2])
	flood := docSays(t, doc, "\\| flooding \\|[^|]*bursts of (\\d+) \\|")
	floodBurst, _ := strconv.Atoi(flood)
	s := start(t, testDB(t))
	c, _, err := client.Connect(ctxFor(t), s.ws(), client.Options{Token: s.login(t, "alice")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	total := burst + floodBurst + 50
	began := time.Now()
	for i := range total {
		if c.WriteRaw([]byte(`{"type":"session.ping","id":"f`+strconv.Itoa(i)+`"}`)) != nil {
			break
		}
	}
	acks, limited := 0, 0
	deadline := time.After(30 * time.Second)
	for open := true; open; {
		select {
		case ev, ok := <-c.Events(): // until the server closes the connection
			switch {
			case !ok:
				open = false
			case ev.Type != client.Unanswered:
			case ev.Error == nil:
				acks++
			case ev.Error.Code == "rate_limited":
				limited++
			}
		case <-deadline:
			t.Fatalf("still open 30s after %d requests at once (%d answered, %d rate_limited)", total, acks, limited)
		}
	}
	ce := c.CloseError()
	// Both buckets refill at the rate while the frames are read: allow
	// what the time taken gave back.
	slack := int(float64(rate)*time.Since(began).Seconds()) + 2
	if ce == nil || ce.Code != websocket.ClosePolicyViolation || ce.Text != "flooding" ||
		acks < burst-1 || acks > burst+slack || limited < floodBurst-1 || limited > floodBurst+slack {
		t.Fatalf("after %d requests at once: %d answered, %d rate_limited, close %v; want about %d, %d and 1008 flooding",
			total, acks, limited, ce, burst, floodBurst)
	}
}

// keysOf lists an object's keys, and those of its objects as "a.b".
func keysOf(prefix string, v map[string]any, into map[string]bool) {
	for k, e := range v {
		into[prefix+k] = true
		if m, ok := e.(map[string]any); ok {
			keysOf(prefix+k+".", m, into)
		}
	}
}

// The server's rtc.candidate events have exactly the shape the document's
// example event shows.
func TestTheServersCandidateEventHasTheDocumentedShape(t *testing.T) {
	t.Parallel()
	var documented map[string]any
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(readDoc(t, "../../docs/protocol.md"), -1) {
		var env struct {
			Type string
			ID   string
			Data map[string]any
		}
		if json.Unmarshal([]byte(m[1]), &env) == nil && env.Type == "rtc.candidate" && env.ID == "" {
			documented = env.Data
		}
	}
	if documented == nil {
		t.Fatal("docs/protocol.md has no example of the rtc.candidate event")
	}
	want := map[string]bool{}
	keysOf("", documented, want)

	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	var created struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"name": "Candidates"}, &created)
	var j joined
	request(t, alice, "room.join", map[string]any{"room_id": created.Room.ID}, &j)
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	request(t, alice, "rtc.offer", map[string]any{"room_id": created.Room.ID, "sdp": offer.SDP}, nil)
	raw := waitEvent(t, alice, "rtc.candidate", nil)
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	keysOf("", got, have)
	for k := range have {
		if !want[k] {
			t.Errorf("the event has %q, which the document's example does not show: %s", k, raw)
		}
	}
	for _, k := range []string{"room_id", "target", "candidate", "candidate.candidate"} {
		if !have[k] {
			t.Errorf("the event lacks %q: %s", k, raw)
		}
	}
	if got["room_id"] != created.Room.ID || got["target"] != "up" {
		t.Errorf("the event is for %v %v, want %s up: %s", got["room_id"], got["target"], created.Room.ID, raw)
	}
}
