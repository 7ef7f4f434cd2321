package signaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley/signaling"
	"parley/signaling/client"
)

func sendFrame(id string, conv int64, clientID string) []byte {
	return fmt.Appendf(nil, `{"type":"chat.send","id":%q,"data":{"conversation_id":%d,"client_id":%q,"text":"text of %s"}}`,
		id, conv, clientID, clientID)
}

func startChat(t *testing.T, c *client.Client) int64 {
	t.Helper()
	raw, err := c.Request(ctxT(t), "chat.start", map[string]any{"name": "Vera"})
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		Conversation struct {
			ID int64 `json:"id"`
		} `json:"conversation"`
	}
	decode(t, raw, &started)
	return started.Conversation.ID
}

// A chat.send waiting on a hung database holds up neither session.ping
// nor the reading of the connection; it answers unavailable within the
// request deadline, and sent again once the database is back it is
// stored exactly once.
func TestPingIsAnsweredWhileChatSendWaitsOnAHungDatabase(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.RequestTimeout = 3 * time.Second
	f := newFullEnv(t, cfg)
	c := f.customer(t)
	conv := startChat(t, c)
	if _, err := c.Request(ctxT(t), "chat.send", map[string]any{"conversation_id": conv, "client_id": "m1", "text": "first"}); err != nil {
		t.Fatal(err)
	}

	f.proxy.Hang()
	sent := time.Now()
	if err := c.WriteRaw(sendFrame("stalled", conv, "m2")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctxT(t), "session.ping", nil); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(sent); waited >= cfg.RequestTimeout {
		t.Fatalf("ping answered after %v, behind the stalled send", waited)
	}
	for drained := false; !drained; {
		select {
		case ev := <-c.Events():
			if ev.Type == client.Unanswered {
				t.Fatalf("the send was answered (%+v) before the ping; it should still be waiting", ev)
			}
		default:
			drained = true
		}
	}
	ev := answer(t, c, cfg.RequestTimeout+5*time.Second)
	took := time.Since(sent)
	if ev.Re != "stalled" || ev.Error == nil || ev.Error.Code != signaling.CodeUnavailable {
		t.Fatalf("stalled send answered %+v, want unavailable", ev)
	}
	if took < cfg.RequestTimeout-100*time.Millisecond || took > cfg.RequestTimeout+2*time.Second {
		t.Fatalf("stalled send answered after %v, want about the request deadline %v", took, cfg.RequestTimeout)
	}

	f.proxy.Restore()
	var res struct {
		Seq int `json:"seq"`
	}
	waitFor(t, func() bool {
		raw, err := c.Request(ctxT(t), "chat.send", map[string]any{"conversation_id": conv, "client_id": "m2", "text": "text of m2"})
		if err == nil {
			decode(t, raw, &res)
		}
		return err == nil
	})
	raw, err := c.Request(ctxT(t), "chat.resume", map[string]any{"conversation_id": conv})
	if err != nil {
		t.Fatal(err)
	}
	var resumed struct {
		Events []struct {
			Seq  int    `json:"seq"`
			Kind string `json:"kind"`
			Text string `json:"text"`
		} `json:"events"`
	}
	decode(t, raw, &resumed)
	var texts []string
	for _, e := range resumed.Events {
		if e.Kind == "message" {
			texts = append(texts, e.Text)
		}
	}
	if !slices.Equal(texts, []string{"first", "text of m2"}) {
		t.Fatalf("messages stored %q, want each once, in order", texts)
	}
}

