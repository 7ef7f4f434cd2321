// Package sfu forwards media: rooms of participants, each with an "up"
// PeerConnection it publishes on (the client offers) and a "down" one it
// receives on (the server offers). Each published track is read once and
// written to every subscriber. It knows nothing of chats, accounts or
// websockets: the layer above hands it SDP and candidates and is told,
// through a Signal, what to send back.
package sfu

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// Config of the media server. Zero ports pick free ones (tests).
type Config struct {
	// UDPPort carries all ICE over UDP, muxed (one port for every peer).
	UDPPort int
	// TCPPort carries ICE over TCP, the fallback; -1 turns it off.
	TCPPort int
	// ListenIP is the address the ports bind to; empty means all.
	ListenIP string
	// PublicIPs are announced instead of the host's addresses (NAT 1:1).
	PublicIPs []string
	// TURNPort is the UDP port of the embedded TURN server; -1 turns it
	// off. TURNSecret signs its short-lived credentials (random when
	// empty; nodes sharing TURN must share it).
	TURNPort   int
	TURNSecret string
	// MediaTimeout is how long a participant's media may be gone (its
	// connections disconnected or failed) before it is removed; 20 s when
	// zero.
	MediaTimeout time.Duration
	Logger       *slog.Logger
}

// SFU is the media server of one node.
type SFU struct {
	cfg Config
	log *slog.Logger
	udp net.PacketConn
	out *batchConn // udp, as Pion's UDP mux writes to it
	tcp net.Listener
	// udpMux and tcpMux are Pion's over udp and tcp (tcpMux nil when
	// ICE over TCP is off).
	udpMux ice.UDPMux
	tcpMux ice.TCPMux
	turn   *turnServer
	se     webrtc.SettingEngine
	mu     sync.Mutex
	room   map[string]*Room
}

// New opens the media ports.
func New(cfg Config) (*SFU, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MediaTimeout <= 0 {
		cfg.MediaTimeout = 20 * time.Second
	}
	s := &SFU{cfg: cfg, log: cfg.Logger, room: map[string]*Room{}}
	udp, err := net.ListenPacket("udp", net.JoinHostPort(cfg.ListenIP, fmt.Sprint(cfg.UDPPort)))
	if err != nil {
		return nil, fmt.Errorf("sfu: media UDP port %d: %w", cfg.UDPPort, err)
	}
	// The mux reads and writes through batchConn, which sends the copies
	// of a forwarded packet with one system call (batchconn.go).
	s.out = newBatchConn(udp.(*net.UDPConn))
	s.udp = s.out
	pion := pionLog{cfg.Logger}
	s.se.LoggerFactory = pion
	s.udpMux = webrtc.NewICEUDPMux(pion.NewLogger("ice"), s.out)
	s.se.SetICEUDPMux(s.udpMux)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if cfg.TCPPort >= 0 {
		tcp, err := net.Listen("tcp", net.JoinHostPort(cfg.ListenIP, fmt.Sprint(cfg.TCPPort)))
		if err != nil {
			s.udpMux.Close()
			return nil, fmt.Errorf("sfu: media TCP port %d: %w", cfg.TCPPort, err)
		}
		s.tcp = tcp
		s.tcpMux = webrtc.NewICETCPMux(pion.NewLogger("ice"), tcp, 32)
		s.se.SetICETCPMux(s.tcpMux)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	s.se.SetNetworkTypes(types)
	s.se.SetIncludeLoopbackCandidate(loopbackOnly(udp.LocalAddr().(*net.UDPAddr).IP, hostIPs()))
	// ICE-lite: the server only answers checks and takes the pair the
	// client nominates, whichever side offered. A full Pion agent
	// nominates a down connection (the server's offer) on its own 200 ms
	// check tick when the client's check arrives before its own has
	// succeeded, which is what kept first pictures at 200-250 ms in a
	// third of the runs; browsers nominate as soon as a check succeeds.
	// A lite agent has only host candidates, which is all the server ever
	// had: the UDP and TCP muxes' addresses, rewritten to the public IPs
	// under NAT 1:1, and clients behind TURN reach them from their relay
	// candidates. It sends no checks, so it learns a client has gone from
	// the client's silence: Pion's lite default of 10 s before
	// "disconnected" (5 s for a full agent), before the media timeout.
	s.se.SetLite(true)
	// A client behind TURN is used at once, not after Pion's 2 s wait for
	// a better pair: ours are the only other candidates, and they failed.
	s.se.SetRelayAcceptanceMinWait(0)
	if len(cfg.PublicIPs) > 0 {
		// NAT 1:1: host candidates carry the public addresses instead.
		err := s.se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost,
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sfu: public IPs %v: %w", cfg.PublicIPs, err)
		}
	}
	if cfg.TURNPort >= 0 {
		t, err := startTURN(s, udp.LocalAddr().(*net.UDPAddr).Port)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.turn = t
	}
	return s, nil
}

// UDPAddr and TCPAddr are where the media ports listen.
func (s *SFU) UDPAddr() net.Addr { return s.udp.LocalAddr() }

// TCPAddr is nil when ICE over TCP is off.
func (s *SFU) TCPAddr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// Close ends every room and closes the ports.
func (s *SFU) Close() error {
	s.mu.Lock()
	rooms := make([]*Room, 0, len(s.room))
	for _, r := range s.room {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.Close()
	}
	// The muxes close their sockets, after marking themselves closed:
	// their read loops then end without an error in the log.
	if s.tcpMux != nil {
		s.tcpMux.Close()
	}
	if s.turn != nil {
		s.turn.close()
	}
	return s.udpMux.Close()
}

