package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/signaling/client"
)

// Video rooms across nodes: each room is hosted by one node's SFU, and
// connections on the other nodes use it through the bus.

// agentOn connects a demo account to node n.
func agentOn(t *testing.T, n *node, name string) *client.Client {
	t.Helper()
	c, _, err := client.Connect(ctxFor(t), n.ws(), client.Options{Token: n.server().login(t, name)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// guestOn connects a guest of the conference room numbered number to
// node n, its token asked of n too.
func guestOn(t *testing.T, n *node, number, name string) *client.Client {
	t.Helper()
	resp, body := post(t, n.base+"/api/conference/guest", `{"number":"`+number+`","name":"`+name+`"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("guest %s: %d %s", name, resp.StatusCode, body)
	}
	var g struct{ Token string }
	json.Unmarshal(body, &g) //nolint:errcheck
	c, _, err := client.Connect(ctxFor(t), n.ws(), client.Options{Token: g.Token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// conferenceRoom has c create a conference room.
func conferenceRoom(t *testing.T, c *client.Client, name string) roomInfo {
	t.Helper()
	var created struct{ Room roomInfo }
	request(t, c, "room.create", map[string]any{"name": name}, &created)
	return created.Room
}

// seeEachOther has every peer publish a camera and waits until each
// receives every other's video.
func seeEachOther(t *testing.T, peers []*rtcPeer, ids []string) {
	t.Helper()
	for _, p := range peers {
		p.publish(t, "camera")
	}
	for i, p := range peers {
		for j, id := range ids {
			if i != j {
				p.waitReceiving(t, id)
			}
		}
	}
}

// A room joined from three nodes: alice's websocket is on n1 (so n1
// hosts the room), one guest's on n2, another's on n3. Each receives the
// other two's video, the relayed members' signalling and media included.
func TestARoomJoinedFromThreeNodes(t *testing.T) {
	t.Parallel()
	d := startNodes(t, 3)
	n1, n2, n3 := d.nodes[0], d.nodes[1], d.nodes[2]
	alice := agentOn(t, n1, "alice")
	r := conferenceRoom(t, alice, "Across")
	g2 := guestOn(t, n2, *r.Number, "Gwen")
	g3 := guestOn(t, n3, *r.Number, "Gus")
	var peers []*rtcPeer
	var ids []string
	for _, c := range []*client.Client{alice, g2, g3} {
		p, j := enter(t, c, r.ID, nil)
		peers = append(peers, p)
		ids = append(ids, j.ParticipantID)
	}
	// Each joiner is told of those there before it, wherever they are.
	if len(peers[2].joinedWith) != 2 {
		t.Fatalf("the third joiner saw %v, want the two others", peers[2].joinedWith)
	}
	seeEachOther(t, peers, ids)
	host := hostOf(t, d, r.ID)
	if host != n1.id {
		t.Fatalf("room hosted by %q, want n1 (the first joiner's node)", host)
	}
	// Leaving on n3 is relayed: the others hear of it.
	request(t, g3, "room.leave", map[string]any{"room_id": r.ID}, nil)
	peers[0].wait(t, "room.participant_left", func(data json.RawMessage) bool {
		var e struct {
			ParticipantID string `json:"participant_id"`
			Reason        string `json:"reason"`
		}
		json.Unmarshal(data, &e) //nolint:errcheck
		return e.ParticipantID == ids[2] && e.Reason == "left"
	})
	// A node that starts now leaves the live room to its host.
	d.add(t, "n4")
	if host := hostOf(t, d, r.ID); host != n1.id {
		t.Fatalf("after n4 started the room is hosted by %q, want n1", host)
	}
}

// openDB connects to the deployment's database.
func openDB(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// hostOf is the node recorded as room id's host.
func hostOf(t *testing.T, d *deployment, id string) string {
	t.Helper()
	db := openDB(t, d.db)
	var host *string
	if err := db.QueryRow(ctxFor(t), `SELECT node_id FROM rooms WHERE id = $1`, id).Scan(&host); err != nil {
		t.Fatal(err)
	}
	if host == nil {
		return ""
	}
	return *host
}

// kill -9 of the room's node: the participants on the other nodes are
// told within 10 s (room.moved, host_lost), join again, and their media
// flows again through the room's new host.
func TestARoomMovesWhenItsNodeIsKilled(t *testing.T) {
	t.Parallel()
	d := startNodes(t, 3)
	n1, n2, n3 := d.nodes[0], d.nodes[1], d.nodes[2]
	alice := agentOn(t, n1, "alice")
	r := conferenceRoom(t, alice, "Doomed host")
	// The first joiner's node hosts the room: n3.
	g3 := guestOn(t, n3, *r.Number, "Gus")
	enter(t, g3, r.ID, nil)
	g2 := guestOn(t, n2, *r.Number, "Gwen")
	ap, aj := enter(t, alice, r.ID, nil)
	gp, gj := enter(t, g2, r.ID, nil)
	seeEachOther(t, []*rtcPeer{ap, gp}, []string{aj.ParticipantID, gj.ParticipantID})
	if host := hostOf(t, d, r.ID); host != n3.id {
		t.Fatalf("room hosted by %q, want n3", host)
	}

	killed := time.Now()
	n3.kill(t)
	moved := func(data json.RawMessage) bool {
		var e struct {
			RoomID string `json:"room_id"`
			Reason string `json:"reason"`
		}
		json.Unmarshal(data, &e) //nolint:errcheck
		return e.RoomID == r.ID && e.Reason == "host_lost"
	}
	ap.wait(t, "room.moved", moved)
	gp.wait(t, "room.moved", moved)
	if took := time.Since(killed); took > 10*time.Second {
		t.Fatalf("told after %v, want within 10 s", took)
	}

	// The pages join again (here on fresh connections to the same nodes:
	// rtcpeer drives one peer per connection) and see each other again.
	alice2 := agentOn(t, n1, "alice")
	gwen2 := guestOn(t, n2, *r.Number, "Gwen")
	ap2, aj2 := enter(t, alice2, r.ID, nil)
	gp2, gj2 := enter(t, gwen2, r.ID, nil)
	seeEachOther(t, []*rtcPeer{ap2, gp2}, []string{aj2.ParticipantID, gj2.ParticipantID})
	if host := hostOf(t, d, r.ID); host != n1.id {
		t.Fatalf("room now hosted by %q, want n1 (the first to join again)", host)
	}
	// The connections told to move are not in the room any more: they
	// may join again themselves.
	if code := requestErr(t, alice, "rtc.restart", map[string]any{"room_id": r.ID}); code != "not_found" {
		t.Fatalf("the moved connection's old seat: %s, want not_found", code)
	}
}

// Relayed requests obey the access rule where the connection is: with
// the room's node paused (SIGSTOP: it answers nothing), a principal who
// may not join is refused at once on its own node, an unknown or forged
// room id is not found as on one node, and only a join the rule allows
// goes to the host, which does not answer: unavailable.
func TestRelayedRoomRequestsAreDecidedOnTheConnectionsNode(t *testing.T) {
	t.Parallel()
	d := startNodes(t, 2)
	n1, n2 := d.nodes[0], d.nodes[1]
	alice := agentOn(t, n1, "alice")
	r := conferenceRoom(t, alice, "Private")
	enter(t, alice, r.ID, nil) // n1 hosts it
	other := conferenceRoom(t, alice, "Other")
	stranger := guestOn(t, n2, *other.Number, "Stan") // a guest of another room
	invited := guestOn(t, n2, *r.Number, "Ines")

	// The same answers on the host's node and on the other, before the
	// pause: unknown and malformed ids.
	for _, c := range []*client.Client{alice, invited} {
		for _, id := range []string{"r0123456789abcdef", "nope", "r' OR 1=1 --"} {
			if code := requestErr(t, c, "room.join", map[string]any{"room_id": id}); code != "not_found" {
				t.Fatalf("join %q: %s, want not_found", id, code)
			}
		}
	}

	if err := syscall.Kill(n1.pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(n1.pid, syscall.SIGCONT) //nolint:errcheck
	paused := time.Now()
	cases := []struct {
		name string
		c    *client.Client
		typ  string
		data map[string]any
		want string
	}{
		{"a guest of another room joins", stranger, "room.join", map[string]any{"room_id": r.ID}, "forbidden"},
		{"a guest of another room reads it", stranger, "room.get", map[string]any{"room_id": r.ID}, "not_found"},
		{"a guest of another room ends it", stranger, "room.end", map[string]any{"room_id": r.ID}, "forbidden"},
		{"a guest ends the room", invited, "room.end", map[string]any{"room_id": r.ID}, "forbidden"},
		{"an offer without joining", invited, "rtc.offer", map[string]any{"room_id": r.ID, "sdp": "v=0"}, "not_found"},
		{"a candidate without joining", stranger, "rtc.candidate",
			map[string]any{"room_id": r.ID, "target": "up", "candidate": map[string]any{"candidate": ""}}, "not_found"},
		{"an unknown room", invited, "room.join", map[string]any{"room_id": "r0123456789abcdef"}, "not_found"},
	}
	for _, tc := range cases {
		if code := requestErr(t, tc.c, tc.typ, tc.data); code != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, code, tc.want)
		}
	}
	if took := time.Since(paused); took > 3*time.Second {
		t.Fatalf("the refusals took %v: they waited on the host", took)
	}
	// Allowed: relayed to the paused host, which does not answer.
	if code := requestErr(t, invited, "room.join", map[string]any{"room_id": r.ID}); code != "unavailable" {
		t.Fatalf("join through a host that does not answer: %s, want unavailable", code)
	}
}

// SIGTERM of the room's node: before its websockets close, it lets go of
// the room and tells every participant to move (host_stopping); they join
// again on a live node and see each other.
func TestARoomMovesOffADrainingNode(t *testing.T) {
	t.Parallel()
	d := startNodes(t, 3)
	n1, n2, n3 := d.nodes[0], d.nodes[1], d.nodes[2]
	alice := agentOn(t, n1, "alice")
	r := conferenceRoom(t, alice, "Moving")
	g3 := guestOn(t, n3, *r.Number, "Gus")
	enter(t, g3, r.ID, nil) // n3 hosts it
	g2 := guestOn(t, n2, *r.Number, "Gwen")
	ap, _ := enter(t, alice, r.ID, nil)
	gp, _ := enter(t, g2, r.ID, nil)
	if host := hostOf(t, d, r.ID); host != n3.id {
		t.Fatalf("room hosted by %q, want n3", host)
	}
	if err := syscall.Kill(n3.pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	moved := func(data json.RawMessage) bool {
		var e struct {
			RoomID string `json:"room_id"`
			Reason string `json:"reason"`
		}
		json.Unmarshal(data, &e) //nolint:errcheck
		return e.RoomID == r.ID && e.Reason == "host_stopping"
	}
	ap.wait(t, "room.moved", moved)
	gp.wait(t, "room.moved", moved)
	// The room has no host until the next join chooses one.
	if host := hostOf(t, d, r.ID); host != "" {
		t.Fatalf("after the drain the room is hosted by %q, want none", host)
	}
	alice2 := agentOn(t, n1, "alice")
	gwen2 := guestOn(t, n2, *r.Number, "Gwen")
	ap2, aj2 := enter(t, alice2, r.ID, nil)
	gp2, gj2 := enter(t, gwen2, r.ID, nil)
	seeEachOther(t, []*rtcPeer{ap2, gp2}, []string{aj2.ParticipantID, gj2.ParticipantID})
	if host := hostOf(t, d, r.ID); host != n1.id {
		t.Fatalf("room now hosted by %q, want n1", host)
	}
}

// Nodes started with --media=false run no SFU: a room joined from them is
// hosted by the node that runs one, as the three-node browser test wants
// (the widget on n1, the desk on n2, the room on n3's SFU).
func TestRoomsGoToTheNodeThatRunsMedia(t *testing.T) {
	t.Parallel()
	d := startNodes(t, 0)
	n1 := d.add(t, "n1", "--media=false")
	n2 := d.add(t, "n2", "--media=false")
	n3 := d.add(t, "n3")
	alice := agentOn(t, n1, "alice")
	r := conferenceRoom(t, alice, "Media elsewhere")
	g := guestOn(t, n2, *r.Number, "Gwen")
	ap, aj := enter(t, alice, r.ID, nil)
	gp, gj := enter(t, g, r.ID, nil)
	seeEachOther(t, []*rtcPeer{ap, gp}, []string{aj.ParticipantID, gj.ParticipantID})
	if host := hostOf(t, d, r.ID); host != n3.id {
		t.Fatalf("room hosted by %q, want n3 (the only node with media)", host)
	}
}

// --media=false needs other nodes to host the rooms.
func TestNoMediaNeedsNATS(t *testing.T) {
	t.Parallel()
	if _, err := parseConfig([]string{"--media=false"}, func(string) string { return "" }, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--nats-url") {
		t.Fatalf("--media=false alone: %v, want an error naming --nats-url", err)
	}
	if _, err := parseConfig([]string{"--media=false", "--nats-url", "nats://127.0.0.1:4222"}, func(string) string { return "" }, io.Discard); err != nil {
		t.Fatalf("--media=false with NATS: %v", err)
	}
}

// What is left when things end on another node than the room's: a
// killed node's participants leave the rooms hosted elsewhere
// (disconnected), so does a closed websocket's, and a room ended through
// another node is closed on its host too, so the members it held for
// other nodes are gone.
func TestRoomsAreCleanedUpAcrossNodes(t *testing.T) {
	t.Parallel()
	d := startNodes(t, 3)
	n1, n2, n3 := d.nodes[0], d.nodes[1], d.nodes[2]
	alice := agentOn(t, n1, "alice")
	r := conferenceRoom(t, alice, "Cleanup")
	ap, _ := enter(t, alice, r.ID, nil) // n1 hosts it
	g2 := guestOn(t, n2, *r.Number, "Gwen")
	_, gj := enter(t, g2, r.ID, nil)
	g3 := guestOn(t, n3, *r.Number, "Gus")
	_, g3j := enter(t, g3, r.ID, nil)

	n3.kill(t)
	ap.wait(t, "room.participant_left", func(data json.RawMessage) bool {
		var e struct {
			ParticipantID string `json:"participant_id"`
			Reason        string `json:"reason"`
		}
		json.Unmarshal(data, &e) //nolint:errcheck
		return e.ParticipantID == g3j.ParticipantID && e.Reason == "disconnected"
	})

	// A websocket on n2 that closes leaves its member on the host.
	g4 := guestOn(t, n2, *r.Number, "Gil")
	_, g4j := enter(t, g4, r.ID, nil)
	g4.Close()
	ap.wait(t, "room.participant_left", func(data json.RawMessage) bool {
		var e struct {
			ParticipantID string `json:"participant_id"`
			Reason        string `json:"reason"`
		}
		json.Unmarshal(data, &e) //nolint:errcheck
		return e.ParticipantID == g4j.ParticipantID && e.Reason == "disconnected"
	})

	// alice ends the room from another tab, on n2.
	alice2 := agentOn(t, n2, "alice")
	request(t, alice2, "room.end", map[string]any{"room_id": r.ID}, nil)
	ap.wait(t, "room.ended", nil)
	// The host let Gwen's member go, and n2 dropped her seat.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := g2.Request(ctxFor(t), "rtc.restart", map[string]any{"room_id": r.ID})
		if e, ok := err.(*client.Error); ok && e.Code == "not_found" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Gwen (%s) still in the ended room on its host: rtc.restart answered %v", gj.ParticipantID, err)
		}
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
}

// A room its draining host let go of still ends when nobody comes back:
// another node arms its empty-room timer.
func TestARoomLeftByADrainedNodeEndsWhenNobodyComesBack(t *testing.T) {
	t.Parallel()
	d := startNodes(t, 2, "--room-grace", "2s")
	n1, n2 := d.nodes[0], d.nodes[1]
	alice := agentOn(t, n1, "alice")
	r := conferenceRoom(t, alice, "Abandoned")
	enter(t, alice, r.ID, nil) // n1 made it and hosts it: no other node has its timer
	if err := syscall.Kill(n1.pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, body := post(t, n2.base+"/api/conference/lookup", `{"number":"`+*r.Number+`"}`)
		if resp.StatusCode == http.StatusGone {
			break
		}
		if resp.StatusCode != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("lookup on n2: %d %s, want the room ended by its empty timer", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
}
