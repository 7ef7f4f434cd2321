package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // --time-zone works on a host without a zone database

	"golang.org/x/crypto/bcrypt"

	"parley/chat"
	"parley/mail"
	"parley/web"
)

// Config is every setting of the server. Each field is a flag with a
// PARLEY_* environment variable of the same name; a flag given on the
// command line wins over the variable.
type Config struct {
	Listen          string
	DatabaseURL     string
	PublicURL       string
	Demo            bool
	LogLevel        string
	LogFormat       string
	BcryptCost      int
	ShutdownTimeout time.Duration

	WSMaxFrame int
	WSRate     float64
	WSBurst    int

	// Media settings of the SFU (video rooms).
	MediaUDPPort int
	MediaTCPPort int
	TURNPort     int
	MediaIP      string
	PublicIP     string
	RoomGrace    time.Duration

	// RejectCooldown is how long a chat an agent rejected or missed is
	// not offered to that agent again (chat.Options.RejectCooldown).
	RejectCooldown time.Duration

	// DebugAddr serves Go's profiler (net/http/pprof) on a listener of
	// its own; empty, the default, serves none.
	DebugAddr string
	// MetricsAddr serves /metrics on a listener of its own; empty, the
	// default, serves none. The public listener never serves it.
	MetricsAddr string

	// HTTP limits: the largest request body, the server's timeouts, the
	// deadline of a request's database calls, and how many requests and
	// websockets one client address may have open at once.
	HTTPMaxBody           int
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
	DBTimeout             time.Duration
	MaxRequestsPerAddress int
	MaxWSPerAddress       int

	// NATSURL, when set, carries the bus over NATS (a comma-separated
	// list of nats:// URLs of one cluster); empty, the default, keeps the
	// bus in this process.
	NATSURL string
	// TimeZone is the zone of the supervisors' "today" (the floor's
	// figures of the day, the closed chats' days). Default UTC.
	TimeZone *time.Location
	// NodeID names this node among the deployment's nodes (cluster_nodes);
	// empty, the default, makes a unique one at start.
	NodeID string
	// Media, the default, runs an SFU that hosts video rooms. A node of
	// many (NATSURL) may run none: its rooms go to nodes that do.
	Media bool
	// TrustedProxies are the networks (CIDRs, comma-separated) of the
	// load balancers in front of the nodes: from a peer in one of them,
	// the client's address is read from X-Forwarded-For. Empty, the
	// default, believes only the TCP peer.
	TrustedProxies string
	// SMTP is the server the e-mail outbox is sent through, and the
	// From address. Without a host the sender does not run: mail waits
	// in the outbox, and the admin console says SMTP is not configured.
	SMTP mail.Settings
}

// defaults is the configuration of a fresh machine: `make run` needs none
// of the flags.
func defaults() Config {
	return Config{
		Listen:          ":8080",
		DatabaseURL:     "postgres://postgres@127.0.0.1:5432/parley?sslmode=disable",
		PublicURL:       "http://localhost:8080",
		Demo:            true,
		LogLevel:        "info",
		LogFormat:       "text",
		BcryptCost:      bcrypt.DefaultCost,
		ShutdownTimeout: 10 * time.Second,
		WSMaxFrame:      64 << 10,
		WSRate:          30,
		WSBurst:         60,
		MediaUDPPort:    7882,
		MediaTCPPort:    7881,
		TURNPort:        3478,
		RoomGrace:       60 * time.Second,
		RejectCooldown:  chat.DefaultRejectCooldown,
		Media:           true,

		HTTPMaxBody:           int(web.DefaultLimits().MaxBody),
		HTTPReadHeaderTimeout: 5 * time.Second,
		HTTPReadTimeout:       30 * time.Second,
		HTTPWriteTimeout:      30 * time.Second,
		HTTPIdleTimeout:       60 * time.Second,
		DBTimeout:             web.DefaultLimits().DBTimeout,
		MaxRequestsPerAddress: web.DefaultLimits().RequestsPerAddress,
		MaxWSPerAddress:       web.DefaultLimits().WebsocketsPerAddress,
		TimeZone:              time.UTC,
		SMTP:                  mail.Settings{Port: 587, TLS: mail.TLSStartTLS, From: "parley@localhost"},
	}
}

