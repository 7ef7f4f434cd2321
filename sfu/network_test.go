package sfu_test

import (
	"context"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/sfu"
)

// netPeer is a client whose connections are built from a configuration
// of the test's choosing (ICE servers, relay only) and, optionally, a
// network of its own (settings makes the setting engine of each). It
// records every packet it receives and every down offer it is sent.
//
// It is rtcpeer's client, which orders signalling as the browser client
// (room.js) does: a candidate is sent to the server only once the server
// has the description it belongs to, and a server candidate is added only
// once the description with its ufrag is set. (The server may signal a
// candidate before the offer or answer it belongs to; one lost on a
// relay-only client is the only way in.)
type netPeer struct {
	*client
	offers chan webrtc.SessionDescription

	rxMu sync.Mutex
	rx   map[string][]rxPacket // by track id
}

type rxPacket struct {
	seq uint16
	key bool
}

func newNetPeer(t *testing.T, cfg webrtc.Configuration, settings func() webrtc.SettingEngine) *netPeer {
	t.Helper()
	c := &netPeer{offers: make(chan webrtc.SessionDescription, 16), rx: map[string][]rxPacket{}}
	opt := rtcpeer.Options{
		Config: cfg,
		OnOffer: func(sdp webrtc.SessionDescription) {
			select {
			case c.offers <- sdp:
			default: // the tests read only the first few
			}
		},
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { c.record(tr) },
	}
	if settings != nil {
		opt.API = func() *webrtc.API { return webrtc.NewAPI(webrtc.WithSettingEngine(settings())) }
	}
	c.client = newClient(t, opt)
	return c
}

// record reads a received track until it ends.
func (c *netPeer) record(tr *webrtc.TrackRemote) {
	video := tr.Kind() == webrtc.RTPCodecTypeVideo
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		key := video && len(pkt.Payload) > 1 && pkt.Payload[0]&0x10 != 0 && pkt.Payload[1]&0x01 == 0
		c.rxMu.Lock()
		c.rx[tr.ID()] = append(c.rx[tr.ID()], rxPacket{seq: pkt.SequenceNumber, key: key})
		c.rxMu.Unlock()
	}
}

// got copies the packets received on track id so far.
func (c *netPeer) got(id string) []rxPacket {
	c.rxMu.Lock()
	defer c.rxMu.Unlock()
	return slices.Clone(c.rx[id])
}

func (c *netPeer) count(id string) int {
	c.rxMu.Lock()
	defer c.rxMu.Unlock()
	return len(c.rx[id])
}

func (c *netPeer) close() {
	c.closing.Store(true)
	c.Close()
}

// source is one published track and what was sent on it.
type source struct {
	track *webrtc.TrackLocalStaticRTP
	sent  atomic.Int64
	pli   atomic.Bool // the SFU asked for a keyframe
}

// sending is a publisher's media, sent at 100 packets/s per track until
// halted. Video starts with a keyframe and sends one again only when the
// SFU asks (PLI or FIR), as a browser does.
type sending struct {
	src  []*source
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func (c *netPeer) publishMedia(t *testing.T, tracks ...*webrtc.TrackLocalStaticRTP) *sending {
	t.Helper()
	m := &sending{stop: make(chan struct{}), done: make(chan struct{})}
	for _, tr := range tracks {
		sender, err := c.up.AddTrack(tr)
		if err != nil {
			t.Fatal(err)
		}
		src := &source{track: tr}
		src.pli.Store(true)
		m.src = append(m.src, src)
		go watchPictureLoss(sender, &src.pli)
	}
	c.offerUp(t)
	go m.run()
	t.Cleanup(m.halt)
	return m
}

func (m *sending) run() {
	defer close(m.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		for _, s := range m.src {
			var pkt *rtp.Packet
			if s.track.Kind() == webrtc.RTPCodecTypeVideo {
				pkt = vp8(uint16(i), uint32(i*3000), s.pli.Swap(false))
			} else {
				pkt = &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 480)},
					Payload: []byte{0xfc, 0xff, 0xfe}} // an Opus frame of silence
			}
			s.track.WriteRTP(pkt) //nolint:errcheck
			s.sent.Add(1)
		}
	}
}

