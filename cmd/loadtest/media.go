package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// The media workloads (W1 livestream, W3 audio, W4 contact center) put
// synthetic Pion publishers and subscribers in rooms over room.* and rtc.*
// (media_peer.go, media_send.go), pace their joins, hold a steady window,
// and report tracks, loss, added forwarding latency, join times and the
// server's CPU per forwarded packet (media_report.go).

// mediaConfig is the shape of a media run.
type mediaConfig struct {
	shape       string // "W1", "W2", "W3", "W4"
	subscribers int    // W1, W3
	publishers  int    // W3
	rooms       int    // W4
	joinRate    float64
	duration    time.Duration
	joinTimeout time.Duration
	maxLoss     float64 // percent
}

func (c *mediaConfig) register(fs *flag.FlagSet) {
	switch c.shape {
	case "W1":
		fs.IntVar(&c.subscribers, "subscribers", 10, "subscribers of the publisher's high layer (N)")
	case "W3":
		fs.IntVar(&c.publishers, "publishers", 10, "audio publishers")
		fs.IntVar(&c.subscribers, "subscribers", 10, "receive-only subscribers of every publisher")
	case "W4":
		fs.IntVar(&c.rooms, "rooms", 5, "conversation rooms (R), each an agent, a customer and a supervisor")
	}
	fs.Float64Var(&c.joinRate, "join-rate", 10, "participants joining per second")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "the steady window, once every track arrives")
	fs.DurationVar(&c.joinTimeout, "join-timeout", 20*time.Second, "how long every expected track may take to arrive after the last join")
	fs.Float64Var(&c.maxLoss, "max-loss", 1, "fail when more than this `percent` of forwarded packets is lost")
}

func (c *mediaConfig) check() error {
	switch {
	case c.joinRate <= 0 || c.duration <= 0 || c.joinTimeout <= 0:
		return fmt.Errorf("%w: --join-rate, --duration and --join-timeout must be above 0", errUsage)
	case c.shape == "W1" && c.subscribers < 1,
		c.shape == "W3" && (c.publishers < 1 || c.subscribers < 0 || c.publishers > 50),
		c.shape == "W4" && c.rooms < 1:
		return fmt.Errorf("%w: at least one subscriber, publisher or room", errUsage)
	}
	return nil
}

// mediaWorkload is the media workload of a shape ("W1"…"W4").
func mediaWorkload(shape, summary string) workload {
	cfg := &mediaConfig{shape: shape}
	return workload{
		summary: summary,
		flags:   cfg.register,
		run: func(ctx context.Context, tf *targetFlags, log io.Writer) (*result, error) {
			if err := cfg.check(); err != nil {
				return nil, err
			}
			return runMedia(ctx, tf, *cfg, log)
		},
	}
}

// mediaRun is one run's participants and counters.
type mediaRun struct {
	cfg   mediaConfig
	t     *target
	log   io.Writer
	stats mediaStats
	pace  *time.Ticker
	src   sources

	mu    sync.Mutex
	peers []*mediaPeer
	timed []*mediaPeer // peers whose join time counts: they joined a room already sending
	subs  []*mediaPeer // W1: the high layer's subscribers
	// closers end what is not a peer (the conference creator's socket).
	closers []func()
}

func (r *mediaRun) add(p *mediaPeer, timed bool) {
	r.mu.Lock()
	r.peers = append(r.peers, p)
	if timed {
		r.timed = append(r.timed, p)
	}
	r.mu.Unlock()
}

// paced waits for the next join slot.
func (r *mediaRun) paced(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.pace.C:
		return nil
	}
}

