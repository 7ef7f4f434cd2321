package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"parley/signaling/client"
)

// chatConfig is the shape of a C1/C2 run.
type chatConfig struct {
	customers   int
	agents      int
	capacity    int
	interval    time.Duration
	duration    time.Duration
	joinRate    float64
	joinTimeout time.Duration
	drain       time.Duration
	textSize    int
	queue       string
	supervisor  bool // a supervisor watches the floor through the run
	// warmup leaves the chats queued within it of the first customer's
	// join out of queued → offer, which reports them apart: a server's
	// first second is not its steady state (cap-joins).
	warmup time.Duration

	restart   bool          // C2: kill the server and start it again mid-run
	killAfter time.Duration // into the steady window
	down      time.Duration // how long the server stays dead
	killNode  int           // with several nodes: the node (1-based) killed and left dead
}

func (c *chatConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.customers, "customers", 200, "customers (K), one chat each")
	fs.IntVar(&c.agents, "agents", 10, "agents (A)")
	fs.IntVar(&c.capacity, "capacity", 25, "chats per agent (C), the queue's capacity")
	fs.DurationVar(&c.interval, "interval", 5*time.Second, "each side of each chat sends a message this often (S)")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "the steady window (T): messages flow this long once every chat is accepted")
	fs.Float64Var(&c.joinRate, "join-rate", 200, "connections opened per second while joining (agents, then customers)")
	fs.DurationVar(&c.joinTimeout, "join-timeout", 2*time.Minute, "how long every chat may take to be accepted")
	fs.DurationVar(&c.drain, "drain", 30*time.Second, "after the window, how long acked messages may take to arrive")
	fs.IntVar(&c.textSize, "text-size", 80, "bytes of each message's text")
	fs.StringVar(&c.queue, "queue", "loadtest", "`key` of the queue the run creates or replaces")
	fs.BoolVar(&c.supervisor, "supervisor", false, "a supervisor (the admin) watches the floor through the run, on the first agent's node")
	fs.DurationVar(&c.warmup, "warmup", 0, "chats queued within this long of the first customer's join are left out of queued → offer and reported apart")
	if c.restart {
		fs.DurationVar(&c.killAfter, "kill-after", 0, "kill the server this long into the steady window (default: half of --duration)")
		fs.DurationVar(&c.down, "down", time.Second, "how long the server stays dead before it is started again (one node)")
		fs.IntVar(&c.killNode, "kill-node", 1, "with --nodes above 1: the `node` killed and left dead (1 holds the customers, the others the agents); its clients move to the others")
	}
}

func (c *chatConfig) check() error {
	switch {
	case c.customers < 1 || c.agents < 1 || c.capacity < 1 || c.capacity > 100:
		return fmt.Errorf("%w: --customers and --agents at least 1, --capacity 1–100", errUsage)
	case c.customers > c.agents*c.capacity:
		return fmt.Errorf("%w: %d customers do not fit %d agents × capacity %d", errUsage, c.customers, c.agents, c.capacity)
	case c.interval <= 0 || c.duration <= 0 || c.joinRate <= 0:
		return fmt.Errorf("%w: --interval, --duration and --join-rate must be above 0", errUsage)
	case c.textSize < 24 || c.textSize > 4000:
		return fmt.Errorf("%w: --text-size 24–4000", errUsage)
	}
	if c.restart {
		if c.killAfter == 0 {
			c.killAfter = c.duration / 2
		}
		if c.killAfter >= c.duration {
			return fmt.Errorf("%w: --kill-after must fall inside --duration", errUsage)
		}
	}
	return nil
}

func chatWorkload(restart bool) workload {
	cfg := &chatConfig{restart: restart}
	summary := "C1 chat: K customers, A agents with capacity C, a message every S both ways for T"
	if restart {
		summary = "C2 chat: C1 with the server killed (SIGKILL) and restarted once; clients resume"
	}
	return workload{
		summary: summary,
		flags:   cfg.register,
		run: func(ctx context.Context, tf *targetFlags, log io.Writer) (*result, error) {
			if err := cfg.check(); err != nil {
				return nil, err
			}
			if restart && tf.url != "" {
				return nil, fmt.Errorf("%w: c2 kills the server, so it must start it: use --parley, not --url", errUsage)
			}
			if restart && tf.nodes > 1 && (cfg.killNode < 1 || cfg.killNode > tf.nodes) {
				return nil, fmt.Errorf("%w: --kill-node %d: the run has nodes 1–%d", errUsage, cfg.killNode, tf.nodes)
			}
			return runChat(ctx, tf, *cfg, log)
		},
	}
}