func (m *sending) halt() {
	m.once.Do(func() { close(m.stop) })
	<-m.done
}

// waitSent waits until src has sent n packets: tests measure windows in
// packets, not in wall-clock time.
// watchPictureLoss reads a publisher's RTCP, as a browser must, and sets
// asked on every PLI or FIR, until the sender stops.
func watchPictureLoss(sender *webrtc.RTPSender, asked *atomic.Bool) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				asked.Store(true)
			}
		}
	}
}

func waitSent(t *testing.T, src *source, n int64) {
	t.Helper()
	eventually(t, "the publisher sends", func() bool { return src.sent.Load() >= n })
}

func opusTrack(t *testing.T, id string) *webrtc.TrackLocalStaticRTP {
	t.Helper()
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		id, "stream-"+id)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// eventLog records a room's events.
type eventLog struct {
	mu     sync.Mutex
	events []seenEvent
}

type seenEvent struct {
	kind   sfu.EventKind
	who    string
	track  string // "" for MediaTimeout
	source string
	at     time.Time
}

func recordEvents(r *sfu.Room) *eventLog {
	l := &eventLog{}
	r.OnEvent(func(e sfu.Event) {
		se := seenEvent{kind: e.Kind, who: e.Participant.ID(), at: time.Now()}
		if e.Track != nil {
			se.track, se.source = e.Track.ID(), e.Track.Source()
		}
		l.mu.Lock()
		l.events = append(l.events, se)
		l.mu.Unlock()
	})
	return l
}

// find returns the events of kind about who (and track, unless "").
func (l *eventLog) find(kind sfu.EventKind, who, track string) []seenEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []seenEvent
	for _, e := range l.events {
		if e.kind == kind && e.who == who && (track == "" || e.track == track) {
			out = append(out, e)
		}
	}
	return out
}

func participantIDs(r *sfu.Room) []string {
	var ids []string
	for _, p := range r.Participants() {
		ids = append(ids, p.ID())
	}
	slices.Sort(ids)
	return ids
}

func goroutinesBackTo(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			dumpGoroutines(t)
			t.Fatalf("%d goroutines left, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

func newTURNSFU(t *testing.T, cfg sfu.Config) *sfu.SFU {
	t.Helper()
	cfg.ListenIP, cfg.TCPPort, cfg.Logger = "127.0.0.1", -1, quiet
	s, err := sfu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.TURNAddr() == nil {
		t.Fatal("the TURN server is off")
	}
	return s
}

// relayOnly is a browser's configuration behind a network that lets
// nothing through but the TURN server.
func relayOnly(t *testing.T, s *sfu.SFU, user string) webrtc.Configuration {
	t.Helper()
	servers, err := s.ICEServers(user)
	if err != nil {
		t.Fatal(err)
	}
	return webrtc.Configuration{ICEServers: servers, ICETransportPolicy: webrtc.ICETransportPolicyRelay}
}

// nominateAtOnce makes a client nominate a relayed pair as soon as it
// works, as browsers do, instead of Pion's two seconds' wait for a better
// one.
func nominateAtOnce() webrtc.SettingEngine {
	se := rtcpeer.Settings()
	se.SetRelayAcceptanceMinWait(0)
	return se
}

// A client that can reach the SFU only through its TURN server publishes
// and receives media, and every packet goes through the relay.
func TestRelayOnlyClientsExchangeMediaThroughTheTURNServer(t *testing.T) {
	s := newTURNSFU(t, sfu.Config{TURNPort: 0})
	room := s.Room("relay")
	pub, sub := newNetPeer(t, relayOnly(t, s, "pub"), nominateAtOnce), newNetPeer(t, relayOnly(t, s, "sub"), nominateAtOnce)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{})
	pub.publishMedia(t, vp8Track(t, "cam"))
	eventually(t, "video reaches the subscriber", func() bool { return sub.count("cam") > 30 })

	mediaPort := s.UDPAddr().(*net.UDPAddr).Port
	for name, pc := range map[string]*webrtc.PeerConnection{"publisher's up": pub.up, "subscriber's down": sub.down} {
		pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("%s connection: no selected candidate pair (%v)", name, err)
		}
		if pair.Local.Typ != webrtc.ICECandidateTypeRelay {
			t.Errorf("%s connection: local candidate is %s, not relay", name, pair.Local.Typ)
		}
		if pair.Remote.Port != uint16(mediaPort) {
			t.Errorf("%s connection: remote candidate %s:%d is not the media port %d", name, pair.Remote.Address, pair.Remote.Port, mediaPort)
		}
	}
	for _, c := range []*netPeer{pub, sub} {
		c.closing.Store(true)
	}
}

