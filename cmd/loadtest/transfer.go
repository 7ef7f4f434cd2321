package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// The transfer workload (T1): customers keep sending, one message a second
// each, while their chats are handed on, one transfer after another, from
// the agent who has the chat to another agent (an offer of kind transfer,
// which that agent accepts) or to a queue (the chat waits there and the
// router offers it again). Each transfer is timed from the chat.transfer
// request to the accept answer of the agent who then has the chat. After
// the run every customer message must be in its conversation's transcript
// exactly once, and in the view of the agent who ends up with the chat
// (its accept answer and the live events after it, each seq once) exactly
// once: nothing sent during a hand-over may be lost or doubled.

// transferConfig is the shape of a T1 run.
type transferConfig struct {
	customers       int
	agents          int
	capacity        int
	transfers       int
	rate            float64
	toQueue         float64
	interval        time.Duration
	handover        int
	settle          time.Duration
	joinRate        float64
	joinTimeout     time.Duration
	transferTimeout time.Duration
	drain           time.Duration
	textSize        int
	queue           string
}

func (c *transferConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.customers, "customers", 100, "customers (K), one chat each, each sending a message every --interval")
	fs.IntVar(&c.agents, "agents", 10, "agents (A), members of both queues")
	fs.IntVar(&c.capacity, "capacity", 25, "chats per agent (C), both queues' capacity")
	fs.IntVar(&c.transfers, "transfers", 200, "transfers (N), spread over the chats in turn")
	fs.Float64Var(&c.rate, "rate", 5, "transfers started per second")
	fs.Float64Var(&c.toQueue, "to-queue", 0.5, "the share of transfers made to a queue (the other queue); the rest go to the least busy other agent")
	fs.DurationVar(&c.interval, "interval", time.Second, "each customer sends a message this often, from the first transfer until --settle after the last")
	fs.IntVar(&c.handover, "handover-messages", 1, "messages the customer also sends at the moment its chat's transfer is requested, to race the hand-over")
	fs.DurationVar(&c.settle, "settle", 3*time.Second, "customers go on sending this long after the last transfer is done")
	fs.Float64Var(&c.joinRate, "join-rate", 200, "connections opened per second while joining (agents, then customers)")
	fs.DurationVar(&c.joinTimeout, "join-timeout", 2*time.Minute, "how long every chat may take to be accepted")
	fs.DurationVar(&c.transferTimeout, "transfer-timeout", 30*time.Second, "how long a transfer may take from its request to the new agent's accept (then it fails)")
	fs.DurationVar(&c.drain, "drain", 30*time.Second, "after the sending stops, how long messages may take to reach the agent who has the chat")
	fs.IntVar(&c.textSize, "text-size", 80, "bytes of each message's text")
	fs.StringVar(&c.queue, "queue", "loadtest-transfer", "`key` of the queue the chats start in; the run creates or replaces it and KEY-2, the other queue")
}

func (c *transferConfig) check() error {
	switch {
	case c.customers < 1 || c.agents < 2 || c.capacity < 1 || c.capacity > 100:
		return fmt.Errorf("%w: --customers at least 1, --agents at least 2, --capacity 1–100", errUsage)
	case c.customers >= (c.agents-1)*c.capacity:
		return fmt.Errorf("%w: %d customers do not fit %d agents × capacity %d with room left for a transfer (fewer than (A−1)×C)",
			errUsage, c.customers, c.agents, c.capacity)
	case c.transfers < 1 || c.rate <= 0 || c.toQueue < 0 || c.toQueue > 1:
		return fmt.Errorf("%w: --transfers at least 1, --rate above 0, --to-queue 0–1", errUsage)
	case c.interval <= 0 || c.joinRate <= 0 || c.transferTimeout <= 0 || c.settle < 0 || c.drain < 0 || c.handover < 0 || c.handover > 10:
		return fmt.Errorf("%w: --interval, --join-rate and --transfer-timeout must be above 0, --handover-messages 0–10", errUsage)
	case c.textSize < 48 || c.textSize > 4000:
		return fmt.Errorf("%w: --text-size 48–4000 (the text carries its client id)", errUsage)
	}
	return nil
}

