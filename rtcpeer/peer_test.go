package rtcpeer_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/sfu"
)

func direct(t *testing.T, r *sfu.Room, id string, opt sfu.JoinOptions) *rtcpeer.Peer {
	t.Helper()
	srv := rtcpeer.NewDirect()
	p, err := rtcpeer.New(srv, rtcpeer.Options{OnError: func(err error) { t.Errorf("%s answers: %v", id, err) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if _, err := srv.Join(r, id, p, opt); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAPublishedTrackArrivesAtAPeerWaitingForIt(t *testing.T) {
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	room := s.Room("r")
	pub := direct(t, room, "pub", sfu.JoinOptions{})
	sub := direct(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := sub.WaitTrack(ctx, nil); err == nil {
		t.Fatal("a track before anyone published")
	}

	cam, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "cam", "pub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.AddTrack(cam); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := pub.OfferUp(ctx, nil, rtcpeer.Track{ID: "cam", Source: "camera"}); err != nil {
		t.Fatal(err)
	}
	stop, sent := make(chan struct{}), make(chan struct{})
	go func() { defer close(sent); rtcpeer.SendVP8(stop, 50, cam) }()
	defer func() { close(stop); <-sent }()
	tr, err := sub.WaitTrack(ctx, func(tr *webrtc.TrackRemote) bool { return tr.ID() == "cam" })
	if err != nil {
		t.Fatal(err)
	}
	if tr.StreamID() != "pub" {
		t.Fatalf("the track names its publisher %q, want pub", tr.StreamID())
	}
}