// A publisher says what a track shows and mutes it: subscribers stop
// getting its packets, and on unmute get them again from a keyframe, with
// sequence numbers that go on without a gap.
func TestMutingStopsForwardingAndUnmutingResumesAtAKeyframe(t *testing.T) {
	s := newSFU(t)
	room := s.Room("mute")
	events := recordEvents(room)
	pub, sub := newNetPeer(t, webrtc.Configuration{}, nil), newNetPeer(t, webrtc.Configuration{}, nil)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{})
	if tr := pub.participant().SetTrackInfo("cam", sfu.TrackInfo{Source: sfu.SourceScreen}); tr != nil {
		t.Fatal("SetTrackInfo returned a track before it was published")
	}
	src := pub.publishMedia(t, vp8Track(t, "cam")).src[0]
	eventually(t, "the track is published", func() bool { return len(events.find(sfu.TrackPublished, "pub", "cam")) == 1 })
	if got := events.find(sfu.TrackPublished, "pub", "cam")[0].source; got != sfu.SourceScreen {
		t.Fatalf("TrackPublished says the source is %q, want %q", got, sfu.SourceScreen)
	}
	eventually(t, "video reaches the subscriber", func() bool { return sub.count("cam") > 20 })

	tr := pub.participant().SetTrackInfo("cam", sfu.TrackInfo{Source: sfu.SourceScreen, Muted: true})
	if tr == nil || !tr.Muted() || tr.Source() != sfu.SourceScreen {
		t.Fatalf("after muting: track %v", tr)
	}
	at := src.sent.Load()
	waitSent(t, src, at+10) // what was on its way has arrived
	before := sub.got("cam")
	waitSent(t, src, at+60)
	if n := sub.count("cam"); n != len(before) {
		t.Fatalf("%d packets arrived while muted", n-len(before))
	}

	pub.participant().SetTrackInfo("cam", sfu.TrackInfo{Source: sfu.SourceScreen})
	if tr.Muted() {
		t.Fatal("still muted")
	}
	eventually(t, "video resumes", func() bool { return sub.count("cam") > len(before)+30 })
	all := sub.got("cam")
	resumed := all[len(before):]
	if !resumed[0].key {
		t.Errorf("video resumed with a delta frame")
	}
	prev := before[len(before)-1].seq
	for i, p := range resumed {
		if p.seq != prev+1 {
			t.Fatalf("packet %d after unmuting: sequence number %d follows %d", i, p.seq, prev)
		}
		prev = p.seq
	}
	for _, c := range []*netPeer{pub, sub} {
		c.closing.Store(true)
	}
}