// runMedia carries out a media run: start the server, fill the rooms at
// the join rate, wait for every track, hold the steady window, report.
func runMedia(ctx context.Context, tf *targetFlags, cfg mediaConfig, log io.Writer) (*result, error) {
	t, err := tf.open(ctx, log)
	if err != nil {
		return nil, err
	}
	failed := true
	defer func() { t.close(failed) }()
	mon := startMonitor(t.sampler(), 250*time.Millisecond)
	defer mon.stop()
	idle := mon.begin().end()
	// With several nodes each is watched too: the forwarding is the room's
	// node's work, the signaling relayed over NATS the others'.
	var nodeMons []*monitor
	if len(t.nodes) > 1 {
		for _, n := range t.nodes {
			m := startMonitor(n.sampler(), 250*time.Millisecond)
			defer m.stop()
			nodeMons = append(nodeMons, m)
		}
	}

	r := &mediaRun{cfg: cfg, t: t, log: log,
		pace: time.NewTicker(time.Duration(float64(time.Second) / cfg.joinRate)),
		src:  sources{second: byte(10 + 2*rand.IntN(100)), perAddr: 5}}
	defer r.pace.Stop()
	sendCtx, stopSending := context.WithCancel(ctx)
	defer func() {
		stopSending()
		r.closeAll()
	}()

	joinWin := mon.begin()
	joinStart := time.Now()
	switch cfg.shape {
	case "W1":
		err = r.livestream(ctx, sendCtx)
	case "W2":
		err = r.meeting(ctx, sendCtx)
	case "W3":
		err = r.audio(ctx, sendCtx)
	case "W4":
		err = r.contactCenter(ctx, sendCtx)
	}
	if err != nil {
		return nil, err
	}
	joined := time.Since(joinStart)
	allIn := waitFor(ctx, cfg.joinTimeout, r.allReceiving)
	switch cfg.shape {
	case "W1":
		// The subscribers start on what the bandwidth estimate allows
		// and climb; the window measures them on the high layer.
		waitFor(ctx, cfg.joinTimeout, r.allHigh)
	case "W2":
		if err := r.speakerLayout(ctx); err != nil {
			return nil, err
		}
		waitFor(ctx, cfg.joinTimeout, r.onLayout)
	}
	joinWin.end()
	fmt.Fprintf(log, "%d participants joined in %s; every track arriving: %v after %s\n",
		len(r.peers), joined.Round(time.Millisecond), allIn, time.Since(joinStart).Round(time.Millisecond))

	self0, _ := selfSampler()
	sent0 := r.stats.sent.packets.Load()
	win := mon.begin()
	nodeWins := make([]*window, len(nodeMons))
	for i, m := range nodeMons {
		nodeWins[i] = m.begin()
	}
	r.stats.measuring.Store(true)
	sleepCtx(ctx, cfg.duration)
	r.stats.measuring.Store(false)
	win.end()
	for _, w := range nodeWins {
		w.end()
	}
	self1, _ := selfSampler()
	sentWin := r.stats.sent.packets.Load() - sent0
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	in := reportMedia{idle: idle, join: joinWin, steady: win, selfCPU: self1.cpu - self0.cpu, sentWindow: sentWin, fromProc: t.proc != nil}
	if len(nodeWins) > 0 {
		k, how := r.roomNode()
		in.roomNode, in.roomNodeHow = t.nodes[k].id, how
		in.steady = nodeWins[k]
		for i, w := range nodeWins {
			if i != k {
				in.otherNodes += w.cpu
			}
		}
	}
	res := r.report(in)
	failed = !res.Pass
	return res, nil
}

// roomNode finds the node whose SFU the room is on: the one whose media
// port the first publisher's up connection reached (its selected ICE
// pair). Without the nodes' ports (--url), or before the rooms of several
// nodes, it says so and takes the first node.
func (r *mediaRun) roomNode() (int, string) {
	r.mu.Lock()
	peers := r.peers
	r.mu.Unlock()
	for _, p := range peers {
		if p.up == nil {
			continue
		}
		for _, s := range p.up.GetSenders() {
			tr := s.Transport()
			if tr == nil {
				continue
			}
			pair, err := tr.ICETransport().GetSelectedCandidatePair()
			if err != nil || pair == nil {
				continue
			}
			for i, n := range r.t.nodes {
				if slices.Contains(n.media, int(pair.Remote.Port)) {
					return i, fmt.Sprintf("the publisher's media reached its port %d", pair.Remote.Port)
				}
			}
		}
	}
	return 0, "not found from the publisher's media: taken as the first node"
}

// closeAll ends every participant, in parallel.
func (r *mediaRun) closeAll() {
	r.mu.Lock()
	peers, closers := r.peers, r.closers
	r.peers, r.closers = nil, nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() { defer wg.Done(); p.close() }()
	}
	wg.Wait()
	for _, c := range closers {
		c()
	}
}

func (r *mediaRun) allReceiving() bool {
	r.mu.Lock()
	peers := r.peers
	r.mu.Unlock()
	for _, p := range peers {
		if ok, _ := p.complete(); !ok {
			return false
		}
	}
	return true
}

func (r *mediaRun) allHigh() bool {
	r.mu.Lock()
	subs := r.subs
	r.mu.Unlock()
	for _, p := range subs {
		ts := p.tracks()
		if len(ts) == 0 || ts[0].layer.Load() != 2 {
			return false
		}
	}
	return true
}
