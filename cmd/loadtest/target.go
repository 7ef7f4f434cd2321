package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// targetFlags say which server to drive: one the load tester starts
// (--parley) or a running one (--url).
type targetFlags struct {
	parley        string
	url           string
	metricsURL    string
	adminUser     string
	adminPassword string
	databaseURL   string
	keepDB        bool
	serverLog     string
	serverArgs    string
	nodes         int
	natsURL       string
	timeout       time.Duration
	// serverEnv is added to the started servers' environment: set by a
	// workload, not a flag.
	serverEnv []string
}

func (tf *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&tf.parley, "parley", "bin/parley", "the server `binary` to start (ignored with --url)")
	fs.StringVar(&tf.url, "url", "", "drive the running server at this `URL` instead of starting one (http://127.0.0.1:8080); several nodes' URLs separated by commas")
	fs.StringVar(&tf.metricsURL, "metrics-url", "", "the running server's metrics `URL` (its --metrics-addr, e.g. http://127.0.0.1:9090/metrics), with --url; one per node, separated by commas")
	fs.StringVar(&tf.adminUser, "admin-user", "ada", "admin `username` that seeds agents and the queue")
	fs.StringVar(&tf.adminPassword, "admin-password", "demo", "admin `password`")
	fs.StringVar(&tf.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL `URL` on which the started server gets a fresh database (dropped afterwards)")
	fs.BoolVar(&tf.keepDB, "keep-db", false, "keep the started server's database after the run")
	fs.StringVar(&tf.serverLog, "server-log", "", "write the started server's log to this `file` (default: a temporary file, kept when the run fails)")
	fs.StringVar(&tf.serverArgs, "server-args", "", "extra `flags` for the started server, space-separated")
	fs.IntVar(&tf.nodes, "nodes", 1, "start this many nodes on one database and one NATS server (customers on the first, agents on the others)")
	fs.StringVar(&tf.natsURL, "nats-url", "", "with --nodes above 1, the NATS server `URL` the nodes share (default: one embedded in the load tester)")
	fs.DurationVar(&tf.timeout, "timeout", 5*time.Minute, "bound on the whole run")
}

// target is the server under load: one node, or several on one database.
type target struct {
	nodes   []*endpoint // every node, the first one included
	base    string      // the first node's http://host:port (the admin API)
	metrics string      // the first node's /metrics (on its --metrics-addr); empty: none
	ws      string      // the first node's ws://host:port/ws
	proc    *serverProc // the first node's process; nil with --url
	api     *api
	admin   string // the admin's bearer token
	log     io.Writer

	nats   *natsserver.Server // embedded for --nodes without --nats-url
	dropDB func() error
}

// open starts the server (or finds the running one) and signs the admin in.
func (tf *targetFlags) open(ctx context.Context, log io.Writer) (*target, error) {
	t := &target{log: log}
	if tf.nodes < 1 || tf.nodes > 16 {
		return nil, fmt.Errorf("%w: --nodes 1–16", errUsage)
	}
	if tf.url != "" {
		eps, err := parseURLs(tf.url, tf.metricsURL)
		if err != nil {
			return nil, err
		}
		t.nodes = eps
		t.first()
	} else {
		if err := t.start(ctx, tf); err != nil {
			t.close(true) // keep the logs: they say why
			return nil, err
		}
	}
	t.api = newAPI(t.base)
	tok, err := t.api.login(ctx, nil, tf.adminUser, tf.adminPassword)
	if err != nil {
		t.close(false)
		return nil, fmt.Errorf("admin sign-in as %s: %w", tf.adminUser, err)
	}
	t.admin = tok
	return t, nil
}

// start runs the server binary on free loopback ports against a fresh
// database: --nodes of them, sharing a NATS server when more than one.
func (t *target) start(ctx context.Context, tf *targetFlags) error {
	bin, err := filepath.Abs(tf.parley)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%w: no server binary at %s (make build, or --parley PATH, or --url)", errUsage, bin)
	}
	dbURL, drop, err := freshDatabase(tf.databaseURL, tf.keepDB)
	if err != nil {
		return err
	}
	t.dropDB = drop
	count := max(tf.nodes, 1)
	var cluster []string
	if count > 1 {
		natsURL := tf.natsURL
		if natsURL == "" {
			ns, err := startNATS()
			if err != nil {
				return err
			}
			t.nats = ns
			natsURL = ns.ClientURL()
		}
		fmt.Fprintf(t.log, "%d nodes on NATS %s\n", count, natsURL)
		cluster = []string{"--nats-url", natsURL}
	}
	// One after the other: the first creates the database and its schema.
	for i := range count {
		args := cluster
		if count > 1 {
			args = append(args[:len(args):len(args)], "--node-id", fmt.Sprintf("lt%d", i+1))
		}
		n, err := t.startNode(ctx, tf, bin, dbURL, i, args)
		if n != nil {
			t.nodes = append(t.nodes, n)
		}
		if err != nil {
			return err
		}
	}
	t.first()
	return nil
}