// The server restarts ICE on a subscriber's down connection: the offer
// carries new ICE credentials, and media goes on once it is answered.
func TestAnICERestartKeepsMediaFlowing(t *testing.T) {
	s := newSFU(t)
	room := s.Room("restart")
	pub, sub := newNetPeer(t, webrtc.Configuration{}, nil), newNetPeer(t, webrtc.Configuration{}, nil)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{})
	pub.publishMedia(t, vp8Track(t, "cam"))
	eventually(t, "video reaches the subscriber", func() bool { return sub.count("cam") > 20 })
	old := rtcpeer.ICEUfrag(sub.down.RemoteDescription().SDP)
	for len(sub.offers) > 0 {
		<-sub.offers
	}

	sub.participant().Restart()
	var ufrag string
	deadline := time.After(10 * time.Second)
	for ufrag == "" {
		select {
		case o := <-sub.offers:
			if u := rtcpeer.ICEUfrag(o.SDP); u != old {
				ufrag = u
			}
		case <-deadline:
			t.Fatalf("no offer with a new ice-ufrag (was %q)", old)
		}
	}
	eventually(t, "the restart is answered", func() bool {
		return rtcpeer.ICEUfrag(sub.down.RemoteDescription().SDP) == ufrag
	})
	n := sub.count("cam")
	eventually(t, "media keeps flowing on a connected connection", func() bool {
		return sub.count("cam") > n+50 && sub.down.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	for _, c := range []*netPeer{pub, sub} {
		c.closing.Store(true)
	}
}

// ownSockets gives each connection of a test client a UDP socket of its
// own (two connections on one socket to one server could not be told
// apart), wrapped by the test's filter, and closes them all.
type ownSockets struct {
	mu    sync.Mutex
	muxes []ice.UDPMux
}

func (o *ownSockets) settings(t *testing.T, wrap func(net.PacketConn) net.PacketConn) func() webrtc.SettingEngine {
	return func() webrtc.SettingEngine {
		udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		mux := webrtc.NewICEUDPMux(nil, wrap(udp))
		o.mu.Lock()
		o.muxes = append(o.muxes, mux)
		o.mu.Unlock()
		se := rtcpeer.Settings()
		se.SetICEUDPMux(mux)
		se.SetIncludeLoopbackCandidate(true)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		return se
	}
}

func (o *ownSockets) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range o.muxes {
		m.Close()
	}
}

// cutNet is a client's network that can vanish: once cut, nothing its
// sockets send leaves and nothing arrives, and no one is told.
type cutNet struct {
	ownSockets
	cut atomic.Bool
}

func (n *cutNet) settings(t *testing.T) func() webrtc.SettingEngine {
	return n.ownSockets.settings(t, func(c net.PacketConn) net.PacketConn { return &cutConn{PacketConn: c, net: n} })
}

type cutConn struct {
	net.PacketConn
	net *cutNet
}