// Room returns the room called id, making it if needed.
func (s *SFU) Room(id string) *Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.room[id]
	if !ok {
		r = newRoom(s, id)
		s.room[id] = r
	}
	return r
}

func (s *SFU) forget(r *Room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.room[r.id] == r {
		delete(s.room, r.id)
	}
}

// newAPI builds the Pion API of one of p's connections: only the codecs
// we forward, and an interceptor registry of its own, so per-connection
// state stays per connection. Each direction gets only the interceptors
// that act on it (an interceptor's timer runs on every connection it is
// on, whether it has anything to do or not):
//
//   - up, where the client publishes: upReader (reader.go) alone, which
//     notes every packet inline as it is read and, on the shared clock
//     (clock.go), asks for
//     lost packets (NACK), reports reception and sends TWCC feedback;
//   - down, where the client receives: sender reports and, first on the
//     way out, downWriter (writer.go), which numbers packets for TWCC,
//     estimates the bandwidth from the client's feedback (gcc.go) and
//     answers NACKs from its own history.
func (s *SFU) newAPI(t Target, p *Participant) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if t == Up {
		if err := registerTWCC(m); err != nil {
			return nil, err
		}
		reg.Add(upReaderFactory{})
	} else {
		sr, err := report.NewSenderInterceptor()
		if err != nil {
			return nil, err
		}
		reg.Add(sr)
		if err := registerTWCC(m); err != nil {
			return nil, err
		}
		reg.Add(downWriterFactory{onNew: func(w *downWriter) {
			p.out = w
			p.startBWE(w.bwe)
		}})
	}
	se := s.se // this connection's copy: its own binding handler below
	se.SetICEBindingRequestHandler(firstCheckSelects())
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(se)), nil
}

// firstCheckSelects makes a connection's first connectivity check select
// its pair, before the client nominates one. A lite agent otherwise
// waits for the client's USE-CANDIDATE, and browsers, which nominate a
// lite peer's pair only once it is both selected and writable, send it
// with a later check: about 100 ms after the pair worked for them, with
// their DTLS hello waiting in the server's buffer meanwhile (Chromium's
// click → first frame, docs/benchmarks.md). The first check is answered
// on the pair it came by, as every check is; the pair the client then
// nominates still replaces it (a lite agent takes every nomination). Once
// per connection: after an ICE restart the client's nomination selects,
// as it always did.
//
// Not a check from a link-local address: the media socket is bound to
// every address and the kernel answers a link-local one from the
// server's own link-local address, which the server does not announce.
// The client drops what comes from there, DTLS included, and its hello
// or the server's would wait a second for the retransmission.
func firstCheckSelects() func(*stun.Message, ice.Candidate, ice.Candidate, *ice.CandidatePair) bool {
	var picked atomic.Bool
	return func(m *stun.Message, _, remote ice.Candidate, _ *ice.CandidatePair) bool {
		if linkLocal(remote.Address()) || !picked.CompareAndSwap(false, true) {
			return false
		}
		return !m.Contains(stun.AttrUseCandidate) // a nomination has selected it already
	}
}

// loopbackOnly says whether the server's host candidates are to include
// its loopback addresses: only when they are all it has, because its
// socket is bound to a loopback address (bound) or the host has no other
// (host: the addresses of its interfaces that are up). Bound to every
// address, a reply leaves from the address the kernel's route picks, so
// a client's check from 192.0.2.2 to our 127.0.0.1 is answered from
// 192.0.2.2 and never matches: a pair no client off loopback can use,
// and Chromium, which checks one pair at a time about every 50 ms until
// one works, spent the first check of some joins on it (50-80 ms more to
// the first picture, docs/benchmarks.md "Session 21"). A client on this
// host reaches the other addresses as well.
func loopbackOnly(bound net.IP, host []net.IP) bool {
	if bound != nil && !bound.IsUnspecified() {
		return bound.IsLoopback()
	}
	for _, ip := range host {
		if !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
			return false
		}
	}
	return true
}

// hostIPs is every address of the host's interfaces that are up, the
// ones Pion gathers from; none when they cannot be read (loopback
// candidates then stay, as a fallback, and TURN announces loopback).
func hostIPs() []net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var ips []net.IP
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ips = append(ips, n.IP)
			}
		}
	}
	return ips
}

// linkLocal says whether a candidate's address is a link-local IP.
func linkLocal(address string) bool {
	ip, err := netip.ParseAddr(address)
	return err == nil && ip.IsLinkLocalUnicast()
}

// registerTWCC offers transport-wide sequence numbers and congestion
// feedback on every stream, in both directions (what Pion's
// webrtc.ConfigureTWCCSender registers, without its interceptor): the up
// connection's upReader sends the feedback, the down connection's
// downWriter reads it.
func registerTWCC(m *webrtc.MediaEngine) error {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: transportCCURI}, kind); err != nil {
			return err
		}
	}
	return nil
}

var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
	{Type: "transport-cc"},
}

// registerCodecs registers VP8, H.264 and Opus, and VP9 and AV1 for
// clients that offer them (forwarded without simulcast switching).
func registerCodecs(m *webrtc.MediaEngine) error {
	codecs := []struct {
		p    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
			ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
			ClockRate: 90000, RTCPFeedback: videoFeedback}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264,
			ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			RTCPFeedback: videoFeedback}, PayloadType: 102}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9,
			ClockRate: 90000, SDPFmtpLine: "profile-id=0", RTCPFeedback: videoFeedback}, PayloadType: 98}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1,
			ClockRate: 90000, RTCPFeedback: videoFeedback}, PayloadType: 45}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.p, c.kind); err != nil {
			return err
		}
	}
	return nil
}
