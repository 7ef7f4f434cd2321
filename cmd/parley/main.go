// Command parley is the Parley server. It only wires: configuration →
// database → services → routes → listen, and shuts down gracefully on
// SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/chat/floor"
	"parley/cluster"
	"parley/conference"
	"parley/mail"
	"parley/rooms"
	"parley/sfu"
	"parley/signaling"
	"parley/staff"
	"parley/store"
	"parley/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	if err := keepSysmonAwake(); err != nil {
		fmt.Fprintln(os.Stderr, "parley: running with the runtime's default monitor:", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The process's Ps are the process's: in-process tests run the
	// server without this. /metrics shows the number as
	// go_sched_gomaxprocs_threads.
	if governsProcs(os.Getenv) {
		go governProcs(ctx, defaultProcsRule, nil)
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, errHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

// migrations are the schema of every component, in the order they are
// applied.
var migrations = []store.Migrations{cluster.Migrations, auth.Migrations, conference.Migrations,
	chat.Migrations, staff.Migrations, mail.Migrations}

// run starts the server and serves until ctx ends. ready, when not nil,
// receives the listening address once the server accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	publicURL, _ := url.Parse(cfg.PublicURL) // validated by parseConfig
	// A bus that may have lost events tells the hub's clients to resync;
	// the hub is made later, and before it there is nobody to tell.
	var resync atomic.Pointer[signaling.Hub]
	// The bus is closed last, after the hub and every service that
	// publishes on it.
	b, closeBus, err := newBus(cfg, log, func() {
		if h := resync.Load(); h != nil {
			h.Resync(signaling.ResyncReasonBus)
		}
	})
	if err != nil {
		return err
	}
	defer closeBus()

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pool, err := store.Open(startCtx, cfg.DatabaseURL, store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(startCtx, pool, migrations...); err != nil {
		return err
	}
	// This node's row among the deployment's nodes, renewed every second;
	// stopping marks it stopped, after everything else has let go.
	node, err := cluster.Start(startCtx, pool, cluster.Options{ID: cfg.NodeID, Addr: cfg.Listen, Media: cfg.Media,
		Logger: log.With("component", "cluster")})
	if err != nil {
		return err
	}
	defer node.Stop(context.Background())
	authSvc, err := auth.NewService(startCtx, pool, auth.Options{BcryptCost: cfg.BcryptCost})
	if err != nil {
		return err
	}
	if cfg.Demo {
		// Nodes starting together on a new database take turns, so the
		// first makes the accounts and the others find them.
		err := store.Exclusive(startCtx, pool, store.SeedLock, func() error {
			made, err := authSvc.EnsureDemoAccounts(startCtx)
			for _, u := range made {
				log.Info("created demo account", "username", u.Username, "password", auth.DemoPassword, "role", u.Role)
			}
			return err
		})
		if err != nil {
			return err
		}
	}

	shared, err := newShared(startCtx, cfg, pool, b, node, log)
	if err != nil {
		return err
	}
	defer shared.stop()
	chatSvc := chat.New(pool, b, log.With("component", "chat"), chat.Options{DBTimeout: cfg.DBTimeout, RejectCooldown: cfg.RejectCooldown,
		Presence: shared.presence, Turn: shared.turn, Nodes: shared.nodes, EndSessions: authSvc.EndSessions})
	if cfg.Demo {
		err := store.Exclusive(startCtx, pool, store.SeedLock, func() error {
			return ensureDemoQueue(startCtx, chatSvc, authSvc, cfg.PublicURL)
		})
		if err != nil {
			return err
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	router := signaling.NewRouter()
	wsCfg := signaling.DefaultConfig()
	wsCfg.Version = version
	wsCfg.MaxFrameBytes = cfg.WSMaxFrame
	wsCfg.RatePerSecond = cfg.WSRate
	wsCfg.RateBurst = cfg.WSBurst
	wsCfg.RequestTimeout = cfg.DBTimeout
	hub := signaling.NewHub(wsCfg, b, router, log.With("component", "ws"), reg)
	resync.Store(hub)
	signaling.RegisterChat(router, hub, chatSvc)
	signaling.RegisterStaff(router, chatSvc, staff.New(pool, b, log.With("component", "staff")))
	floorSvc := floor.New(pool, b, chatSvc, log.With("component", "floor"), floor.Options{Location: cfg.TimeZone,
		DBTimeout: cfg.DBTimeout})
	signaling.RegisterFloor(router, floorSvc)
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_floor_changes_marked_total",
		Help: "Changes this node marked for the supervisors' floor (a chat's queue, or everything)."},
		func() float64 { m, _ := chatSvc.FloorChanges(); return float64(m) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_floor_changes_published_total",
		Help: "Messages this node published on floor.changes (the marks of up to 50 ms each)."},
		func() float64 { _, n := chatSvc.FloorChanges(); return float64(n) }))

	var publicIPs []string
	if cfg.PublicIP != "" {
		publicIPs = []string{cfg.PublicIP}
	}
	media, err := newMedia(cfg, publicIPs, log)
	if err != nil {
		return err
	}
	if media != nil {
		defer media.Close()
	}
	confOpt := conference.Options{EmptyGrace: cfg.RoomGrace, Live: newLiveRooms()}
	if cfg.NATSURL != "" {
		confOpt.Node = node // many nodes: each room hosted by one
	}
	confSvc := conference.New(pool, media, b, authSvc, log.With("component", "conference"), confOpt)
	if err := confSvc.Start(startCtx); err != nil {
		return err
	}
	defer confSvc.Stop()
	roomSvc := rooms.New(confSvc, chatSvc, b, log.With("component", "rooms"))
	if shared.roomNumbers != nil {
		roomSvc.LimitNumbers(shared.roomNumbers)
	}
	chatSvc.OnClose(roomSvc.ConversationClosed)
	signaling.RegisterRooms(router, roomSvc)
	if req, ok := b.(bus.Requester); ok && cfg.NATSURL != "" {
		if err := roomSvc.Relay(node, req); err != nil {
			return err
		}
	}
	chatCtx, stopChat := context.WithCancel(context.Background())
	chatDone := make(chan struct{})
	go func() { defer close(chatDone); chatSvc.Run(chatCtx) }()
	floorDone := make(chan struct{})
	go func() { defer close(floorDone); floorSvc.Run(chatCtx) }()
	defer func() { stopChat(); <-floorDone }()
	defer func() { stopChat(); <-chatDone }()
	// The e-mail outbox's sender, on every node that has SMTP settings
	// (each claims its own messages); without them mail waits.
	if cfg.SMTP.Configured() {
		sender, err := mail.NewSender(pool, cfg.SMTP, log.With("component", "mail"), mail.Options{DBTimeout: cfg.DBTimeout})
		if err != nil {
			return err
		}
		mailDone := make(chan struct{})
		go func() { defer close(mailDone); sender.Run(chatCtx) }()
		defer func() { stopChat(); <-mailDone }()
	} else {
		log.Info("SMTP is not configured (--smtp-host): e-mail waits in the outbox")
	}

	ws := signaling.NewEndpoint(hub, authSvc, publicURL, nil)
	ws.CheckTimeout = cfg.DBTimeout
	trusted, _ := parseCIDRs(cfg.TrustedProxies) // validated by parseConfig
	e := web.New(web.Deps{
		Auth:       authSvc,
		Chat:       chatSvc,
		Conference: confSvc,
		DB:         pool,
		WS:         ws,
		PublicURL:  publicURL,
		Log:        log.With("component", "http"),
		Metrics:    reg,
		Limits: web.Limits{
			MaxBody:              int64(cfg.HTTPMaxBody),
			DBTimeout:            cfg.DBTimeout,
			RequestsPerAddress:   cfg.MaxRequestsPerAddress,
			WebsocketsPerAddress: cfg.MaxWSPerAddress,
		},
		SignedOut:       hub.CloseSignedOut,
		CloseUser:       hub.CloseUser,
		TrustedProxies:  trusted,
		LoginLimit:      shared.logins,
		RoomNumberLimit: shared.lookups,
		Outbox:          pool,
		SMTP:            cfg.SMTP,
		OfflineLimit:    shared.offline,
	})

	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, reg, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (set --listen or PARLEY_LISTEN): %v", cfg.Listen, err)
	}
	// The timeouts cut a client that trickles its request or idles; a
	// websocket is not held to them, because the upgrade clears the
	// connection's deadlines (gorilla/websocket's Upgrade) and the
	// websocket keeps its own.
	srv := &http.Server{Handler: e,
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("parley is serving", "version", version, "node", node.ID(), "listen", ln.Addr().String(), "url", cfg.PublicURL,
		"database", store.Redact(cfg.DatabaseURL), "media", mediaAddrs(media))
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	downCtx, cancelDown := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelDown()
	// The rooms this node hosts move to others first, then the
	// websockets: they are told, flushed and closed; new upgrades
	// are refused. Then HTTP stops accepting and drains its requests.
	roomSvc.Drain(downCtx)
	if err := hub.Shutdown(downCtx); err != nil {
		log.Warn("websockets did not drain in time", "err", err)
	}
	if err := srv.Shutdown(downCtx); err != nil {
		log.Warn("http did not drain in time", "err", err)
	}
	log.Info("stopped")
	return nil
}

// ensureDemoQueue makes the demo queue "demo" (served on /demo) with the
// demo agents as members, when there is no queue yet.
func ensureDemoQueue(ctx context.Context, svc *chat.Service, a *auth.Service, publicURL string) error {
	var members []auth.UserID
	for _, name := range []string{"alice", "bob"} {
		if u, err := a.UserByUsername(ctx, name); err == nil {
			members = append(members, u.ID)
		}
	}
	u, _ := url.Parse(publicURL)
	_, err := svc.EnsureDemoQueue(ctx, []string{u.Scheme + "://" + u.Host}, members...)
	return err
}

// newBus chooses the bus: in-process for one node, NATS when --nats-url is
// set. closeBus releases it. onLoss is called when the bus may have lost
// events meant for this node (never, for the memory bus).
func newBus(cfg Config, log *slog.Logger, onLoss func()) (b bus.Bus, closeBus func(), err error) {
	if cfg.NATSURL == "" {
		return bus.NewMemory(), func() {}, nil
	}
	name := "parley"
	if host, err := os.Hostname(); err == nil {
		name += " " + host
	}
	opts := bus.DefaultNATSOptions()
	opts.OnLoss = onLoss
	nb, err := bus.DialNATS(cfg.NATSURL, name, log.With("component", "bus"), opts)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot connect to NATS at %s (set --nats-url or PARLEY_NATS_URL): %v", redactNATSURL(cfg.NATSURL), err)
	}
	log.Info("bus over NATS", "url", redactNATSURL(cfg.NATSURL), "server", nb.ConnectedURL())
	return nb, nb.Close, nil
}

