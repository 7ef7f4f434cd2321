package sfu

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// CredentialLifetime is the longest the TURN credentials handed out with
// a join stay valid. They die sooner with their participant: once no
// participant of that id is in a room, they are refused and its relays
// are closed. A client that stays longer joins again.
const CredentialLifetime = 2 * time.Hour

// maxRelays is how many relays one participant id may hold at once. A
// browser makes one per connection and network interface, and a new one
// for each ICE restart until the old one is released.
const maxRelays = 20

// Why the TURN server refuses an allocation (Pion answers each with 508
// Insufficient Capacity), or a relay a datagram (dropped; Pion logs it).
var (
	errTCPRelay  = errors.New("sfu: TURN relays over TCP are refused")
	errIPv6Relay = errors.New("sfu: TURN relays over IPv6 are refused")
	errGone      = errors.New("sfu: the TURN user is in no room")
	errPeer      = errors.New("sfu: the TURN relay sends only to the media port")
)

// turnServer is the embedded TURN server: clients that cannot reach the
// media port directly (UDP blocked, symmetric NAT) relay through it.
//
// It is no open relay and no way into the host. A relay is UDP over IPv4
// only, and it sends to and takes from one kind of peer: the media UDP
// port on one of the addresses it listens at (mayRelay). A credential
// is good only while its participant is in a room of this SFU, and the
// relays made with it are closed when the participant leaves.
type turnServer struct {
	sfu       *SFU
	srv       *turn.Server
	conn      net.PacketConn
	secret    string
	host      string // the address clients reach it at
	port      int
	mediaPort int      // the media UDP port: the one port relays reach
	own       []net.IP // the IPv4 addresses the media port listens at

	mu     sync.Mutex
	relays map[string]map[*relayConn]struct{} // open relays by participant id
}

func startTURN(s *SFU, mediaPort int) (*turnServer, error) {
	cfg := s.cfg
	secret := cfg.TURNSecret
	if secret == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		secret = base64.RawStdEncoding.EncodeToString(b)
	}
	conn, err := net.ListenPacket("udp4", net.JoinHostPort(cfg.ListenIP, strconv.Itoa(max(cfg.TURNPort, 0))))
	if err != nil {
		return nil, fmt.Errorf("sfu: TURN port %d: %w", cfg.TURNPort, err)
	}
	t := &turnServer{sfu: s, conn: conn, secret: secret, host: announcedIP(cfg).String(),
		port: conn.LocalAddr().(*net.UDPAddr).Port, mediaPort: mediaPort, own: mediaIPs(cfg),
		relays: map[string]map[*relayConn]struct{}{}}
	bind := cfg.ListenIP
	if bind == "" {
		bind = "0.0.0.0"
	}
	gen := &relayGenerator{t: t, static: turn.RelayAddressGeneratorStatic{RelayAddress: announcedIP(cfg), Address: bind}}
	t.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:         "parley",
		AuthHandler:   t.auth,
		QuotaHandler:  t.quota,
		LoggerFactory: quietTURNLog,
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: gen,
			PermissionHandler:     func(_ net.Addr, peer net.IP) bool { return t.ownIP(peer) },
		}},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sfu: TURN server: %w", err)
	}
	return t, nil
}

func (t *turnServer) close() { t.srv.Close() }

// auth checks a TURN username, "expiry:participant" as ICEServers makes
// it: not expired, and the participant is in a room. The password is
// then the HMAC of the username (TURN REST credentials), checked by
// Pion. Every request that carries credentials comes here: allocations,
// refreshes, permissions and channel binds.
func (t *turnServer) auth(ra *turn.RequestAttributes) (string, []byte, bool) {
	expiry, user, ok := strings.Cut(ra.Username, ":")
	if !ok {
		return "", nil, false
	}
	at, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || time.Now().Unix() > at || !t.sfu.hasParticipant(user) {
		return "", nil, false
	}
	return user, turn.GenerateAuthKey(ra.Username, ra.Realm, turnPassword(t.secret, ra.Username)), true
}

// quota lets user make another relay while it holds fewer than
// maxRelays (Pion answers 486 Allocation Quota Reached otherwise).
func (t *turnServer) quota(user, _ string, _ net.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.relays[user]) < maxRelays
}

// turnPassword is the TURN REST password of username: the base64 of its
// HMAC-SHA1 under secret (what turn.GenerateLongTermTURNRESTCredentials
// hands out).
func turnPassword(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// mayRelay says whether a relay may send to addr or pass on what comes
// from it: only the media UDP port at one of its addresses.
func (t *turnServer) mayRelay(addr net.Addr) bool {
	u, ok := addr.(*net.UDPAddr)
	return ok && u.Port == t.mediaPort && t.ownIP(u.IP)
}

// ownIP says whether ip is one the media port listens at (or the public
// address that reaches it). Permissions are per address in TURN, so
// this is the check CreatePermission and ChannelBind get; the port is
// checked on every datagram (relayConn).
func (t *turnServer) ownIP(ip net.IP) bool {
	ip4 := ip.To4()
	if ip4 == nil {
		return false
	}
	for _, o := range t.own {
		if o.Equal(ip4) {
			return true
		}
	}
	return false
}

// open records a new relay of user; false if user is in no room (it
// left after its request was authenticated).
func (t *turnServer) open(user string, c *relayConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.sfu.hasParticipant(user) {
		return false
	}
	if t.relays[user] == nil {
		t.relays[user] = map[*relayConn]struct{}{}
	}
	t.relays[user][c] = struct{}{}
	return true
}

func (t *turnServer) forget(c *relayConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.relays[c.user], c)
	if len(t.relays[c.user]) == 0 {
		delete(t.relays, c.user)
	}
}

