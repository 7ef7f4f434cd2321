package signaling_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"parley/bus"
	"parley/signaling"
)

// A client that says hello and then stops reading, while events are
// published to it at a steady rate, is cut off within seconds whether the
// events are small or large (the kernel's buffers alone would hold it up
// for tens of seconds with small ones), with 1008 "slow consumer" when the
// close frame gets through; the server stays healthy for everyone else.
func TestAClientThatStopsReadingIsCutWithinSeconds(t *testing.T) {
	cases := []struct {
		name    string
		size    int           // bytes of pad per event
		every   time.Duration // one event per
		noQueue bool          // the queue unbounded: the write deadline alone cuts
	}{
		{"small events", 250, 2 * time.Millisecond, false},       // 125 KB/s
		{"large events", 32 << 10, 20 * time.Millisecond, false}, // 1.6 MB/s
		{"by the write deadline", 250, 2 * time.Millisecond, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := signaling.DefaultConfig()
			if tc.noQueue {
				cfg.SendQueue, cfg.SendQueueBytes = 1<<20, 0
			}
			f := newFullEnv(t, cfg)
			other := f.connect(t, f.super)
			slow := f.stopsReading(t, f.agent, 2)

			frame, _ := bus.Frame("test.bulk", map[string]string{"pad": strings.Repeat("p", tc.size)})
			subject := bus.PrincipalSubject(f.agent.User.Principal().Key())
			tick := time.NewTicker(tc.every)
			defer tick.Stop()
			start := time.Now()
			sent := 0
			for f.hub.Count() == 2 {
				if time.Since(start) > 30*time.Second {
					t.Fatalf("still connected after %v and %d events", time.Since(start), sent)
				}
				<-tick.C
				f.bus.Publish(subject, frame) //nolint:errcheck
				sent++
			}
			took := time.Since(start)
			t.Logf("cut after %v and %d events of %d bytes", took, sent, len(frame))
			limit := 8 * time.Second
			if tc.noQueue {
				limit += cfg.WriteTimeout // the buffers fill, then one write waits this long
			}
			if took > limit {
				t.Errorf("cut after %v; want within %v", took, limit)
			}
			if n := f.counter(t, "parley_ws_slow_disconnects_total"); n != 1 {
				t.Errorf("%v slow disconnects counted, want 1", n)
			}

			// What the client sees once it reads again: the events that got
			// through, then the close.
			slow.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
			for {
				_, _, err := slow.ReadMessage()
				if err == nil {
					continue
				}
				var ce *websocket.CloseError
				if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure && (ce.Code != websocket.ClosePolicyViolation || ce.Text != "slow consumer") {
					t.Fatalf("closed with %d %q", ce.Code, ce.Text)
				}
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					t.Fatal("the connection was not closed")
				}
				t.Logf("the client saw: %v", err)
				break
			}
			if _, err := other.Request(ctxT(t), "session.ping", nil); err != nil {
				t.Fatalf("another connection after the cut: %v", err)
			}
		})
	}
}
