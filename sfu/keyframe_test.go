package sfu

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestKeyframeDetection(t *testing.T) {
	cases := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 keyframe, bare descriptor", webrtc.MimeTypeVP8, []byte{0x10, 0x00}, true},
		{"vp8 delta frame", webrtc.MimeTypeVP8, []byte{0x10, 0x01}, false},
		{"vp8 keyframe, not the partition start", webrtc.MimeTypeVP8, []byte{0x00, 0x00}, false},
		{"vp8 keyframe, second partition", webrtc.MimeTypeVP8, []byte{0x11, 0x00}, false},
		// X, then I with a 15-bit picture id (M set), L, T/K: four bytes before the VP8 header.
		{"vp8 keyframe behind every extension", webrtc.MimeTypeVP8, []byte{0x90, 0xf0, 0x80, 0x01, 0x02, 0x03, 0x00}, true},
		{"vp8 delta behind every extension", webrtc.MimeTypeVP8, []byte{0x90, 0xf0, 0x80, 0x01, 0x02, 0x03, 0x01}, false},
		{"vp8 truncated", webrtc.MimeTypeVP8, []byte{0x90, 0x80}, false},
		{"vp8 empty", webrtc.MimeTypeVP8, nil, false},
		{"h264 IDR slice", webrtc.MimeTypeH264, []byte{0x65, 0x88}, true},
		{"h264 SPS", webrtc.MimeTypeH264, []byte{0x67, 0x42}, true},
		{"h264 non-IDR slice", webrtc.MimeTypeH264, []byte{0x41, 0x9a}, false},
		{"h264 STAP-A with SPS", webrtc.MimeTypeH264, []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68}, true},
		{"h264 STAP-A without", webrtc.MimeTypeH264, []byte{0x78, 0x00, 0x02, 0x41, 0x9a}, false},
		{"h264 FU-A start of IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x85, 0xaa}, true},
		{"h264 FU-A middle of IDR", webrtc.MimeTypeH264, []byte{0x7c, 0x05, 0xaa}, false},
		{"vp9 starts anywhere", webrtc.MimeTypeVP9, []byte{0x00}, true},
	}
	for _, tc := range cases {
		test, waits := keyframeTest(webrtc.RTPCodecTypeVideo, tc.mime)
		if got := test(tc.payload); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if want := tc.mime != webrtc.MimeTypeVP9; waits != want {
			t.Errorf("%s: subscribers wait for a keyframe: %v, want %v", tc.name, waits, want)
		}
	}
	if test, waits := keyframeTest(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus); !test([]byte{0x01}) || waits {
		t.Error("audio must start anywhere")
	}
}
