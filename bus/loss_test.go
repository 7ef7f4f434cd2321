package bus

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// waitLoss waits for OnLoss to be called.
func waitLoss(t *testing.T, lost <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-lost:
	case <-time.After(deadline):
		t.Fatalf("OnLoss was not called when %s", what)
	}
}

func lossSignal() (chan struct{}, func()) {
	lost := make(chan struct{}, 1)
	return lost, func() {
		select {
		case lost <- struct{}{}:
		default:
		}
	}
}

// A subscription that falls behind loses frames: OnLoss is called.
func TestNATSCallsOnLossWhenASubscriberFallsBehind(t *testing.T) {
	url := startNATS(t)
	lost, onLoss := lossSignal()
	b := dial(t, url, "slow", nil, NATSOptions{PendingMsgs: 4, PendingBytes: 1 << 20, OnLoss: onLoss})
	release := make(chan struct{})
	subscribe(t, b, "conv.1", func([]byte) { <-release })
	defer close(release)
	for range 1000 {
		publish(t, b, "conv.1", "frame")
	}
	waitLoss(t, lost, "frames were dropped")
}

// The connection to NATS drops and comes back: OnLoss is called, and by
// then the subscriptions are back, so a frame published afterwards
// arrives.
func TestNATSCallsOnLossWhenItReconnectsWithItsSubscriptionsBack(t *testing.T) {
	opts := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(deadline) {
		t.Fatal("the embedded NATS server did not start")
	}
	url, port := s.ClientURL(), s.Addr().(*net.TCPAddr).Port
	lost, onLoss := lossSignal()
	b := dial(t, url, "node", nil, NATSOptions{OnLoss: onLoss})
	got := make(chan string, 16)
	subscribe(t, b, "conv.1", func(f []byte) { got <- string(f) })

	s.Shutdown()
	s.WaitForShutdown()
	again := *opts
	again.Port = port
	s2, err := server.NewServer(&again)
	if err != nil {
		t.Fatal(err)
	}
	go s2.Start()
	t.Cleanup(s2.Shutdown)
	if !s2.ReadyForConnections(deadline) {
		t.Fatal("the embedded NATS server did not start again")
	}
	waitLoss(t, lost, "the connection came back")
	other := dial(t, url, "other", nil, NATSOptions{})
	publish(t, other, "conv.1", "after")
	select {
	case f := <-got:
		if f != "after" {
			t.Fatalf("got %q", f)
		}
	case <-time.After(deadline):
		t.Fatal("the subscription did not come back with the connection")
	}
}