// newMedia starts the SFU, unless this node runs none (--media=false):
// nil then. It is closed when the process ends.
func newMedia(cfg Config, publicIPs []string, log *slog.Logger) (*sfu.SFU, error) {
	if !cfg.Media {
		return nil, nil
	}
	media, err := sfu.New(sfu.Config{ListenIP: cfg.MediaIP, UDPPort: cfg.MediaUDPPort, TCPPort: cfg.MediaTCPPort,
		TURNPort: cfg.TURNPort, PublicIPs: publicIPs, Logger: log.With("component", "sfu")})
	if err != nil {
		return nil, fmt.Errorf("%v (set --media-ip, --media-udp-port, --media-tcp-port, --turn-port)", err)
	}
	return media, nil
}

// mediaAddrs is where the SFU listens, for the log.
func mediaAddrs(media *sfu.SFU) string {
	if media == nil {
		return "off (--media=false)"
	}
	return "udp " + media.UDPAddr().String() + ", tcp " + addrString(media.TCPAddr()) + ", turn " + addrString(media.TURNAddr())
}

// newLiveRooms chooses where the live video rooms are kept: this node's
// memory for one node. (A shared implementation, for many nodes, is
// chosen here too when it exists.)
func newLiveRooms() conference.Live { return conference.NewMemoryLive() }

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) //nolint:errcheck // validated by parseConfig
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}