// first makes the first node the one of t's single-node fields.
func (t *target) first() {
	n := t.nodes[0]
	t.base, t.ws, t.metrics, t.proc = n.base, n.ws, n.metrics, n.proc
}

// startNode starts node i (0-based) on its own free ports.
func (t *target) startNode(ctx context.Context, tf *targetFlags, bin, dbURL string, i int, extra []string) (*endpoint, error) {
	// Held open until all are chosen, so no two of them are the same;
	// free on every address, as the server binds its media ports (a
	// port free on 127.0.0.1 alone may be another socket's elsewhere).
	var ports [5]int
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for k := range ports {
		if k == 1 || k == 3 { // the media and TURN ports are UDP
			c, err := net.ListenPacket("udp", ":0")
			if err != nil {
				return nil, err
			}
			held = append(held, c)
			ports[k] = c.LocalAddr().(*net.UDPAddr).Port
		} else {
			ln, err := net.Listen("tcp", ":0")
			if err != nil {
				return nil, err
			}
			held = append(held, ln)
			ports[k] = ln.Addr().(*net.TCPAddr).Port
		}
	}
	for _, c := range held {
		c.Close()
	}
	held = nil
	port, udp, tcp, turn, metricsPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := &endpoint{id: fmt.Sprintf("lt%d", i+1), base: "http://" + addr, ws: "ws://" + addr + "/ws",
		metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort), media: []int{udp, tcp}}
	args := []string{
		"--listen", addr,
		"--public-url", n.base,
		"--database-url", dbURL,
		"--demo",
		"--bcrypt-cost", "4", // seeding hundreds of agents is not what is measured
		"--media-udp-port", fmt.Sprint(udp),
		"--media-tcp-port", fmt.Sprint(tcp),
		"--turn-port", fmt.Sprint(turn),
		"--metrics-addr", strings.TrimSuffix(strings.TrimPrefix(n.metrics, "http://"), "/metrics"),
		// Every simulated person connects from this one address.
		"--max-ws-per-address", "1000000",
		"--max-requests-per-address", "1000000",
	}
	args = append(args, extra...)
	args = append(args, strings.Fields(tf.serverArgs)...)
	logPath, tempLog, err := nodeLog(tf, i)
	if err != nil {
		return nil, err
	}
	n.proc = &serverProc{bin: bin, args: args, env: tf.serverEnv, logPath: logPath, tempLog: tempLog, health: n.base + "/healthz"}
	fmt.Fprintf(t.log, "starting %s on %s (database %s, log %s)\n", filepath.Base(bin), addr, redact(dbURL), logPath)
	return n, n.proc.start(ctx)
}

// close stops the server the load tester started and drops its database.
// The server's log is kept when the run failed.
func (t *target) close(failed bool) {
	if t.api != nil {
		t.api.closeIdle()
	}
	for _, n := range t.nodes {
		if n.proc == nil {
			continue
		}
		if err := n.proc.stop(15 * time.Second); err != nil {
			fmt.Fprintf(t.log, "stopping the server %s: %v\n", n.id, err)
		}
		switch {
		case !n.proc.tempLog:
		case failed:
			fmt.Fprintln(t.log, "server log kept:", n.proc.logPath)
		default:
			os.Remove(n.proc.logPath)
		}
	}
	if t.nats != nil {
		t.nats.Shutdown()
	}
	if t.dropDB != nil {
		if err := t.dropDB(); err != nil {
			fmt.Fprintln(t.log, "dropping the database:", err)
		}
	}
}

// freshDatabase names a new database on the PostgreSQL server of base;
// the server under test creates it at start. drop removes it (unless keep).
func freshDatabase(base string, keep bool) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return "", nil, fmt.Errorf("%w: --database-url %q: want postgres://user@host:port/db", errUsage, base)
	}
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail on Linux
	name := "parley_loadtest_" + hex.EncodeToString(b)
	maint := *u
	fresh := *u
	fresh.Path = "/" + name
	drop := func() error {
		if keep {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, maint.String())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}
	return fresh.String(), drop, nil
}

func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		return dbURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// waitHealthy polls /healthz until it answers 200 or ctx ends; exited, when
// it closes, means the server died meanwhile.
func waitHealthy(ctx context.Context, healthURL string, exited <-chan struct{}) error {
	c := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, healthURL, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server not healthy at %s: %w", healthURL, ctx.Err())
		case <-exited:
			return fmt.Errorf("server exited before it was healthy")
		case <-tick.C:
		}
	}
}
