package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"parley/signaling/client"
)

// cap-idle: idle connections per GiB. Customers start a chat in a queue
// with no agent, so they wait, as a node's "100,000 waiting customers"
// would; signed-in users (agents not taking chats) connect and say hello.
// Then nothing happens: the server's RSS per connection, once settled,
// extrapolated to 1 GiB, is the capacity. There is no search: memory per
// idle connection does not depend on their number past the first
// thousands, so one count is measured and divided.
type capIdleConfig struct {
	customers int
	signedIn  int
	rate      float64
	settle    time.Duration
}

func init() {
	cfg := &capIdleConfig{}
	workloads["cap-idle"] = workload{
		summary: "cap-idle: N customers waiting in a queue with no agent and M signed-in idle users; server RSS per connection, idle connections per GiB",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&cfg.customers, "customers", 10000, "customers who start a chat and wait (no agent takes it)")
			fs.IntVar(&cfg.signedIn, "signed-in", 1000, "signed-in users (agents) connected and idle")
			fs.Float64Var(&cfg.rate, "join-rate", 400, "connections opened per second")
			fs.DurationVar(&cfg.settle, "settle", 5*time.Second, "how long the connections sit idle before the server's memory is read")
		},
		run: func(ctx context.Context, tf *targetFlags, log io.Writer) (*result, error) {
			if cfg.customers < 1 || cfg.signedIn < 0 || cfg.rate <= 0 {
				return nil, fmt.Errorf("%w: --customers at least 1, --signed-in at least 0, --join-rate above 0", errUsage)
			}
			return runCapIdle(ctx, tf, *cfg, log)
		},
	}
}