func transferWorkload() workload {
	cfg := &transferConfig{}
	return workload{
		summary: "T1 transfer: K customers send a message a second while N transfers hand their chats between agents and queues",
		flags:   cfg.register,
		run: func(ctx context.Context, tf *targetFlags, log io.Writer) (*result, error) {
			if err := cfg.check(); err != nil {
				return nil, err
			}
			return runTransfer(ctx, tf, *cfg, log)
		},
	}
}

// runTransfer carries out a T1 run: seed agents and two queues, join the
// agents and the customers, then transfer while the customers send, drain,
// read every transcript and report.
func runTransfer(ctx context.Context, tf *targetFlags, cfg transferConfig, log io.Writer) (res *result, err error) {
	ensureFileLimit(log, 2*uint64(cfg.customers+cfg.agents)+512)
	t, err := tf.open(ctx, log)
	if err != nil {
		return nil, err
	}
	failed := true
	defer func() { t.close(failed) }()
	mon := startMonitor(t.sampler(), 250*time.Millisecond)
	defer mon.stop()

	res = newResult("T1", fmt.Sprintf("T1 transfer: %d transfers (%.0f %% to a queue) of %d chats, %d agents × capacity %d, customers sending every %s",
		cfg.transfers, 100*cfg.toQueue, cfg.customers, cfg.agents, cfg.capacity, cfg.interval))
	x := newTransferRun(cfg)

	usernames, err := createAgents(ctx, t, cfg.agents)
	if err != nil {
		return nil, err
	}
	for i, key := range []string{cfg.queue, cfg.queue + "-2"} {
		id, err := t.api.saveQueueID(ctx, t.admin, key, map[string]any{
			"name": fmt.Sprintf("Load transfer %d", i+1), "strategy": "least_busy", "capacity": cfg.capacity,
			"answer_seconds": 60, "members": usernames,
		})
		if err != nil {
			return nil, fmt.Errorf("create queue %s: %w", key, err)
		}
		x.queues[i] = id
	}

	runCtx, stopPeers := context.WithCancel(ctx)
	var peers sync.WaitGroup
	defer func() {
		stopPeers()
		peers.Wait()
	}()
	// Agents sign in, connect and go available; customers start chats in
	// the first queue.
	jp, err := joinPhase{t: t, run: x.chat, usernames: usernames, customers: cfg.customers, queue: cfg.queue,
		rate: cfg.joinRate, timeout: cfg.joinTimeout, log: log,
		agent: func(i int, username, token string, id int64) *peer {
			d := &desk{x: x, idx: i, id: id, username: username, views: map[int64]*view{}}
			d.p = newPeer(t.agentURLs(i), token, 4096, d, x.chat.peersUp)
			x.desks = append(x.desks, d)
			return d.p
		},
	}.join(ctx, runCtx, &peers)
	if err != nil {
		return nil, err
	}
	customers, agentsUp, joined := jp.customers, jp.agentsUp, jp.took
	accepted := int(x.chat.accepted.Load())
	if jp.tokenErr != nil {
		res.fail("visitor tokens: %v", jp.tokenErr)
	}
	// The customer may see its chat accepted before the agent has the answer.
	waitFor(ctx, 10*time.Second, func() bool { return len(x.readyChats(customers)) >= accepted })
	convs := x.readyChats(customers)
	if len(convs) == 0 {
		res.fail("no chat was accepted within %s", cfg.joinTimeout)
		failed = true
		return res, nil
	}

	// The window: customers send; transfers are started at --rate, each on
	// the next chat (in turn) that has none under way.
	self0, _ := selfSampler()
	busy0, _ := machineBusy()
	win := mon.begin()
	stopSending := make(chan struct{})
	sendCtx, stopSends := context.WithCancel(runCtx) // cancelled: what is unanswered fails
	defer stopSends()
	var loops sync.WaitGroup
	for _, c := range customers {
		if conv := c.conversation(); convs[conv] {
			loops.Add(1)
			go func() { defer loops.Done(); x.sendLoop(sendCtx, c, conv, stopSending) }()
		}
	}
	order := make([]int64, 0, len(convs))
	for _, c := range customers {
		if conv := c.conversation(); convs[conv] {
			order = append(order, conv)
			x.customerOf[conv] = c
		}
	}
	fmt.Fprintf(log, "transferring: %d transfers at %.0f/s over %d chats\n", cfg.transfers, cfg.rate, len(order))
	x.runTransfers(sendCtx, order)
	fmt.Fprintf(log, "transfers: %d done, %d refused, %d timed out\n", x.doneCount(), x.refusedCount(), x.timedOutCount())
	sleepCtx(ctx, cfg.settle)
	close(stopSending)
	loops.Wait()
	win.end()
	self1, _ := selfSampler()
	busy1, _ := machineBusy()

	// Drain: every message answered and in the view of the agent who has
	// its chat.
	drainStart := time.Now()
	if !waitFor(ctx, cfg.drain, x.settled) {
		stopSends()
	}
	x.sends.Wait()
	waitFor(ctx, time.Second, x.settled)
	fmt.Fprintf(log, "drained in %s\n", time.Since(drainStart).Round(time.Millisecond))

	// Every transcript, as staff.
	transcripts, terr := readTranscripts(ctx, t, order)
	if terr != nil {
		res.fail("reading the transcripts: %v", terr)
	}
	v := x.verify(transcripts)

	for _, dead := range t.deadNodes() {
		res.fail("the server %s exited during the run", dead)
	}
	x.report(res, v, transferInput{
		agentsUp: agentsUp, joined: joined, accepted: accepted, window: win,
		selfCPU: self1.cpu - self0.cpu, machineCPU: busy1 - busy0, fromProc: t.proc != nil,
	})
	if tf.url != "" {
		x.closeChats(ctx)
	}
	failed = !res.Pass
	return res, nil
}