const agentPassword = "loadtest-agent-pw"

// runChat carries out a C1 or C2 run: seed, join agents, join customers,
// let messages flow for the steady window (killing the server once for
// C2), drain, and report.
func runChat(ctx context.Context, tf *targetFlags, cfg chatConfig, log io.Writer) (res *result, err error) {
	need := uint64(cfg.customers+cfg.agents) + 256
	if tf.url == "" {
		need += uint64(cfg.customers+cfg.agents) + 256 // the server is our child: it shares the limit
	}
	ensureFileLimit(log, need)
	t, err := tf.open(ctx, log)
	if err != nil {
		return nil, err
	}
	failed := true
	defer func() { t.close(failed) }()

	mon := startMonitor(t.sampler(), 250*time.Millisecond)
	defer mon.stop()
	r := newChatRun(cfg)
	kind := "C1"
	if cfg.restart {
		kind = "C2"
	}
	res = newResult(kind, fmt.Sprintf("%s chat: %d customers, %d agents × capacity %d, a message every %s both ways, %s steady",
		kind, cfg.customers, cfg.agents, cfg.capacity, cfg.interval, cfg.duration))

	// Seed: agents and the queue, through the admin API.
	usernames, err := seedAgents(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	idle := mon.begin().end()

	runCtx, stopPeers := context.WithCancel(ctx)
	var peers sync.WaitGroup
	defer func() {
		stopPeers()
		peers.Wait()
	}()
	var watcher *floorWatcher
	if cfg.supervisor {
		if watcher, err = watchFloor(ctx, runCtx, t, &peers); err != nil {
			return nil, fmt.Errorf("supervisor: %w", err)
		}
	}
	// Agents sign in, connect and go available; customers start chats.
	selfJoin0, _ := selfSampler()
	joinWin := mon.begin()
	var agents []*agent
	jp, err := joinPhase{t: t, run: r, usernames: usernames, customers: cfg.customers, queue: cfg.queue,
		rate: cfg.joinRate, timeout: cfg.joinTimeout, log: log,
		agent: func(i int, username, token string, _ int64) *peer {
			a := &agent{run: r, idx: i, username: username, chats: map[int64]*int{}}
			a.p = newPeer(t.agentURLs(i), token, 4096, a, r.peersUp) // 25 chats' events
			agents = append(agents, a)
			return a.p
		},
	}.join(ctx, runCtx, &peers)
	if err != nil {
		return nil, err
	}
	joinWin.end()
	selfJoin1, _ := selfSampler()
	customers, agentsUp, joined := jp.customers, jp.agentsUp, jp.took
	if jp.tokenErr != nil {
		res.fail("visitor tokens: %v", jp.tokenErr)
	}

	// Steady window.
	self0, _ := selfSampler()
	busy0, _ := machineBusy()
	win := mon.begin()
	from := time.Now()
	until := from.Add(cfg.duration)
	sendCtx, stopSends := context.WithCancel(runCtx)
	defer stopSends()
	loops := r.sendLoops(sendCtx, from, until)
	var outage *outage
	switch {
	case cfg.restart && len(t.nodes) > 1:
		outage, err = killNode(ctx, t, r, cfg.killNode, from.Add(cfg.killAfter), cfg.customers+cfg.agents, allPeers(agents, customers), log)
	case cfg.restart:
		outage, err = killAndRestart(ctx, t, r, from.Add(cfg.killAfter), cfg.down, cfg.customers+cfg.agents, log)
	}
	if err != nil {
		return nil, err
	}
	loops.Wait()
	win.end()
	ackedInWindow := r.ledger.ackedCount()
	self1, _ := selfSampler()
	busy1, _ := machineBusy()
	gostats, err := t.scrapeNodes(&http.Client{Timeout: 5 * time.Second}, "go_goroutines", "go_memstats_heap_inuse_bytes")
	if err != nil {
		fmt.Fprintln(log, "warning: no goroutine and heap figures:", err)
	}

	// Drain: every message answered, every acked one received.
	drainStart := time.Now()
	drained := waitFor(ctx, cfg.drain, r.ledger.settled)
	if !drained {
		stopSends() // what is still unanswered fails
	}
	r.sends.Wait()
	waitFor(ctx, time.Second, r.ledger.settled) // the last receipts of late acks
	fmt.Fprintf(log, "drained in %s\n", time.Since(drainStart).Round(time.Millisecond))

	for _, dead := range t.deadNodes() {
		res.fail("the server %s exited during the run", dead)
	}
	report(res, r, cfg, reportInput{
		idle: idle, join: joinWin, steady: win, agentsUp: agentsUp, joined: joined,
		ackedInWindow: ackedInWindow, selfCPU: self1.cpu - self0.cpu, machineCPU: busy1 - busy0, outage: outage, reconnects: reconnects(agents, customers), moved: moved(agents, customers), nodes: t.describe(),
		fromProc: t.proc != nil, goroutines: gostats["go_goroutines"], heapInuse: gostats["go_memstats_heap_inuse_bytes"],
	})
	chatJoinFigures(res, r, cfg, joinWin, selfJoin1.cpu-selfJoin0.cpu)
	if watcher != nil {
		res.add("supervisor.floor pushes", "%d", watcher.pushes.Load())
		floorBus(res, t)
	}
	if tf.url != "" {
		closeChats(ctx, agents) // after the report: these closings are not news
	}
	failed = !res.Pass
	return res, nil
}

// seedAgents creates the run's agents and its queue through the admin API.
func seedAgents(ctx context.Context, t *target, cfg chatConfig) ([]string, error) {
	names, err := createAgents(ctx, t, cfg.agents)
	if err != nil {
		return nil, err
	}
	err = t.api.saveQueue(ctx, t.admin, cfg.queue, map[string]any{
		"name": "Load test", "strategy": "least_busy", "capacity": cfg.capacity,
		"answer_seconds": 120, "members": names,
	})
	if err != nil {
		return nil, fmt.Errorf("create queue %s: %w", cfg.queue, err)
	}
	return names, nil
}

// createAgents creates n agents (lt-agent-0000…, password agentPassword)
// through the admin API; those that exist already are reused.
func createAgents(ctx context.Context, t *target, n int) ([]string, error) {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("lt-agent-%04d", i)
	}
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				errs <- t.api.createUser(ctx, t.admin, names[i], fmt.Sprintf("Load Agent %d", i), "agent", agentPassword)
			}
		}()
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, fmt.Errorf("create agents: %w", err)
		}
	}
	return names, nil
}

