package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/signaling/client"
)

// The room tests drive video rooms through the public protocol with real
// Pion peers, as the pages do: room.* to join, rtc.* to signal, media over
// the server's SFU.

type roomInfo struct {
	ID             string  `json:"id"`
	Kind           string  `json:"kind"`
	ConversationID *int64  `json:"conversation_id"`
	Number         *string `json:"number"`
	EndedAt        *string `json:"ended_at"`
}

type joined struct {
	Room          roomInfo           `json:"room"`
	ParticipantID string             `json:"participant_id"`
	ReceiveOnly   bool               `json:"receive_only"`
	MayEnd        bool               `json:"may_end"`
	ICEServers    []webrtc.ICEServer `json:"ice_servers"`
	Participants  []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"participants"`
}

// rtcPeer is a client in a room (rtcpeer's, as the load tester's): it
// answers the server's down offers, trickles candidates both ways and
// counts what it receives. Every other event goes to events.
type rtcPeer struct {
	*rtcpeer.Peer
	room   string
	events <-chan client.Envelope
	// joinedWith are the participants already there when it joined.
	joinedWith []string

	streams sync.Map // stream id (publisher) → *atomic.Int64 packets
}

// enter joins room through c with a fresh pair of connections.
func enter(t *testing.T, c *client.Client, room string, extra map[string]any) (*rtcPeer, joined) {
	t.Helper()
	sess := rtcpeer.Follow(c)
	p := &rtcPeer{room: room, events: sess.Events()}
	data := map[string]any{"room_id": room}
	for k, v := range extra {
		data[k] = v
	}
	var j joined
	request(t, c, "room.join", data, &j)
	for _, o := range j.Participants {
		p.joinedWith = append(p.joinedWith, o.ID)
	}
	var err error
	p.Peer, err = sess.Connect(room, rtcpeer.Options{
		Config: webrtc.Configuration{ICEServers: j.ICEServers},
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			n, _ := p.streams.LoadOrStore(tr.StreamID(), new(atomic.Int64))
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				n.(*atomic.Int64).Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, j
}

// publish sends a track of source until the test ends: Opus for a
// microphone, VP8 otherwise.
func (p *rtcPeer) publish(t *testing.T, source string) {
	t.Helper()
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}
	if source == "microphone" {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	}
	tr, err := webrtc.NewTrackLocalStaticRTP(codec, source+"-"+p.room[:6], "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AddTrack(tr); err != nil {
		t.Fatal(err)
	}
	if err := p.OfferUp(ctxFor(t), nil, rtcpeer.Track{ID: tr.ID(), Source: source}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() { defer close(done); rtcpeer.SendVP8(stop, 30, tr) }()
}

// waitReceiving waits for a track of from (a participant id) and then for
// more than 30 of its packets.
func (p *rtcPeer) waitReceiving(t *testing.T, from string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := p.WaitTrack(ctx, func(tr *webrtc.TrackRemote) bool { return tr.StreamID() == from }); err != nil {
		t.Fatalf("no track from %s within 15s", from)
	}
	for {
		if n, ok := p.streams.Load(from); ok && n.(*atomic.Int64).Load() > 30 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("no media from %s within 15s", from)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

func (p *rtcPeer) wait(t *testing.T, typ string, match func(json.RawMessage) bool) json.RawMessage {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				t.Fatalf("connection closed waiting for %s", typ)
			}
			if ev.Type == typ && (match == nil || match(ev.Data)) {
				return ev.Data
			}
		case <-deadline:
			t.Fatalf("no %s within 15s", typ)
		}
	}
}

// activeChat starts a chat in the test queue and has alice accept it.
func activeChat(t *testing.T, s *chatServer) (alice, cust *client.Client, c conv) {
	alice = s.agent(t, "alice")
	cust = s.customer(t, s.visitorToken(t, ""))
	c = startChat(t, cust, "Vera")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	return alice, cust, c
}

// An agent escalates a chat to video; the customer joins; each receives
// the other's video; a supervisor watches receive-only and unseen by the
// customer; strangers are refused; the room's story is in the transcript;
// closing the chat ends the room.
func TestAChatEscalatesToAVideoRoom(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "customer_calls = false")
	alice, cust, c := activeChat(t, s)

	var created struct {
		Room    roomInfo
		Created bool
	}
	request(t, alice, "room.create", map[string]any{"conversation_id": c.ID}, &created)
	if !created.Created || created.Room.Kind != "conversation" || created.Room.ConversationID == nil || *created.Room.ConversationID != c.ID {
		t.Fatalf("created %+v", created)
	}
	room := created.Room.ID
	waitEvent(t, cust, "room.opened", nil)
	// Asking again answers the same room.
	var again struct {
		Room    roomInfo
		Created bool
	}
	request(t, alice, "room.create", map[string]any{"conversation_id": c.ID}, &again)
	if again.Created || again.Room.ID != room {
		t.Fatalf("second create %+v, want the open room %s", again, room)
	}
	// The queue does not let customers start calls.
	if code := requestErr(t, cust, "room.create", map[string]any{"conversation_id": c.ID}); code != "forbidden" {
		t.Fatalf("customer create: %s", code)
	}

	ap, aj := enter(t, alice, room, nil)
	cp, cj := enter(t, cust, room, nil)
	if !aj.MayEnd || cj.MayEnd {
		t.Fatalf("may_end: agent %v, customer %v", aj.MayEnd, cj.MayEnd)
	}
	if len(cj.Participants) != 1 || cj.Participants[0].ID != aj.ParticipantID {
		t.Fatalf("the customer sees %+v, want alice", cj.Participants)
	}
	ap.wait(t, "room.participant_joined", func(d json.RawMessage) bool { return strings.Contains(string(d), cj.ParticipantID) })
	ap.publish(t, "camera")
	cp.publish(t, "camera")
	cp.waitReceiving(t, aj.ParticipantID)
	ap.waitReceiving(t, cj.ParticipantID)

	// A supervisor watches: receive-only, and the customer is not told.
	sam := s.agent(t, "sam")
	sp, sj := enter(t, sam, room, nil)
	if !sj.ReceiveOnly {
		t.Fatal("the supervisor joined a chat's room able to publish")
	}
	sp.waitReceiving(t, aj.ParticipantID)
	sp.waitReceiving(t, cj.ParticipantID)
	if code := requestErr(t, sam, "rtc.offer", map[string]any{"room_id": room, "sdp": "v=0"}); code != "forbidden" {
		t.Fatalf("receive-only publish: %s", code)
	}

	// Strangers: another visitor, and an agent who is not the chat's.
	other := s.customer(t, s.visitorToken(t, ""))
	if code := requestErr(t, other, "room.join", map[string]any{"room_id": room}); code != "forbidden" {
		t.Fatalf("a stranger joining: %s", code)
	}
	bob := s.agent(t, "bob")
	if code := requestErr(t, bob, "room.join", map[string]any{"room_id": room}); code != "forbidden" {
		t.Fatalf("another agent joining: %s", code)
	}
	if code := requestErr(t, other, "room.join", map[string]any{"room_id": "rffffffffffffffff"}); code != "not_found" {
		t.Fatalf("no such room: %s", code)
	}

	// The customer leaves; alice sees it.
	request(t, cust, "room.leave", map[string]any{"room_id": room}, nil)
	ap.wait(t, "room.participant_left", func(d json.RawMessage) bool { return strings.Contains(string(d), cj.ParticipantID) })

	// Closing the chat ends the room for whoever is in it.
	request(t, alice, "chat.close", map[string]any{"conversation_id": c.ID, "status": "Resolved"}, nil)
	ap.wait(t, "room.ended", nil)
	if code := requestErr(t, cust, "room.join", map[string]any{"room_id": room}); code != "conflict" {
		t.Fatalf("joining an ended room: %s", code)
	}

	// The transcript tells the story; the supervisor is in it for staff only.
	var staff, public withEvents
	request(t, alice, "chat.resume", map[string]any{"conversation_id": c.ID}, &staff)
	request(t, cust, "chat.resume", map[string]any{"conversation_id": c.ID}, &public)
	kinds := func(w withEvents) string {
		var out []string
		for _, e := range w.Events {
			if strings.HasPrefix(e.Kind, "room_") {
				out = append(out, e.Author.Name+" "+e.Kind)
			}
		}
		return strings.Join(out, ", ")
	}
	if got := kinds(public); got != "Alice Agent room_created, Alice Agent room_joined, Vera room_joined, Vera room_left,  room_ended" {
		t.Errorf("the customer's transcript: %s", got)
	}
	if got := kinds(staff); !strings.Contains(got, "Sam Supervisor room_joined") {
		t.Errorf("the staff transcript lacks the supervisor: %s", got)
	}
}

// A queue that allows calls lets the customer start one.
func TestACustomerStartsACall(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "customer_calls = true")
	alice, cust, c := activeChat(t, s)
	var created struct{ Room roomInfo }
	request(t, cust, "room.create", map[string]any{"conversation_id": c.ID, "media": "audio"}, &created)
	waitEvent(t, alice, "room.opened", nil)
	if code := requestErr(t, cust, "room.create", map[string]any{"conversation_id": c.ID, "media": "smell"}); code != "bad_request" {
		t.Fatalf("bad media: %s", code)
	}
	// Bad signalling is refused and the participant stays in the room.
	cp, _ := enter(t, cust, created.Room.ID, nil)
	for _, bad := range []map[string]any{
		{"room_id": created.Room.ID},
		{"room_id": created.Room.ID, "sdp": "v=0", "tracks": []map[string]any{{"track_id": "x", "source": "webcam"}}},
		{"room_id": created.Room.ID, "sdp": "not sdp at all"},
	} {
		if code := requestErr(t, cust, "rtc.offer", bad); code != "bad_request" {
			t.Errorf("rtc.offer %v: %s", bad, code)
		}
	}
	if code := requestErr(t, cust, "rtc.candidate", map[string]any{"room_id": created.Room.ID, "target": "sideways", "candidate": map[string]any{}}); code != "bad_request" {
		t.Errorf("bad target: %s", code)
	}
	cp.publish(t, "microphone")
	ap, _ := enter(t, alice, created.Room.ID, nil)
	cp.wait(t, "room.participant_joined", nil)
	var cid string
	for _, p := range ap.joinedWith {
		cid = p
	}
	ap.waitReceiving(t, cid)
}

// Conference rooms: numbers, guests, the wrong-number limit, ending.
func TestConferenceRoomsByNumber(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	bob := s.agent(t, "bob")
	var bobID int64
	s.db.QueryRow(ctxFor(t), `SELECT id FROM users WHERE username = 'bob'`).Scan(&bobID) //nolint:errcheck
	var created struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"name": "Weekly", "invite": []int64{bobID}}, &created)
	r := created.Room
	if r.Kind != "conference" || r.Number == nil || len(*r.Number) != 10 {
		t.Fatalf("conference room %+v", r)
	}
	inv := waitEvent(t, bob, "room.invited", nil)
	if !strings.Contains(string(inv), r.ID) || !strings.Contains(string(inv), "Alice Agent") {
		t.Fatalf("invitation %s", inv)
	}
	request(t, bob, "room.decline", map[string]any{"room_id": r.ID}, nil)
	waitEvent(t, alice, "room.declined", nil)

	// A guest: the number gives a token for that room only.
	resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*r.Number+`","name":"Gita"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest: %d %s", resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	guest := s.customer(t, g.Token)
	ap, aj := enter(t, alice, r.ID, nil)
	gp, _ := enter(t, guest, r.ID, nil)
	ap.publish(t, "camera")
	gp.waitReceiving(t, aj.ParticipantID)

	// A guest token admits to its room only.
	var other struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{}, &other)
	if code := requestErr(t, guest, "room.join", map[string]any{"room_id": other.Room.ID}); code != "forbidden" {
		t.Fatalf("guest in another room: %s", code)
	}
	// Only the creator ends it.
	if code := requestErr(t, bob, "room.end", map[string]any{"room_id": r.ID}); code != "forbidden" {
		t.Fatalf("bob ending alice's room: %s", code)
	}
	request(t, alice, "room.end", map[string]any{"room_id": r.ID}, nil)
	gp.wait(t, "room.ended", nil)
	if code := requestErr(t, guest, "rtc.restart", map[string]any{"room_id": r.ID}); code != "not_found" {
		t.Fatalf("signalling after the room ended: %s", code)
	}
	resp, body = post(t, s.base+"/api/conference/lookup", `{"number":"`+*r.Number+`"}`)
	if resp.StatusCode != http.StatusGone || !strings.Contains(string(body), "This room has ended") {
		t.Fatalf("lookup of an ended room: %d %s", resp.StatusCode, body)
	}
	if code := requestErr(t, alice, "room.join", map[string]any{"room_id": r.ID}); code != "conflict" {
		t.Fatalf("joining an ended room: %s", code)
	}

	// Guessing numbers: refused after ten wrong ones, with a clear message;
	// the right number is refused too while the address is limited.
	for i := 0; i < 10; i++ {
		resp, body := post(t, s.base+"/api/conference/lookup", `{"number":"1000000000"}`)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "No room has this number") {
			t.Fatalf("wrong number %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body = post(t, s.base+"/api/conference/lookup", `{"number":"`+*other.Room.Number+`"}`)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "Too many wrong room numbers") {
		t.Fatalf("after the limit: %d %s", resp.StatusCode, body)
	}
	// From another address the right number works.
	elsewhere := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	resp, err := elsewhere.Post(s.base+"/api/conference/lookup", "application/json", strings.NewReader(`{"number":"`+*other.Room.Number+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the right number from another address: %d", resp.StatusCode)
	}
}

// Eight people with cameras on in one conference room: each receives the
// other seven.
func TestEightParticipantsSeeEachOther(t *testing.T) {
	t.Parallel()
	s := newChatServer(t, "")
	alice := s.agent(t, "alice")
	var created struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"name": "All hands"}, &created)
	peers := make([]*rtcPeer, 0, 8)
	ids := make([]string, 0, 8)
	for i := 0; i < 8; i++ {
		c := alice
		if i > 0 {
			resp, body := post(t, s.base+"/api/conference/guest", `{"number":"`+*created.Room.Number+`","name":"Guest `+string(rune('A'+i))+`"}`)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("guest %d: %d %s", i, resp.StatusCode, body)
			}
			var g struct{ Token string }
			json.Unmarshal(body, &g) //nolint:errcheck
			c = s.customer(t, g.Token)
		}
		p, j := enter(t, c, created.Room.ID, nil)
		p.publish(t, "camera")
		peers = append(peers, p)
		ids = append(ids, j.ParticipantID)
	}
	for i, p := range peers {
		for j, id := range ids {
			if i != j {
				p.waitReceiving(t, id)
			}
		}
	}
}

// An empty room ends by itself after the grace period; its number then
// admits nobody.
func TestAnEmptyRoomEndsAfterTheGracePeriod(t *testing.T) {
	t.Parallel()
	s := &chatServer{server: start(t, testDB(t), "--room-grace", "1s")}
	alice, _, err := client.Connect(ctxFor(t), s.ws(), client.Options{Token: s.login(t, "alice")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alice.Close() })
	var created struct{ Room roomInfo }
	request(t, alice, "room.create", map[string]any{"name": "Brief"}, &created)
	enter(t, alice, created.Room.ID, nil)
	request(t, alice, "room.leave", map[string]any{"room_id": created.Room.ID}, nil)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, body := post(t, s.base+"/api/conference/lookup", `{"number":"`+*created.Room.Number+`"}`)
		if resp.StatusCode == http.StatusGone && strings.Contains(string(body), "This room has ended") {
			break
		}
		if resp.StatusCode != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("lookup: %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
	if code := requestErr(t, alice, "room.join", map[string]any{"room_id": created.Room.ID}); code != "conflict" {
		t.Fatalf("joining the ended room: %s", code)
	}
}