// revoke closes user's relays unless a participant of that id is still
// in a room. Pion ends an allocation whose relay is closed, and the
// credentials are refused from now on (auth).
func (t *turnServer) revoke(user string) {
	t.mu.Lock()
	var conns []*relayConn
	if !t.sfu.hasParticipant(user) {
		for c := range t.relays[user] {
			conns = append(conns, c)
		}
		delete(t.relays, user)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// relayGenerator makes the relays: UDP over IPv4, for a user in a room,
// sending only where mayRelay says. It refuses TCP relays (RFC 6062),
// which would let a client open TCP connections from this host.
type relayGenerator struct {
	t      *turnServer
	static turn.RelayAddressGeneratorStatic
}

func (g *relayGenerator) Validate() error { return g.static.Validate() }

func (g *relayGenerator) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if c.Network != "udp4" {
		return nil, nil, errIPv6Relay
	}
	conn, addr, err := g.static.AllocatePacketConn(c)
	if err != nil {
		return nil, nil, err
	}
	rc := &relayConn{PacketConn: conn, t: g.t, user: c.UserID}
	if !g.t.open(c.UserID, rc) {
		conn.Close()
		return nil, nil, errGone
	}
	return rc, addr, nil
}

func (g *relayGenerator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errTCPRelay
}

func (g *relayGenerator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errTCPRelay
}

// relayConn is one allocation's relay socket. It sends only where
// mayRelay says (a Send indication and ChannelData both end here) and
// drops whatever else arrives.
type relayConn struct {
	net.PacketConn
	t    *turnServer
	user string
	once sync.Once
}

func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.t.mayRelay(addr) {
		return 0, fmt.Errorf("%w: not to %v", errPeer, addr)
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || c.t.mayRelay(addr) {
			return n, addr, err
		}
	}
}

func (c *relayConn) Close() error {
	var err error
	c.once.Do(func() {
		c.t.forget(c)
		err = c.PacketConn.Close()
	})
	return err
}

// quietTURNLog keeps Pion's TURN logging to errors (a failed
// authentication is an error there, and a normal event here).
var quietTURNLog = func() logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.DefaultLogLevel = logging.LogLevelDisabled
	return f
}()

// announcedIP is the address the relay and the TURN URL carry: the
// public IP when configured, else the listening IP, else this host's first
// non-loopback IPv4 address (of an interface that is up), else loopback.
func announcedIP(cfg Config) net.IP {
	for _, s := range cfg.PublicIPs {
		if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
			return ip
		}
	}
	if ip := net.ParseIP(cfg.ListenIP); ip != nil && !ip.IsUnspecified() {
		return ip
	}
	for _, ip := range hostIPs() {
		if !ip.IsLoopback() && ip.To4() != nil {
			return ip
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

// mediaIPs are the IPv4 addresses a relay may send to (at the media
// port): the listening IP when one is set, else every address of this
// host's interfaces that are up; and the public IPs, which reach the media port
// through the NAT. Never an unspecified, multicast or broadcast address.
func mediaIPs(cfg Config) []net.IP {
	var ips []net.IP
	if ip := net.ParseIP(cfg.ListenIP); ip != nil && !ip.IsUnspecified() {
		ips = append(ips, ip)
	} else {
		ips = append(ips, hostIPs()...)
	}
	for _, s := range cfg.PublicIPs {
		if ip := net.ParseIP(s); ip != nil {
			ips = append(ips, ip)
		}
	}
	var out []net.IP
	for _, ip := range ips {
		ip4 := ip.To4()
		if ip4 != nil && !ip4.IsUnspecified() && !ip4.IsMulticast() && !ip4.Equal(net.IPv4bcast) {
			out = append(out, ip4)
		}
	}
	return out
}

// TURNAddr is where the TURN server listens; nil when it is off.
func (s *SFU) TURNAddr() net.Addr {
	if s.turn == nil {
		return nil
	}
	return s.turn.conn.LocalAddr()
}

// ICEServers are the servers a client may use as participant user, with
// credentials that work while a participant of that id is in a room,
// for at most CredentialLifetime; none when TURN is off.
func (s *SFU) ICEServers(user string) ([]webrtc.ICEServer, error) {
	if s.turn == nil {
		return nil, nil
	}
	name, pass, err := turn.GenerateLongTermTURNRESTCredentials(s.turn.secret, user, CredentialLifetime)
	if err != nil {
		return nil, err
	}
	url := "turn:" + net.JoinHostPort(s.turn.host, strconv.Itoa(s.turn.port)) + "?transport=udp"
	return []webrtc.ICEServer{{URLs: []string{url}, Username: name, Credential: pass}}, nil
}

// hasParticipant says whether a participant called id is in a room.
func (s *SFU) hasParticipant(id string) bool {
	s.mu.Lock()
	rooms := make([]*Room, 0, len(s.room))
	for _, r := range s.room {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		_, ok := r.parts[id]
		r.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// left ends the TURN relays of participant id, unless another
// participant of that id is still in a room.
func (s *SFU) left(id string) {
	if s.turn != nil {
		s.turn.revoke(id)
	}
}