func runCapIdle(ctx context.Context, tf *targetFlags, cfg capIdleConfig, log io.Writer) (*result, error) {
	ensureFileLimit(log, 2*uint64(cfg.customers+cfg.signedIn)+512)
	t, err := tf.open(ctx, log)
	if err != nil {
		return nil, err
	}
	failed := true
	defer func() { t.close(failed) }()
	mon := startMonitor(t.sampler(), 250*time.Millisecond)
	defer mon.stop()

	res := newResult("cap-idle", fmt.Sprintf("cap-idle: %d customers waiting in a queue with no agent, %d signed-in idle users", cfg.customers, cfg.signedIn))
	const queue = "loadtest-idle"
	if err := t.api.saveQueue(ctx, t.admin, queue, map[string]any{
		"name": "Idle load test", "strategy": "least_busy", "capacity": 1, "members": []string{},
	}); err != nil {
		return nil, fmt.Errorf("create queue %s: %w", queue, err)
	}
	names, err := createAgents(ctx, t, cfg.signedIn)
	if err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // let the server's start-up garbage be collected before the baseline
	idle := mon.begin().end()

	// Every connection runs until runCtx ends; each drains its events so
	// that none of them counts as a slow consumer.
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	var up, failures atomic.Int64
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		failures.Add(1)
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	hold := func(cl *client.Client) {
		up.Add(1)
		go func() {
			for range cl.Events() {
			}
		}()
		<-runCtx.Done()
		cl.Close()
	}
	second := byte(10 + 2*rand.IntN(100))
	agentSrc := sources{second: second + 1, perAddr: 5}
	custSrc := sources{second: second, perAddr: 50}
	pace := time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
	defer pace.Stop()
	joinWin := mon.begin()
	start := time.Now()
	open := func(i int, dial func() (*client.Client, error)) {
		select {
		case <-ctx.Done():
			return
		case <-pace.C:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := dial()
			if err != nil {
				fail(err)
				return
			}
			hold(cl)
		}()
	}
	for i, name := range names {
		open(i, func() (*client.Client, error) {
			tok, _, err := t.api.signIn(runCtx, agentSrc.addr(i), name, agentPassword)
			if err != nil {
				return nil, fmt.Errorf("agent %s signs in: %w", name, err)
			}
			cl, _, err := client.Connect(runCtx, t.ws, client.Options{Token: tok, Events: 16})
			return cl, err
		})
	}
	for i := range cfg.customers {
		open(i, func() (*client.Client, error) {
			tok, err := t.api.visitor(runCtx, custSrc.addr(i), queue)
			if err != nil {
				return nil, fmt.Errorf("visitor token: %w", err)
			}
			cl, _, err := client.Connect(runCtx, t.ws, client.Options{Token: tok, Events: 16})
			if err != nil {
				return nil, err
			}
			rctx, cancel := context.WithTimeout(runCtx, 30*time.Second)
			defer cancel()
			raw, err := cl.Request(rctx, "chat.start", map[string]any{"name": fmt.Sprintf("Idle customer %d", i)})
			if err == nil {
				var ans struct {
					Conversation struct {
						State string `json:"state"`
					} `json:"conversation"`
				}
				if err = json.Unmarshal(raw, &ans); err == nil && ans.Conversation.State != "queued" {
					err = fmt.Errorf("chat.start: the chat is %q, not queued", ans.Conversation.State)
				}
			}
			if err != nil {
				cl.Close()
				return nil, err
			}
			return cl, nil
		})
	}
	want := int64(cfg.customers + cfg.signedIn)
	waitFor(ctx, 60*time.Second, func() bool { return up.Load()+failures.Load() >= want })
	joined := time.Since(start)
	joinWin.end()
	fmt.Fprintf(log, "%d connections up (%d failed) in %s\n", up.Load(), failures.Load(), joined.Round(time.Millisecond))
	if n := failures.Load(); n > 0 {
		res.fail("%d connections failed; the first: %v", n, firstErr)
	}

	// The sign-ins' and visitor tokens' HTTP connections are not
	// websockets: closed, so that the server's memory per idle websocket
	// does not count their keep-alive state (a goroutine and two 4 KiB
	// buffers each), which its idle timeout would drop anyway.
	t.api.closeIdle()

	// Idle: nothing is sent. The last second of the settle is the reading.
	sleepCtx(ctx, cfg.settle)
	win := mon.begin()
	sleepCtx(ctx, time.Second)
	win.end()
	gostats, err := t.scrapeNodes(&http.Client{Timeout: 5 * time.Second}, "go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes")
	if err != nil {
		fmt.Fprintln(log, "warning: no goroutine and heap figures:", err)
	}
	for _, dead := range t.deadNodes() {
		res.fail("the server %s exited during the run", dead)
	}

	conns := up.Load()
	perConn := float64(win.endRSS-idle.endRSS) / float64(max(conns, 1))
	perGiB := float64(1<<30) / max(perConn, 1)
	heapIdle := gostats["go_memstats_heap_inuse_bytes"]
	res.add("connections", "%d up (%d waiting customers, %d signed-in), opened in %s", conns, cfg.customers, cfg.signedIn, joined.Round(time.Millisecond))
	res.add("server CPU while joining", "%.1f s over %s (%.0f µs per connection)", joinWin.cpu.Seconds(), joinWin.wall.Round(time.Millisecond),
		float64(joinWin.cpu.Microseconds())/float64(max(conns, 1)))
	res.add("server RSS", "%s before, %s with the connections idle: %s per connection", mb(idle.endRSS), mb(win.endRSS), kb(perConn))
	if heapIdle > 0 {
		res.add("server heap in use", "%s (%s per connection, start-up included)", mb(int64(heapIdle)), kb(heapIdle/float64(max(conns, 1))))
	}
	if g := gostats["go_goroutines"]; g > 0 {
		res.add("server goroutines", "%.0f (%.2f per connection), stacks %s", g, g/float64(max(conns, 1)),
			mb(int64(gostats["go_memstats_stack_inuse_bytes"])))
	}
	res.add("capacity", "%.0f idle connections per GiB of server RSS", perGiB)
	res.Summary = fmt.Sprintf("%.0f idle connections per GiB (%s RSS each; %d customers waiting in a queue, %d signed-in, idle %s)",
		perGiB, kb(perConn), cfg.customers, cfg.signedIn, cfg.settle)
	res.Figures["capacity"] = perGiB
	res.Figures["rss_per_conn_kib"] = perConn / 1024
	res.Figures["connections"] = float64(conns)
	if g := gostats["go_goroutines"]; g > 0 {
		res.Figures["goroutines_per_conn"] = g / float64(max(conns, 1))
	}
	failed = !res.Pass
	return res, nil
}