// readTranscripts reads each conversation's transcript over HTTP as the
// admin (staff: every event, private ones included), eight at a time.
func readTranscripts(ctx context.Context, t *target, convs []int64) (map[int64][]wireEvent, error) {
	out := make(map[int64][]wireEvent, len(convs))
	var mu sync.Mutex
	var firstErr error
	work := make(chan int64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for conv := range work {
				var tr withEvents
				err := t.api.transcript(ctx, t.admin, conv, &tr)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("conversation %d: %w", conv, err)
				}
				if err == nil {
					out[conv] = tr.Events
				}
				mu.Unlock()
			}
		}()
	}
	for _, conv := range convs {
		work <- conv
	}
	close(work)
	wg.Wait()
	return out, firstErr
}

// transferNext says, for the i-th transfer, whether it goes to a queue: the
// share toQueue of them, spread evenly (0.5: every other one).
func transferNext(i int, toQueue float64) bool {
	return int(float64(i+1)*toQueue) > int(float64(i)*toQueue)
}

// runTransfers starts cfg.transfers transfers at cfg.rate, each on the next
// chat of order that has none under way, and waits for all of them.
func (x *transferRun) runTransfers(ctx context.Context, order []int64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / x.cfg.rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	next := 0
	for i := 0; i < x.cfg.transfers; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		conv := int64(0)
		for tries := 0; tries < len(order); tries++ {
			c := order[next%len(order)]
			next++
			if !x.busy(c) {
				conv = c
				break
			}
		}
		if conv == 0 {
			x.skip() // every chat has a transfer under way
			continue
		}
		t := x.prepare(conv, transferNext(i, x.cfg.toQueue))
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.transfer(ctx, t)
		}()
	}
	wg.Wait()
}

// sendLoop sends the customer's messages, one every interval from a
// random phase, until stop closes.
func (x *transferRun) sendLoop(ctx context.Context, c *customer, conv int64, stop <-chan struct{}) {
	at := time.Now().Add(rand.N(x.cfg.interval))
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	for n := 1; ; n++ {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		x.sends.Add(1)
		go x.send(ctx, c.peer(), conv, fmt.Sprintf("c%d-%d", c.idx, n))
		at = at.Add(x.cfg.interval)
		timer.Reset(time.Until(at))
	}
}

// closeChats ends the run's chats on a server that outlives the run.
func (x *transferRun) closeChats(ctx context.Context) {
	x.mu.Lock()
	held := make(map[int64]*desk, len(x.holder))
	for conv, d := range x.holder {
		held[conv] = d
	}
	x.mu.Unlock()
	var wg sync.WaitGroup
	for conv, d := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			d.p.request(cctx, "chat.close", map[string]any{"conversation_id": conv}, 10*time.Second, nil) //nolint:errcheck // best effort
		}()
	}
	wg.Wait()
}
