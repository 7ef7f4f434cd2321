package rtcpeer

import (
	"time"

	"github.com/pion/webrtc/v4"
)

// CheckTick is how often a peer's ICE agent runs while connecting, not
// Pion's 200 ms. Chromium against the lite server went from its first
// check to connected in 25 ms at the median (docs/benchmarks.md); at
// 50 ms the Pion peers took twice that, and the synthetic publisher's
// keyframe pacing on top brought W1's first picture to 151 ms in one run.
const CheckTick = 20 * time.Millisecond

// Settings is the SettingEngine a peer's connections start from. The
// server is an ICE-lite agent, so the client is the controlling side of
// both connections and must nominate: Pion's controlling agent nominates
// a pair whose check has succeeded on its next tick, never on the
// success itself, and the lite server sends no checks that would prompt
// it sooner. Its tick runs at the shortest of its check interval (200 ms,
// not settable through webrtc) and its timeouts, so the disconnected
// timeout is what brings it to CheckTick: connections nominate in one
// tick plus a round trip instead of 200 ms. The prices: a connection on
// which nothing arrives for CheckTick reports "disconnected" until the
// next packet does (media and RTCP keep a working one connected; nothing
// here acts on "disconnected"); the agent keeps ticking at that rate
// once connected; and, as Pion sends a consent check on every tick once
// connected (50 a second per connection to the server, which would count
// in the server's CPU), keep-alives are off: the client's RTCP and media
// are what the server hears from it (a browser's consent checks, one
// every few seconds, cost the server nothing measurable). Failure is
// still Pion's 25 s.
func Settings() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetICETimeouts(CheckTick, 25*time.Second, 0)
	return se
}

// DefaultAPI is the API of a peer whose Options.API is nil: Pion's
// codecs and interceptors with Settings.
func DefaultAPI() *webrtc.API {
	return webrtc.NewAPI(webrtc.WithSettingEngine(Settings()))
}