// Requests naming one conversation are answered, and stored, in the order
// they were sent, even when sent without waiting.
func TestSendsToOneConversationAreAnsweredInOrder(t *testing.T) {
	f := newFullEnv(t, signaling.DefaultConfig())
	c := f.customer(t)
	conv := startChat(t, c)
	const n = 12
	for i := range n {
		if err := c.WriteRaw(sendFrame(fmt.Sprint("s", i), conv, fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	last := 0
	for i := range n {
		ev := answer(t, c, 15*time.Second)
		var env struct {
			Data struct {
				Seq int `json:"seq"`
			} `json:"data"`
		}
		decode(t, ev.Data, &env)
		if ev.Error != nil || ev.Re != fmt.Sprint("s", i) || env.Data.Seq <= last {
			t.Fatalf("answer %d: re %q error %+v seq %d after %d", i, ev.Re, ev.Error, env.Data.Seq, last)
		}
		last = env.Data.Seq
	}
}

// A request's deadline runs from when it was read: requests queued behind
// one stalled on the database, in its conversation's line, are all
// answered unavailable within the deadline, not one deadline after the
// other.
func TestRequestsQueuedBehindAStalledOneAnswerWithinTheirDeadline(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.RequestTimeout = 2 * time.Second
	f := newFullEnv(t, cfg)
	c := f.customer(t)
	conv := startChat(t, c)
	f.proxy.Hang()
	sent := time.Now()
	for i := range 3 {
		if err := c.WriteRaw(sendFrame(fmt.Sprint("s", i), conv, fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		ev := answer(t, c, 15*time.Second)
		if ev.Re != fmt.Sprint("s", i) || ev.Error == nil || ev.Error.Code != signaling.CodeUnavailable {
			t.Fatalf("answer %d: re %q error %+v, want s%d unavailable", i, ev.Re, ev.Error, i)
		}
		if took := time.Since(sent); took > cfg.RequestTimeout+time.Second {
			t.Fatalf("%s answered after %v, past its deadline of %v", ev.Re, took, cfg.RequestTimeout)
		}
	}
}

// Past InFlight requests unanswered the reader stops reading: on a
// connection allowed one, a ping sent behind two requests stalled on the
// database is read, and answered, only once the first of them is done.
func TestPastTheInFlightLimitTheReaderWaits(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.RequestTimeout = 2 * time.Second
	cfg.InFlight = 1
	f := newFullEnv(t, cfg)
	c := f.customer(t)
	conv := startChat(t, c)
	f.proxy.Hang()
	for _, frame := range [][]byte{sendFrame("stalled", conv, "m1"), sendFrame("waiting", conv, "m2"), []byte(`{"type":"session.ping","id":"ping"}`)} {
		if err := c.WriteRaw(frame); err != nil {
			t.Fatal(err)
		}
	}
	sent := time.Now()
	got := map[string]time.Duration{}
	for range 3 {
		ev := answer(t, c, 10*time.Second)
		got[ev.Re] = time.Since(sent)
	}
	if len(got) != 3 || got["ping"] < cfg.RequestTimeout-100*time.Millisecond {
		t.Fatalf("answered after %v; want the ping after the stalled send's deadline of %v", got, cfg.RequestTimeout)
	}
	if n := f.counter(t, "parley_ws_backpressure_total"); n < 1 {
		t.Fatal("the wait was not counted")
	}
}

// Every request type the server registers answers within the request
// deadline when the database hangs: unavailable when it needs the
// database, its own code when it can answer without. A type added to the
// router without a row here fails the test.
func TestEveryRequestTypeAnswersInTimeWhenTheDatabaseHangs(t *testing.T) {
	cfg := signaling.DefaultConfig()
	cfg.RequestTimeout = 2 * time.Second
	cfg.InFlight = 64
	cfg.RateBurst = 100
	f := newFullEnv(t, cfg)
	const (
		unavailable = signaling.CodeUnavailable
		notFound    = signaling.CodeNotFound
	)
	type row struct {
		customer bool   // sent by the customer (else by the agent)
		data     string // the conversation or room is filled in
		code     string // "" for an ack
	}
	// Each row names a conversation or room of its own.
	rows := map[string]row{
		"session.hello":         {false, `{"version": 1}`, signaling.CodeConflict},
		"session.ping":          {false, `{}`, ""},
		"chat.start":            {true, `{"name": "Vera"}`, unavailable},
		"chat.mine":             {true, `{}`, unavailable},
		"chat.resume":           {true, `{"conversation_id": %d}`, unavailable},
		"chat.position":         {true, `{"conversation_ids": [%d]}`, unavailable},
		"chat.send":             {true, `{"conversation_id": %d, "client_id": "x", "text": "hi"}`, unavailable},
		"chat.typing":           {true, `{"conversation_id": %d, "typing": true}`, unavailable},
		"chat.close":            {true, `{"conversation_id": %d}`, unavailable},
		"chat.accept":           {false, `{"conversation_id": %d}`, unavailable},
		"chat.reject":           {false, `{"conversation_id": %d}`, unavailable},
		"chat.history":          {false, `{"conversation_id": %d}`, unavailable},
		"chat.invite":           {false, `{"conversation_id": %d, "user_id": 1}`, unavailable},
		"chat.leave":            {false, `{"conversation_id": %d}`, unavailable},
		"chat.transfer":         {false, `{"conversation_id": %d, "queue_id": 1}`, unavailable},
		"chat.invite_cancel":    {false, `{"conversation_id": %d}`, unavailable},
		"chat.transfer_cancel":  {false, `{"conversation_id": %d}`, unavailable},
		"chat.transfer_targets": {false, `{"conversation_id": %d}`, unavailable},
		"chat.comment":          {false, `{"conversation_id": %d, "client_id": "k", "text": "hi"}`, unavailable},
		"chat.feedback":         {true, `{"conversation_id": %d, "rating": 4}`, unavailable},
		"chat.transcript_email": {true, `{"conversation_id": %d, "email": "v@example.com"}`, unavailable},
		"chat.queue_position":   {true, `{"conversation_id": %d}`, unavailable},
		"chat.mentions":         {false, `{}`, unavailable},
		"chat.mention_read":     {false, `{"conversation_id": %d}`, unavailable},
		"chat.assign":           {false, `{"conversation_id": %d, "user_id": 1}`, signaling.CodeForbidden}, // an agent: no database
		"chat.assign_targets":   {false, `{"conversation_id": %d}`, signaling.CodeForbidden},
		"agent.pause":           {false, `{"user_id": 1, "reason": "x"}`, signaling.CodeForbidden},
		"agent.logout":          {false, `{"user_id": 1}`, signaling.CodeForbidden},
		"agent.info":            {false, `{"user_id": 1}`, signaling.CodeForbidden},
		"queue.waiting":         {false, `{}`, unavailable},
		"history.search":        {false, `{"text": "parcel"}`, unavailable},
		"history.get":           {false, `{"conversation_id": %d}`, unavailable},
		"history.filters":       {false, `{}`, unavailable},
		"canned.list":           {false, `{}`, unavailable},
		"chat.mark":             {false, `{"conversation_id": %d, "important": true}`, unavailable},
		"ticket.search":         {false, `{"text": "parcel"}`, unavailable},
		"ticket.counts":         {false, `{}`, unavailable},
		"ticket.get":            {false, `{"ticket_id": 1}`, unavailable},
		"ticket.create":         {false, `{"queue_id": 1, "title": "Parcel"}`, unavailable},
		"ticket.update":         {false, `{"ticket_id": 1, "priority": "high"}`, unavailable},
		"ticket.assign":         {false, `{"ticket_id": 1, "assignee_id": 1}`, unavailable},
		"ticket.close":          {false, `{"ticket_id": 1}`, unavailable},
		"ticket.reopen":         {false, `{"ticket_id": 1}`, unavailable},
		"ticket.reply":          {false, `{"ticket_id": 1, "text": "hi"}`, unavailable},
		"ticket.note":           {false, `{"ticket_id": 1, "text": "hi"}`, unavailable},
		"ticket.favourite":      {false, `{"ticket_id": 1, "favourite": true}`, unavailable},
		"ticket.link":           {false, `{"conversation_id": %d, "ticket_id": 1}`, unavailable},
		"contact.search":        {false, `{"query": "vera"}`, unavailable},
		"contact.get":           {false, `{"contact_id": %d}`, unavailable},
		"contact.create":        {false, `{"name": "Vera"}`, unavailable},
		"contact.update":        {false, `{"contact_id": %d, "phone": "1"}`, unavailable},
		"chat.pair":             {false, `{"conversation_id": %d, "contact_id": 1}`, unavailable},
		"chat.unpair":           {false, `{"conversation_id": %d}`, unavailable},
		"agent.state":           {false, `{}`, unavailable},
		"agent.status":          {false, `{"status": "available"}`, unavailable},
		"room.create":           {false, `{"conversation_id": %d}`, unavailable},
		"room.join":             {false, `{"room_id": "r%016x"}`, unavailable},
		"room.leave":            {false, `{"room_id": "r%016x"}`, notFound},
		"room.end":              {false, `{"room_id": "r%016x"}`, unavailable},
		"room.get":              {false, `{"room_id": "r%016x"}`, unavailable},
		"room.decline":          {false, `{"room_id": "r%016x"}`, unavailable},
		"rtc.offer":             {false, `{"room_id": "r%016x", "sdp": "v=0"}`, notFound},
		"rtc.answer":            {false, `{"room_id": "r%016x", "sdp": "v=0"}`, notFound},
		"rtc.candidate":         {false, `{"room_id": "r%016x", "target": "up", "candidate": {"candidate": ""}}`, notFound},
		"rtc.track":             {false, `{"room_id": "r%016x", "track_id": "t"}`, notFound},
		"rtc.layer":             {false, `{"room_id": "r%016x", "track_id": "t", "max_layer": 1}`, notFound},
		"rtc.restart":           {false, `{"room_id": "r%016x"}`, notFound},
		"monitor.request":       {false, `{"user_id": %d}`, signaling.CodeForbidden}, // an agent asks: refused before the database
		"monitor.answer":        {false, `{"request_id": %d, "accept": true}`, unavailable},
		"monitor.stop":          {false, `{"request_id": %d}`, unavailable},
	}
	types := f.router.Types()
	for _, typ := range types {
		if _, ok := rows[typ]; !ok {
			t.Errorf("%s is registered but not in this test's table", typ)
		}
	}
	for typ := range rows {
		if !slices.Contains(types, typ) {
			t.Errorf("%s is in the table but not registered", typ)
		}
	}
	// One connection per type, so that none waits behind another on the
	// connection's common line.
	conns := make([]*client.Client, len(types))
	for i, typ := range types {
		if rows[typ].customer {
			conns[i] = f.customer(t)
		} else {
			conns[i] = f.connect(t, f.agent)
		}
	}
	f.proxy.Hang()
	type result struct {
		typ  string
		code string
		err  error
		took time.Duration
	}
	results := make(chan result, len(types))
	for i, typ := range types {
		data := rows[typ].data
		if slices.Contains([]byte(data), '%') {
			data = fmt.Sprintf(data, 900000+i)
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout+5*time.Second)
			defer cancel()
			start := time.Now()
			_, err := conns[i].Request(ctx, typ, json.RawMessage(data))
			r := result{typ: typ, err: err, took: time.Since(start)}
			if ce, ok := err.(*client.Error); ok {
				r.code, r.err = ce.Code, nil
			}
			results <- r
		}()
	}
	for range types {
		r := <-results
		switch {
		case r.err != nil:
			t.Errorf("%s: %v", r.typ, r.err)
		case r.took > cfg.RequestTimeout+2*time.Second:
			t.Errorf("%s answered after %v, past the deadline of %v", r.typ, r.took, cfg.RequestTimeout)
		case r.code != rows[r.typ].code:
			t.Errorf("%s answered %q, want %q", r.typ, r.code, rows[r.typ].code)
		}
	}
}