func (c *cutConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.net.cut.Load() {
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (c *cutConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || !c.net.cut.Load() {
			return n, addr, err
		}
	}
}

// A participant whose network vanishes without a word to the server is
// removed after the media timeout: the room says so, its track ends for
// the one who stays, and nothing is left running once everyone is gone.
func TestAParticipantWhoseNetworkVanishesIsRemovedAfterTheMediaTimeout(t *testing.T) {
	network := &cutNet{}
	defer network.close()
	mediaGone(t, network.settings(t), func(gone *netPeer) { network.cut.Store(true) }, network.close)
}

// A client that closes its connections (a DTLS close, no word on the
// signalling channel) is removed after the media timeout too.
func TestAParticipantWhoseClientHangsUpIsRemovedAfterTheMediaTimeout(t *testing.T) {
	mediaGone(t, nil, (*netPeer).close, func() {})
}

// mediaGone joins "stay" and "gone", each publishing and receiving the
// other, then lets vanish end gone's media and checks that the room
// removes gone, and only gone, after the media timeout.
func mediaGone(t *testing.T, settings func() webrtc.SettingEngine, vanish func(*netPeer), closeNet func()) {
	before := runtime.NumGoroutine()
	const timeout = 2 * time.Second
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, TURNPort: -1, MediaTimeout: timeout, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	room := s.Room("timeout")
	events := recordEvents(room)
	stay := newNetPeer(t, webrtc.Configuration{}, nil)
	gone := newNetPeer(t, webrtc.Configuration{}, settings)
	stay.join(t, room, "stay", sfu.JoinOptions{})
	gone.join(t, room, "gone", sfu.JoinOptions{})
	media := []*sending{stay.publishMedia(t, vp8Track(t, "stay-cam")), gone.publishMedia(t, vp8Track(t, "gone-cam"))}
	eventually(t, "stay receives gone", func() bool { return stay.count("gone-cam") > 20 })
	eventually(t, "gone receives stay", func() bool { return gone.count("stay-cam") > 20 })

	gone.closing.Store(true)
	// Before vanish: the server may see the hang-up while vanish runs.
	vanished := time.Now()
	vanish(gone)
	eventually(t, "gone is removed with a MediaTimeout event", func() bool {
		return len(events.find(sfu.MediaTimeout, "gone", "")) > 0
	})
	e := events.find(sfu.MediaTimeout, "gone", "")
	if after := e[0].at.Sub(vanished); after < timeout {
		t.Errorf("removed %v after its media went, before the %v timeout", after, timeout)
	}
	if ids := participantIDs(room); !slices.Equal(ids, []string{"stay"}) {
		t.Fatalf("participants left: %v", ids)
	}
	if n := len(events.find(sfu.TrackEnded, "gone", "gone-cam")); n != 1 {
		t.Errorf("%d TrackEnded events for gone's track, want 1", n)
	}
	eventually(t, "stay's subscription to gone's track ends", func() bool { return stay.participant().Subscriptions() == 0 })
	if n := len(events.find(sfu.MediaTimeout, "stay", "")); n != 0 {
		t.Fatal("the participant whose media is fine timed out")
	}
	if n := len(events.find(sfu.MediaTimeout, "gone", "")); n != 1 {
		t.Errorf("%d MediaTimeout events for gone, want 1", n)
	}

	for _, m := range media {
		m.halt()
	}
	stay.closing.Store(true)
	stay.participant().Leave()
	stay.close()
	gone.close()
	closeNet()
	s.Close()
	goroutinesBackTo(t, before)
}

// With the TURN server on and a publisher of audio and video relayed
// through it, leaving and closing the server end every goroutine.
func TestLeavingAndClosingWithTURNEndsEveryGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, TURNPort: 0, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	room := s.Room("cleanup")
	pub, sub := newNetPeer(t, relayOnly(t, s, "pub"), nominateAtOnce), newNetPeer(t, relayOnly(t, s, "sub"), nominateAtOnce)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{})
	media := pub.publishMedia(t, opusTrack(t, "mic"), vp8Track(t, "cam"))
	eventually(t, "audio and video reach the subscriber", func() bool { return sub.count("mic") > 20 && sub.count("cam") > 20 })
	media.halt()
	pub.closing.Store(true)
	sub.closing.Store(true)

	pub.participant().Leave()
	eventually(t, "the subscriber's tracks end", func() bool { return sub.participant().Subscriptions() == 0 })
	s.Close() // the subscriber is still in the room, its relay allocated
	if ids := participantIDs(room); len(ids) != 0 {
		t.Fatalf("participants left after Close: %v", ids)
	}
	pub.close()
	sub.close()
	goroutinesBackTo(t, before)
}

// tcpOnly is a client whose UDP is blocked: it has only ICE over TCP.
func tcpOnly() webrtc.SettingEngine {
	se := rtcpeer.Settings()
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	se.SetIncludeLoopbackCandidate(true)
	return se
}