// errHelp is returned when --help was asked for and printed.
var errHelp = errors.New("help")

// parseConfig reads args and the environment. A bad value is one error
// line that names the setting.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	c := defaults()
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned as one line; usage only for --help
	type setting struct {
		name  string
		usage string
		value flag.Value
	}
	settings := []setting{
		{"listen", "`host:port` the HTTP server listens on", (*hostPort)(&c.Listen)},
		{"database-url", "PostgreSQL `URL`; the database is created if absent", (*stringValue)(&c.DatabaseURL)},
		{"public-url", "`URL` people reach Parley at (origin checks, links, secure cookies when https)", (*stringValue)(&c.PublicURL)},
		{"demo", "create the demo accounts on first start", (*boolValue)(&c.Demo)},
		{"log-level", "`level`: debug, info, warn or error", &choice{&c.LogLevel, []string{"debug", "info", "warn", "error"}}},
		{"log-format", "`format`: text or json", &choice{&c.LogFormat, []string{"text", "json"}}},
		{"bcrypt-cost", "bcrypt `cost` of password hashes (4–31)", &intValue{&c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost}},
		{"shutdown-timeout", "how long (`duration`) a graceful shutdown waits for connections to drain", &durationValue{&c.ShutdownTimeout}},
		{"ws-max-frame", "largest websocket frame accepted, in `bytes`", &intValue{&c.WSMaxFrame, 1024, 16 << 20}},
		{"ws-rate", "`requests` per second each websocket may send, sustained", &floatValue{&c.WSRate}},
		{"ws-burst", "`requests` a websocket may send at once above the rate", &intValue{&c.WSBurst, 1, 100000}},
		{"media-udp-port", "UDP `port` of all ICE media (one port, muxed; 0 picks a free one)", &intValue{&c.MediaUDPPort, 0, 65535}},
		{"media-tcp-port", "TCP `port` of ICE over TCP, the fallback (0 picks a free one, -1 turns it off)", &intValue{&c.MediaTCPPort, -1, 65535}},
		{"turn-port", "UDP `port` of the embedded TURN server (0 picks a free one, -1 turns it off)", &intValue{&c.TURNPort, -1, 65535}},
		{"room-grace", "how long (`duration`) an empty video room stays open before it ends", &durationValue{&c.RoomGrace}},
		{"reject-cooldown", "how long (`duration`) a chat an agent rejected or let run out is not offered to that agent again", &durationValue{&c.RejectCooldown}},
		{"media-ip", "IPv4 `address` of this host the media ports (UDP, TCP, TURN) listen on (empty: all of its addresses); on a host with several, so that media leaves from the address clients know", ipValue{&c.MediaIP, true}},
		{"public-ip", "public `IP` announced for media behind NAT 1:1 (empty: the host's addresses)", ipValue{&c.PublicIP, false}},
		{"debug-addr", "`host:port` to serve Go's profiler on (/debug/pprof/), apart from the public port; keep it on loopback (empty: off)", (*debugAddr)(&c.DebugAddr)},
		{"metrics-addr", "`host:port` to serve Prometheus metrics on (/metrics), apart from the public port (empty: off)", (*debugAddr)(&c.MetricsAddr)},
		{"http-max-body", "largest HTTP request body accepted, in `bytes` (larger: 413)", &intValue{&c.HTTPMaxBody, 1024, 64 << 20}},
		{"http-read-header-timeout", "how long (`duration`) a client may take to send a request's headers", &durationValue{&c.HTTPReadHeaderTimeout}},
		{"http-read-timeout", "how long (`duration`) a client may take to send a whole request, body included", &durationValue{&c.HTTPReadTimeout}},
		{"http-write-timeout", "how long (`duration`) the server may take to answer a request, from the end of its headers", &durationValue{&c.HTTPWriteTimeout}},
		{"http-idle-timeout", "how long (`duration`) an idle keep-alive connection stays open", &durationValue{&c.HTTPIdleTimeout}},
		{"db-timeout", "how long (`duration`) a request, HTTP or websocket, and each step of the chat writer and router, waits on the database before it answers unavailable", &durationValue{&c.DBTimeout}},
		{"max-requests-per-address", "HTTP `requests` one client address may have in progress at once (more: 429)", &intValue{&c.MaxRequestsPerAddress, 1, 1 << 20}},
		{"max-ws-per-address", "`websockets` one client address may have open at once (more: 429)", &intValue{&c.MaxWSPerAddress, 1, 1 << 20}},
		{"node-id", "`name` of this node among the deployment's nodes (empty: the host name and random digits, unique)", (*stringValue)(&c.NodeID)},
		{"media", "run an SFU and host video rooms; false (with --nats-url) leaves the rooms to the nodes that run one", (*boolValue)(&c.Media)},
		{"trusted-proxies", "`CIDRs` (comma-separated) of the load balancers in front of this node, whose X-Forwarded-For names the client (empty: the TCP peer is the client)", (*cidrList)(&c.TrustedProxies)},
		{"time-zone", "IANA time `zone` of the supervisors' day (today's figures, the closed chats' days), such as Europe/Paris", zoneValue{&c.TimeZone}},
		{"nats-url", "NATS server `URLs` (comma-separated) to carry events between nodes (empty: in-process, one node)", (*natsURL)(&c.NATSURL)},
		{"smtp-host", "SMTP `host` the e-mail outbox is sent through (empty: no mail is sent; it waits in the outbox)", (*stringValue)(&c.SMTP.Host)},
		{"smtp-port", "SMTP `port`", &intValue{&c.SMTP.Port, 1, 65535}},
		{"smtp-tls", "SMTP `mode`: none, starttls (required STARTTLS) or tls (TLS from the start, usually port 465)", &choice{&c.SMTP.TLS, []string{mail.TLSNone, mail.TLSStartTLS, mail.TLSImplicit}}},
		{"smtp-user", "SMTP `user` name (empty: no authentication)", (*stringValue)(&c.SMTP.User)},
		{"smtp-password", "SMTP `password`", (*stringValue)(&c.SMTP.Password)},
		{"mail-from", "`address` Parley's e-mail comes from", (*mailAddress)(&c.SMTP.From)},
	}
	for _, s := range settings {
		fs.Var(s.value, s.name, s.usage+" (env "+envName(s.name)+")")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parley [flags]\n\nEvery flag can also be set with the environment variable named beside it.\n\n")
		fs.PrintDefaults()
	}
	for _, s := range settings {
		if v := getenv(envName(s.name)); v != "" {
			if err := s.value.Set(v); err != nil {
				return c, fmt.Errorf("invalid %s=%q: %v", envName(s.name), v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fs.Usage()
			return c, errHelp
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (settings are flags: see parley --help)", fs.Arg(0))
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("invalid --public-url %q: want http(s)://host[:port]", c.PublicURL)
	}
	if _, err := url.Parse(c.DatabaseURL); err != nil || !strings.HasPrefix(c.DatabaseURL, "postgres") {
		return c, fmt.Errorf("invalid --database-url %q: want postgres://user@host:port/database", c.DatabaseURL)
	}
	if !c.Media && c.NATSURL == "" {
		return c, errors.New("--media=false needs --nats-url: one node alone must host its video rooms")
	}
	return c, nil
}

func envName(flagName string) string {
	return "PARLEY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

type stringValue string

// mailAddress is an e-mail address, such as parley@example.com.
type mailAddress string

func (v *mailAddress) String() string { return string(*v) }
func (v *mailAddress) Set(s string) error {
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Address != s {
		return fmt.Errorf("want an e-mail address, such as parley@example.com")
	}
	*v = mailAddress(s)
	return nil
}

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type hostPort string

func (v *hostPort) String() string { return string(*v) }
func (v *hostPort) Set(s string) error {
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return fmt.Errorf("want host:port or :port")
	}
	*v = hostPort(s)
	return nil
}

// debugAddr is empty or a host:port with a host: the profiler and the
// metrics are never on every interface by accident.
type debugAddr string

func (v *debugAddr) String() string { return string(*v) }
func (v *debugAddr) Set(s string) error {
	if s == "" {
		*v = ""
		return nil
	}
	if host, port, err := net.SplitHostPort(s); err != nil || host == "" || port == "" {
		return fmt.Errorf("want host:port, e.g. 127.0.0.1:6060")
	}
	*v = debugAddr(s)
	return nil
}

// natsURL is empty or a comma-separated list of NATS server URLs, each
// with a scheme nats.go dials (nats, tls, ws or wss) and a host.
type natsURL string

func (v *natsURL) String() string { return string(*v) }
func (v *natsURL) Set(s string) error {
	if s != "" {
		for _, one := range strings.Split(s, ",") {
			u, err := url.Parse(strings.TrimSpace(one))
			if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") {
				return fmt.Errorf("want nats://host:port, comma-separated for several servers")
			}
		}
	}
	*v = natsURL(s)
	return nil
}

// redactNATSURL hides the passwords of a NATS URL list, for the log.
func redactNATSURL(s string) string {
	parts := strings.Split(s, ",")
	for i, one := range parts {
		if u, err := url.Parse(strings.TrimSpace(one)); err == nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

type boolValue bool

func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) IsBoolFlag() bool { return true }

type intValue struct {
	p        *int
	min, max int
}

func (v *intValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < v.min || n > v.max {
		return fmt.Errorf("want a whole number from %d to %d", v.min, v.max)
	}
	*v.p = n
	return nil
}

type floatValue struct{ p *float64 }

func (v *floatValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}
func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return fmt.Errorf("want a number above 0")
	}
	*v.p = f
	return nil
}

