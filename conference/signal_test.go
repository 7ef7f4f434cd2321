package conference

import (
	"encoding/json"
	"testing"

	"github.com/pion/webrtc/v4"
)

// The join's ICE servers read on the wire as Pion writes them, so the
// pages and tests that hand them to RTCPeerConnection see no change.
func TestICEServersAreWrittenAsPionWritesThem(t *testing.T) {
	in := []webrtc.ICEServer{
		{URLs: []string{"stun:127.0.0.1:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478?transport=udp"}, Username: "1700000000:p0a1b2c3d4e5f", Credential: "c2VjcmV0"},
	}
	want, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(iceServers(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, _ := json.Marshal(iceServers(nil)); string(got) != "[]" {
		t.Errorf("no servers: got %s, want []", got)
	}
}
