package sfu

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// CredentialLifetime is how long the TURN credentials handed out with a
// join stay valid. An allocation made with them lives on by refreshes
// only as long as they are valid; a client that stays longer joins again.
const CredentialLifetime = 2 * time.Hour

// turnServer is the embedded TURN server: clients that cannot reach the
// media port directly (UDP blocked, symmetric NAT) relay through it. It
// relays only to this host's own addresses, so it is no open relay.
type turnServer struct {
	srv    *turn.Server
	conn   net.PacketConn
	secret string
	host   string // the address clients reach it at
	port   int
}

func startTURN(cfg Config) (*turnServer, error) {
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
	relayIP := announcedIP(cfg)
	own := ownIPs(cfg)
	bind := cfg.ListenIP
	if bind == "" {
		bind = "0.0.0.0"
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:         "parley",
		AuthHandler:   turn.LongTermTURNRESTAuthHandler(secret, quietTURNLog.NewLogger("turn")),
		LoggerFactory: quietTURNLog,
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: relayIP, Address: bind},
			PermissionHandler: func(_ net.Addr, peer net.IP) bool {
				for _, ip := range own {
					if ip.Equal(peer) {
						return true
					}
				}
				return false
			},
		}},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sfu: TURN server: %w", err)
	}
	return &turnServer{srv: srv, conn: conn, secret: secret, host: relayIP.String(),
		port: conn.LocalAddr().(*net.UDPAddr).Port}, nil
}

func (t *turnServer) close() { t.srv.Close() }

// quietTURNLog keeps Pion's TURN logging to errors (a failed
// authentication is an error there, and a normal event here).
var quietTURNLog = func() logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.DefaultLogLevel = logging.LogLevelDisabled
	return f
}()

// announcedIP is the address the relay and the TURN URL carry: the
// public IP when configured, else the listening IP, else this host's first
// non-loopback IPv4 address, else loopback.
func announcedIP(cfg Config) net.IP {
	for _, s := range cfg.PublicIPs {
		if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
			return ip
		}
	}
	if ip := net.ParseIP(cfg.ListenIP); ip != nil && !ip.IsUnspecified() {
		return ip
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

// ownIPs are the addresses the relay may send to: the media server's.
func ownIPs(cfg Config) []net.IP {
	var out []net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP)
		}
	}
	for _, s := range cfg.PublicIPs {
		if ip := net.ParseIP(s); ip != nil {
			out = append(out, ip)
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

// ICEServers are the servers a client of user may use, with credentials
// valid for CredentialLifetime; none when TURN is off.
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
