package signaling_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"parley/bus"
	"parley/signaling"
	"parley/signaling/client"
)

// The end of access travels over the bus, so a node acts on its own
// connections whichever node the domain published it from: here two hubs
// share one bus, as two nodes share NATS.
func TestAnEndOfAccessPublishedAnywhereActsOnEveryNode(t *testing.T) {
	e := newEnv(t, signaling.DefaultConfig())
	router := signaling.NewRouter()
	router.Handle("test.follow", func(_ context.Context, req *signaling.Request) (any, error) {
		return nil, req.Conn.Subscribe("test.subject")
	})
	other := signaling.NewHub(signaling.DefaultConfig(), e.bus, router, quiet, nil)
	srv := httptest.NewServer(signaling.NewEndpoint(other, e.auth, nil, nil))
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	connect := func() *client.Client {
		c, _, err := client.Connect(ctxT(t), url, client.Options{Token: e.agent.Token})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := connect(), connect()
	for _, c := range []*client.Client{a, b} {
		if _, err := c.Request(ctxT(t), "test.follow", nil); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := bus.Frame("test.before", nil)
	e.bus.Publish("test.subject", before) //nolint:errcheck
	nextEvent(t, a, "test.before")

	told, _ := bus.Frame("test.access_ended", map[string]any{"why": "gone"})
	ended, _ := bus.Frame(bus.AccessEndedType, bus.AccessEnded{Principal: e.agent.User.Principal().Key(),
		Subjects: []string{"test.subject"}, Event: told})
	e.bus.Publish(bus.AccessSubject, ended) //nolint:errcheck
	nextEvent(t, a, "test.access_ended")
	after, _ := bus.Frame("test.after", nil)
	e.bus.Publish("test.subject", after) //nolint:errcheck
	if _, err := a.Request(ctxT(t), "session.ping", nil); err != nil {
		t.Fatal(err)
	}
	for len(a.Events()) > 0 {
		if ev := <-a.Events(); ev.Type == "test.after" {
			t.Fatal("a dropped subject still delivers")
		}
	}

	// Signing out, told by the first hub, closes the user's connections on the other.
	e.hub.CloseSignedOut(e.agent.User.Principal())
	for _, c := range []*client.Client{a, b} {
		if code, reason := waitClosed(t, c); code != signaling.CloseCodeSignedOut || reason != "signed out" {
			t.Fatalf("closed with %d %q, want %d signed out", code, reason, signaling.CloseCodeSignedOut)
		}
	}
}
