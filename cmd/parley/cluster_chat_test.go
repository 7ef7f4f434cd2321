package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/chat"
	"parley/signaling/client"
)

// Chat over several nodes: each node a process of its own on one
// database and one embedded NATS server (nodes_test.go), the clients on
// different nodes, as a load balancer without sticky sessions spreads
// them.

// chatNodes is a deployment of count nodes with a test queue (settings:
// SQL assignments) whose members are alice and bob; on(i) is node i as
// the single-node chat helpers take it.
type chatNodes struct {
	*deployment
	db    *pgx.Conn
	queue string
}

func startChatNodes(t *testing.T, count int, settings string) *chatNodes {
	t.Helper()
	d := startNodes(t, count)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, d.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(ctx) })
	key := fmt.Sprintf("nodes-%d", time.Now().UnixNano()%1e9)
	addQueue(t, db, key, "Hello from the nodes", settings)
	return &chatNodes{deployment: d, db: db, queue: key}
}

func (d *chatNodes) on(i int) *chatServer {
	return &chatServer{server: d.nodes[i].server(), db: d.db, queue: d.queue}
}

// router is the node whose routing turn queue is now (by the advisory
// lock its turn's connection holds), or nil.
func (d *chatNodes) router(t *testing.T) *node {
	t.Helper()
	var app string
	// pg_locks lists the locks of every database of the cluster: other
	// test packages' nodes hold the same keys in theirs.
	err := d.db.QueryRow(context.Background(), `SELECT a.application_name FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		JOIN queues q ON q.key = $1 AND l.objid::bigint = q.id
		WHERE l.locktype = 'advisory' AND l.classid = $2 AND l.objsubid = 2 AND l.granted
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		d.queue, 0x726f7574).Scan(&app)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range d.nodes {
		if chat.TurnApplication+n.id == app {
			return n
		}
	}
	t.Fatalf("the turn is held by %q, no node of the test", app)
	return nil
}

// waitMessage waits for c to be sent the message text of conversation
// id, past the messages before it.
func waitMessage(t *testing.T, c *client.Client, id int64, text string) {
	t.Helper()
	for eventOf(waitEvent(t, c, "chat.event", chatEvent(id, "message"))).Text != text {
	}
}

// waitRouter waits for a node to take the queue's turn, and returns it.
func (d *chatNodes) waitRouter(t *testing.T) *node {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if n := d.router(t); n != nil {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatal("no node took the queue's turn within 15s")
		}
		time.Sleep(20 * time.Millisecond) // polling locks other processes take
	}
}

// typingOf matches a chat.typing event of conversation id.
func typingOf(id int64) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var e struct {
			ConversationID int64 `json:"conversation_id"`
			Typing         bool  `json:"typing"`
		}
		json.Unmarshal(d, &e) //nolint:errcheck
		return e.ConversationID == id && e.Typing
	}
}

func presenceOf(id int64, online bool) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var e struct {
			ConversationID int64 `json:"conversation_id"`
			CustomerOnline bool  `json:"customer_online"`
		}
		json.Unmarshal(d, &e) //nolint:errcheck
		return e.ConversationID == id && e.CustomerOnline == online
	}
}

// userOnline matches the staff.presence event of user coming online or
// going offline.
func userOnline(user int64, online bool) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var e struct {
			UserID int64 `json:"user_id"`
			Online bool  `json:"online"`
		}
		json.Unmarshal(raw, &e) //nolint:errcheck
		return e.UserID == user && e.Online == online
	}
}

func TestAChatAcrossNodesIsOfferedAcceptedAndTalkedThrough(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 3, "")
	// The chat waits for an agent; a node takes the queue's turn. The
	// agent connects to another node, so the offer needs presence and a
	// wake-up across nodes, and the customer to a third when there is one.
	cust := d.on(0).customer(t, d.on(0).visitorToken(t, ""))
	c := startChat(t, cust, "Vera")
	routing := d.waitRouter(t)
	agentNode := 1
	if d.nodes[1] == routing {
		agentNode = 2
	}
	alice := d.on(agentNode).agent(t, "alice")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	waitEvent(t, cust, "chat.event", chatEvent(c.ID, "accepted"))
	for i := range 5 {
		request(t, cust, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": fmt.Sprint("c", i), "text": fmt.Sprint("customer ", i)}, nil)
		request(t, alice, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": fmt.Sprint("a", i), "text": fmt.Sprint("agent ", i)}, nil)
	}
	for i := range 5 { // in order, each past the greeting and the other side's own
		waitMessage(t, alice, c.ID, fmt.Sprint("customer ", i))
		waitMessage(t, cust, c.ID, fmt.Sprint("agent ", i))
	}
	request(t, cust, "chat.typing", map[string]any{"conversation_id": c.ID, "typing": true}, nil)
	waitEvent(t, alice, "chat.typing", typingOf(c.ID))
	request(t, alice, "chat.typing", map[string]any{"conversation_id": c.ID, "typing": true}, nil)
	waitEvent(t, cust, "chat.typing", typingOf(c.ID))
	cust.Close()
	waitEvent(t, alice, "chat.presence", presenceOf(c.ID, false))
}

func TestATransferAcrossNodesReachesTheColleagueAndTheCustomer(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 3, "")
	alice := d.on(1).agent(t, "alice")
	cust := d.on(0).customer(t, d.on(0).visitorToken(t, ""))
	c := startChat(t, cust, "Tom")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	var bobID int64
	if err := d.db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'bob'`).Scan(&bobID); err != nil {
		t.Fatal(err)
	}
	request(t, alice, "staff.directory", nil, nil)
	bob := d.on(2).agent(t, "bob")
	waitEvent(t, alice, "staff.presence", userOnline(bobID, true))
	// alice's node knows bob is connected by then, or a moment later (its
	// view and the directory's event travel apart): a refusal for that
	// is tried again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := alice.Request(ctxFor(t), "chat.transfer", map[string]any{"conversation_id": c.ID, "user_id": bobID})
		if err == nil {
			break
		}
		if e, ok := err.(*client.Error); !ok || e.Code != "conflict" || time.Now().After(deadline) {
			t.Fatalf("chat.transfer to bob: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // alice's node's view of bob, which the bus brings
	}
	if o := waitOffer(t, bob, c.ID); o.Kind != "transfer" {
		t.Fatalf("bob was offered %+v, not a transfer", o)
	}
	request(t, bob, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	e := eventOf(waitEvent(t, cust, "chat.event", chatEvent(c.ID, "transferred")))
	if e.Author.Name == "" {
		t.Errorf("the customer's transferred line names nobody: %+v", e)
	}
	request(t, bob, "chat.send", map[string]any{"conversation_id": c.ID, "client_id": "b1", "text": "bob here"}, nil)
	waitMessage(t, cust, c.ID, "bob here")
}

// The node that routes the queue dies: the next chat is offered by
// another node, within seconds. (The agents are on the other nodes: an
// agent on a node that dies counts as connected until the heartbeat's
// TTL, and an offer made to it meanwhile waits for its deadline, which
// the next test tries.)
func TestKillingTheRoutingNodeHandsRoutingToAnother(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 3, "")
	first := startChat(t, d.on(0).customer(t, d.on(0).visitorToken(t, "")), "First")
	routing := d.waitRouter(t)
	var live []int
	for i, n := range d.nodes {
		if n != routing {
			live = append(live, i)
		}
	}
	alice := d.on(live[0]).agent(t, "alice")
	bob := d.on(live[1]).agent(t, "bob")
	waitEither(t, alice, bob, "chat.offer", offerOf(first.ID))
	routing.kill(t)
	cust := d.on(live[1]).customer(t, d.on(live[1]).visitorToken(t, ""))
	killed := time.Now()
	c := startChat(t, cust, "Second")
	if waitEither(t, alice, bob, "chat.offer", offerOf(c.ID)) == nil {
		t.Fatal("nobody was offered the chat")
	}
	t.Logf("offered %v after the routing node's death", time.Since(killed))
	if n := d.router(t); n == nil || n == routing {
		t.Errorf("the turn is with %v after its node died", n)
	}
}

// An agent's node dies with an offer pending: the offer runs out at its
// deadline and goes to an agent on a live node, and the dead node's
// agent shows offline to colleagues within seconds.
func TestKillingAnAgentsNodeMovesThePendingOfferOnAtItsDeadline(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 3, "answer_seconds = 3")
	alice := d.on(1).agent(t, "alice")
	cust := d.on(0).customer(t, d.on(0).visitorToken(t, ""))
	c := startChat(t, cust, "Una")
	o := waitOffer(t, alice, c.ID)
	bob := d.on(2).agent(t, "bob")
	var aliceID int64
	if err := d.db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'alice'`).Scan(&aliceID); err != nil {
		t.Fatal(err)
	}
	var dir []struct {
		ID     int64 `json:"id"`
		Online bool  `json:"online"`
	}
	request(t, bob, "staff.directory", nil, &struct {
		Users any `json:"users"`
	}{&dir})
	for _, u := range dir {
		if u.ID == aliceID && !u.Online {
			t.Fatal("alice, connected on another node, shows offline to bob")
		}
	}
	d.nodes[1].kill(t)
	killed := time.Now()
	waitOffer(t, bob, c.ID)
	if time.Now().Before(o.Deadline) {
		t.Errorf("the offer moved on at %v, before its deadline %v", time.Now(), o.Deadline)
	}
	waitEvent(t, bob, "staff.presence", userOnline(aliceID, false))
	t.Logf("alice shown offline %v after her node died", time.Since(killed))
}

// The limits against guessing count every node's attempts: spread over
// three nodes, they run out exactly where one node's would.
func TestLimitsHoldAcrossNodes(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 3, "")
	// One sign-in, the first of the address's 10: the token serves on
	// every node.
	token := d.nodes[0].server().login(t, "alice")
	t.Run("sign-ins", func(t *testing.T) {
		for i := range 9 {
			resp, body := post(t, d.nodes[(i+1)%3].base+"/api/login", `{"username":"alice","password":"wrong"}`)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d %s", i+2, resp.StatusCode, body)
			}
		}
		for i, n := range d.nodes {
			if resp, body := post(t, n.base+"/api/login", `{"username":"alice","password":"demo"}`); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("node %d after 10 attempts over three nodes: %d %s, want 429", i+1, resp.StatusCode, body)
			}
		}
	})
	t.Run("room numbers over HTTP", func(t *testing.T) {
		for i := range 10 {
			resp, body := post(t, d.nodes[i%3].base+"/api/conference/lookup", `{"number":"1000000001"}`)
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("wrong number %d: %d %s", i+1, resp.StatusCode, body)
			}
		}
		for i, n := range d.nodes {
			if resp, body := post(t, n.base+"/api/conference/lookup", `{"number":"1000000001"}`); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("node %d after 10 wrong numbers over three nodes: %d %s, want 429", i+1, resp.StatusCode, body)
			}
		}
	})
	t.Run("room numbers over the websocket", func(t *testing.T) {
		conns := make([]*client.Client, len(d.nodes))
		for i, n := range d.nodes {
			c, _, err := client.Connect(ctxFor(t), n.ws(), client.Options{Token: token})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			conns[i] = c
		}
		for i := range 10 {
			if code := requestErr(t, conns[i%3], "room.get", map[string]any{"number": "1000000002"}); code != "not_found" {
				t.Fatalf("wrong number %d: %s", i+1, code)
			}
		}
		for i, c := range conns {
			if code := requestErr(t, c, "room.get", map[string]any{"number": "1000000002"}); code != "rate_limited" {
				t.Errorf("node %d after 10 wrong numbers over three nodes: %s, want rate_limited", i+1, code)
			}
		}
	})
}

// typingBy matches a chat.typing event of conversation id by the author
// named name.
func typingBy(id int64, name string) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var e struct {
			ConversationID int64 `json:"conversation_id"`
			Typing         bool  `json:"typing"`
			Author         struct {
				Name string `json:"name"`
			} `json:"author"`
		}
		json.Unmarshal(d, &e) //nolint:errcheck
		return e.ConversationID == id && e.Typing && e.Author.Name == name
	}
}

// A queue saved through one node holds on the others at once, not after
// their caches' few seconds: the agent's node, which has the settings
// cached, masks the agent's name as soon as the save is answered.
func TestAQueueSavedOnOneNodeTakesEffectOnTheOthersAtOnce(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 2, "show_agent_name = true")
	alice := d.on(1).agent(t, "alice")
	cust := d.on(0).customer(t, d.on(0).visitorToken(t, ""))
	c := startChat(t, cust, "Quinn")
	waitEvent(t, alice, "chat.offer", offerOf(c.ID))
	request(t, alice, "chat.accept", map[string]any{"conversation_id": c.ID}, nil)
	typing := func(on bool) {
		t.Helper()
		request(t, alice, "chat.typing", map[string]any{"conversation_id": c.ID, "typing": on}, nil)
	}
	typing(true) // alice's node reads the queue into its cache
	waitEvent(t, cust, "chat.typing", typingBy(c.ID, "Alice Agent"))
	admin := d.nodes[0].server().login(t, "ada")
	if code, body := call(t, "PUT", d.nodes[0].base+"/api/admin/queues/"+d.queue, admin,
		`{"name":"Nodes","show_agent_name":false,"agent_alias":"Support Team","statuses":["Resolved"],"members":["alice","bob"]}`); code != http.StatusOK {
		t.Fatalf("save the queue on n1: %d %s", code, body)
	}
	typing(false)
	typing(true)
	waitEvent(t, cust, "chat.typing", func(d json.RawMessage) bool {
		if typingBy(c.ID, "Alice Agent")(d) {
			t.Fatal("the agent's node still shows the agent's name after the queue was saved on another node")
		}
		return typingBy(c.ID, "Support Team")(d)
	})
}

// A chat queued through a node that does not route its queue wakes the
// node that does (routing.poke), rather than waiting for its tick (250
// ms, which would make the mean wait about 125 ms). It measures a
// latency, so it runs alone, not in parallel with the package's others.
func TestAChatQueuedOnAnotherNodeWakesTheRoutingNodeAtOnce(t *testing.T) {
	d := startChatNodes(t, 3, "capacity = 100")
	alice := d.on(0).agent(t, "alice")
	first := startChat(t, d.on(0).customer(t, d.on(0).visitorToken(t, "")), "First")
	waitEvent(t, alice, "chat.offer", offerOf(first.ID))
	routing := d.router(t)
	if routing == nil {
		t.Fatal("a chat was offered and no node holds the queue's turn")
	}
	var other int
	for i, n := range d.nodes {
		if n != routing {
			other = i
		}
	}
	const chats = 21
	waits := make([]time.Duration, 0, chats)
	for i := range chats {
		cust := d.on(other).customer(t, d.on(other).visitorToken(t, ""))
		began := time.Now()
		c := startChat(t, cust, fmt.Sprint("Customer", i))
		waitEvent(t, alice, "chat.offer", offerOf(c.ID))
		waits = append(waits, time.Since(began))
		cust.Close()
	}
	// The median, not the mean: a busy machine stalls a few chats for a
	// long time, but only a node that is not woken makes most of them wait
	// for its next look (every 250 ms; unwoken, the median was 245 ms).
	slices.Sort(waits)
	median := waits[chats/2]
	t.Logf("queued on %s, routed on %s: chat.start → chat.offer median %v (from %v to %v)", d.nodes[other].id, routing.id, median, waits[0], waits[chats-1])
	if median >= 100*time.Millisecond {
		t.Errorf("a chat queued on another node waited %v (median) for its offer: the routing node was not woken", median)
	}
}