// outage is what C2's kill and restart measured.
type outage struct {
	node     string        // with several nodes: the one killed and left dead
	down     time.Duration // kill → healthy again (one node)
	resumed  time.Duration // kill → every connection ready again
	allBack  bool
	restarts int
}

// killAndRestart kills the server at at, starts it again after down, and
// waits until every connection is back and resumed.
func killAndRestart(ctx context.Context, t *target, r *chatRun, at time.Time, down time.Duration, conns int, log io.Writer) (*outage, error) {
	sleepCtx(ctx, time.Until(at))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	o := &outage{}
	fmt.Fprintf(log, "killing the server (SIGKILL) with %d connections up\n", r.up.Load())
	killed := time.Now()
	if err := t.proc.kill(); err != nil {
		return nil, fmt.Errorf("kill the server: %w", err)
	}
	sleepCtx(ctx, down)
	if err := t.proc.start(ctx); err != nil {
		return nil, fmt.Errorf("start the server again: %w", err)
	}
	o.down = time.Since(killed)
	o.restarts = 1
	fmt.Fprintf(log, "server answers /healthz again %s after the kill\n", o.down.Round(time.Millisecond))
	o.allBack = waitFor(ctx, time.Minute, func() bool { return r.up.Load() >= int64(conns) })
	o.resumed = time.Since(killed)
	fmt.Fprintf(log, "%d of %d connections back and resumed %s after the kill\n", r.up.Load(), conns, o.resumed.Round(time.Millisecond))
	return o, nil
}