// A client that can reach the SFU only over TCP, the fallback, publishes
// and receives through the TCP mux: the (ICE-lite) server's passive TCP
// host candidates are what its active ones reach.
func TestATCPOnlyClientExchangesMediaThroughTheTCPMux(t *testing.T) {
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: 0, TURNPort: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	room := s.Room("tcp")
	pub, sub := newNetPeer(t, webrtc.Configuration{}, tcpOnly), newNetPeer(t, webrtc.Configuration{}, tcpOnly)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{})
	media := pub.publishMedia(t, vp8Track(t, "cam"))
	eventually(t, "video reaches the subscriber", func() bool { return sub.count("cam") > 30 })
	for name, pc := range map[string]*webrtc.PeerConnection{"publisher's up": pub.up, "subscriber's down": sub.down} {
		pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("%s connection: no selected candidate pair (%v)", name, err)
		}
		if pair.Remote.Protocol != webrtc.ICEProtocolTCP || pair.Remote.Port != uint16(s.TCPAddr().(*net.TCPAddr).Port) {
			t.Errorf("%s connection: selected pair's server end is %s %s:%d, want the TCP mux %s",
				name, pair.Remote.Protocol, pair.Remote.Address, pair.Remote.Port, s.TCPAddr())
		}
	}
	media.halt()
	for _, c := range []*netPeer{pub, sub} {
		c.closing.Store(true)
		c.participant().Leave()
	}
}

// A client whose network drops out comes back as room.js brings it back:
// once its connections are down it asks for an ICE restart of the down
// connection (rtc.restart) and offers up with an ICE restart itself. With
// the server ICE-lite, the client nominates on the new credentials of
// both connections, and media flows both ways again.
func TestAClientWhoseNetworkDropsOutComesBackByICERestarts(t *testing.T) {
	network := &cutNet{}
	defer network.close()
	s := newSFU(t)
	room := s.Room("comeback")
	stay, mover := newNetPeer(t, webrtc.Configuration{}, nil), newNetPeer(t, webrtc.Configuration{}, network.settings(t))
	stay.join(t, room, "stay", sfu.JoinOptions{})
	mover.join(t, room, "mover", sfu.JoinOptions{})
	media := []*sending{stay.publishMedia(t, vp8Track(t, "stay-cam")), mover.publishMedia(t, vp8Track(t, "mover-cam"))}
	eventually(t, "mover receives stay", func() bool { return mover.count("stay-cam") > 20 })
	eventually(t, "stay receives mover", func() bool { return stay.count("mover-cam") > 20 })
	oldDown, oldUp := rtcpeer.ICEUfrag(mover.down.RemoteDescription().SDP), rtcpeer.ICEUfrag(mover.up.LocalDescription().SDP)

	network.cut.Store(true)
	eventually(t, "mover's connections see the network gone", func() bool {
		return mover.down.ICEConnectionState() != webrtc.ICEConnectionStateConnected &&
			mover.up.ICEConnectionState() != webrtc.ICEConnectionStateConnected
	})
	network.cut.Store(false)
	mover.participant().Restart()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := mover.OfferUp(ctx, &webrtc.OfferOptions{ICERestart: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both connections restarted on new credentials", func() bool {
		return rtcpeer.ICEUfrag(mover.down.RemoteDescription().SDP) != oldDown &&
			rtcpeer.ICEUfrag(mover.up.LocalDescription().SDP) != oldUp
	})
	got, sent := mover.count("stay-cam"), stay.count("mover-cam")
	// One condition at a time, so that a failure says which part is missing.
	eventually(t, "mover's down connection connected again", func() bool {
		return mover.down.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	eventually(t, "mover's up connection connected again", func() bool {
		return mover.up.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	eventually(t, "mover receives stay again", func() bool { return mover.count("stay-cam") > got+50 })
	eventually(t, "stay receives mover again", func() bool { return stay.count("mover-cam") > sent+50 })
	for _, m := range media {
		m.halt()
	}
	for _, c := range []*netPeer{stay, mover} {
		c.closing.Store(true)
		c.participant().Leave()
	}
}