type durationValue struct{ p *time.Duration }

func (v *durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a duration such as 10s or 1m")
	}
	*v.p = d
	return nil
}

// ipValue is an IP address, or empty; with v4 an IPv4 one (the media
// address: the TURN server on it relays over IPv4).
type ipValue struct {
	p  *string
	v4 bool
}

func (v ipValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v ipValue) Set(s string) error {
	ip := net.ParseIP(s)
	switch {
	case s != "" && ip == nil:
		return fmt.Errorf("want an IP address")
	case s != "" && v.v4 && ip.To4() == nil:
		return fmt.Errorf("want an IPv4 address")
	}
	*v.p = s
	return nil
}

// cidrList is a comma-separated list of networks in CIDR notation.
type cidrList string

func (v *cidrList) String() string { return string(*v) }
func (v *cidrList) Set(s string) error {
	if _, err := parseCIDRs(s); err != nil {
		return err
	}
	*v = cidrList(s)
	return nil
}

// parseCIDRs reads a comma-separated list of networks ("10.0.0.0/8,
// 127.0.0.1/32"); empty is none.
func parseCIDRs(s string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("want networks such as 10.0.0.0/8, comma-separated: %q is not one", part)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// choice is a string flag limited to a set of values.
type choice struct {
	p       *string
	allowed []string
}

func (v *choice) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
func (v *choice) Set(s string) error {
	for _, a := range v.allowed {
		if s == a {
			*v.p = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(v.allowed, ", "))
}

// zoneValue is an IANA time zone (UTC, Europe/Paris).
type zoneValue struct{ loc **time.Location }

func (v zoneValue) String() string {
	if v.loc == nil || *v.loc == nil {
		return "UTC"
	}
	return (*v.loc).String()
}

func (v zoneValue) Set(s string) error {
	loc, err := time.LoadLocation(s)
	if err != nil || s == "" || strings.EqualFold(s, "local") {
		return fmt.Errorf("want an IANA time zone such as UTC or Europe/Paris")
	}
	*v.loc = loc
	return nil
}