// killNode kills one of several nodes at at and leaves it dead: every
// client of it connects to another node and resumes there.
func killNode(ctx context.Context, t *target, r *chatRun, number int, at time.Time, conns int, peers func() []*peer, log io.Writer) (*outage, error) {
	i, err := t.nodeIndex(number)
	if err != nil {
		return nil, err
	}
	n := t.nodes[i]
	sleepCtx(ctx, time.Until(at))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	o := &outage{node: n.id}
	fmt.Fprintf(log, "killing node %s (SIGKILL) with %d connections up\n", n.id, r.up.Load())
	killed := time.Now()
	n.killed = true
	if err := n.proc.kill(); err != nil {
		return nil, fmt.Errorf("kill node %s: %w", n.id, err)
	}
	// Back: as many connections ready as before, none of them on the
	// dead node (its clients may not have seen the end yet).
	o.allBack = waitFor(ctx, time.Minute, func() bool {
		if r.up.Load() < int64(conns) {
			return false
		}
		for _, p := range peers() {
			if p.readyOn() == n.ws {
				return false
			}
		}
		return true
	})
	o.resumed = time.Since(killed)
	fmt.Fprintf(log, "%d of %d connections back on the other nodes and resumed %s after the kill\n", r.up.Load(), conns, o.resumed.Round(time.Millisecond))
	return o, nil
}

// waitFor checks cond every 20 ms until it holds or d passes.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

func waitFirstUp(ctx context.Context, p *peer, d time.Duration) error {
	select {
	case <-p.firstUp:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		p.mu.Lock()
		defer p.mu.Unlock()
		return fmt.Errorf("not connected within %s (last error: %v)", d, p.lastErr)
	}
}

// closeChats ends the run's chats on a server that outlives the run.
func closeChats(ctx context.Context, agents []*agent) {
	var wg sync.WaitGroup
	for _, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range a.conversations() {
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				a.p.request(cctx, "chat.close", map[string]any{"conversation_id": id}, 10*time.Second, nil) //nolint:errcheck // best effort
				cancel()
			}
		}()
	}
	wg.Wait()
}

func reconnects(agents []*agent, customers []*customer) int {
	return countPeers(agents, customers, func(p *peer) int { return p.reconnects })
}

// moved counts the connections made on another node than the one before.
func moved(agents []*agent, customers []*customer) int {
	return countPeers(agents, customers, func(p *peer) int { return p.moves })
}

// allPeers lists the run's connections (a customer's once its token came).
func allPeers(agents []*agent, customers []*customer) func() []*peer {
	return func() []*peer {
		out := make([]*peer, 0, len(agents)+len(customers))
		for _, a := range agents {
			out = append(out, a.p)
		}
		for _, c := range customers {
			if p := c.peer(); p != nil {
				out = append(out, p)
			}
		}
		return out
	}
}

func countPeers(agents []*agent, customers []*customer, f func(p *peer) int) int {
	n := 0
	count := func(p *peer) {
		if p == nil {
			return
		}
		p.mu.Lock()
		n += f(p)
		p.mu.Unlock()
	}
	for _, a := range agents {
		count(a.p)
	}
	for _, c := range customers {
		if c != nil {
			count(c.peer())
		}
	}
	return n
}

// clientError is the wire error code of err, if it is one.
func clientError(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

// chatJoinFigures adds the join phase's figures to res: queued → offer, and
// the CPU each joined connection cost the server and the load tester
// (which shares the machine).
func chatJoinFigures(res *result, r *chatRun, cfg chatConfig, join *window, tester time.Duration) {
	conns := float64(max(cfg.customers+cfg.agents, 1))
	offer := r.offerLat.summary()
	res.Figures["offer_p50_ms"] = msf(offer.P50)
	res.Figures["offer_p99_ms"] = msf(offer.P99)
	res.Figures["offer_max_ms"] = msf(offer.Max)
	if cfg.warmup > 0 {
		first := r.offerLatFirst.summary()
		res.Figures["offer_first_p50_ms"] = msf(first.P50)
		res.Figures["offer_first_p99_ms"] = msf(first.P99)
	}
	res.Figures["join_server_cpu_us_conn"] = float64(join.cpu.Microseconds()) / conns
	res.Figures["join_tester_cpu_us_conn"] = float64(tester.Microseconds()) / conns
	res.add("load tester, joins", "%.2f s of CPU to join %d connections = %.0f µs per connection",
		tester.Seconds(), int(conns), float64(tester.Microseconds())/conns)
}
