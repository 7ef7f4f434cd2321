package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// joinPhase is what C1, C2 and T1 do before their window: the agents sign
// in (five from each address), connect and go available, then the
// customers each take a visitor token (fifty from each address), connect
// and start a chat, all paced at rate a second, until the first chat is
// accepted by everyone or the timeout.
type joinPhase struct {
	t         *target
	run       *chatRun
	usernames []string
	customers int
	queue     string        // the customers' queue
	rate      float64       // joins a second
	timeout   time.Duration // for the agents to be up, and for every chat to be accepted
	log       io.Writer
	// agent makes agent i's client once it has signed in (its token, its
	// user id).
	agent func(i int, username, token string, id int64) *peer
}

// joined is what a join phase left: its customers, how long the agents
// took to be up and the customers to be accepted, and the last error a
// visitor token gave.
type joined struct {
	customers []*customer
	agentsUp  time.Duration
	took      time.Duration
	tokenErr  error
}

// join runs the phase. Its clients run on runCtx, each counted in peers,
// until runCtx ends; ctx bounds the phase itself.
func (j joinPhase) join(ctx, runCtx context.Context, peers *sync.WaitGroup) (joined, error) {
	var out joined
	pace := time.NewTicker(time.Duration(float64(time.Second) / j.rate))
	defer pace.Stop()
	second := byte(10 + 2*rand.IntN(100))

	start := time.Now()
	agentSrc := sources{second: second + 1, perAddr: 5}
	agents := make([]*peer, len(j.usernames))
	for i, name := range j.usernames {
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-pace.C:
		}
		tok, id, err := j.t.api.signIn(ctx, agentSrc.addr(i), name, agentPassword)
		if err != nil {
			return out, fmt.Errorf("agent %s signs in: %w", name, err)
		}
		p := j.agent(i, name, tok, id)
		agents[i] = p
		peers.Add(1)
		go func() { defer peers.Done(); p.run(runCtx) }()
	}
	for i, p := range agents {
		if err := waitFirstUp(ctx, p, j.timeout); err != nil {
			return out, fmt.Errorf("agent %s: %w", j.usernames[i], err)
		}
	}
	out.agentsUp = time.Since(start)
	fmt.Fprintf(j.log, "agents: %d online in %s\n", len(agents), out.agentsUp.Round(time.Millisecond))

	custSrc := sources{second: second, perAddr: 50}
	out.customers = make([]*customer, j.customers)
	start = time.Now()
	j.run.measureFrom.Store(start.Add(j.run.cfg.warmup).UnixNano())
	var tokenMu sync.Mutex
	for i := range out.customers {
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-pace.C:
		}
		c := &customer{run: j.run, idx: i, name: fmt.Sprintf("%s Customer %d", j.run.tag, i)}
		out.customers[i] = c
		peers.Add(1)
		go func() {
			defer peers.Done()
			tok, err := j.t.api.visitor(runCtx, custSrc.addr(i), j.queue)
			if err != nil {
				tokenMu.Lock()
				out.tokenErr = err
				tokenMu.Unlock()
				return
			}
			p := newPeer(j.t.customerURLs(i), tok, 256, c, j.run.peersUp)
			c.setPeer(p)
			p.run(runCtx)
		}()
	}
	select {
	case <-j.run.acceptedCh:
	case <-ctx.Done():
		return out, ctx.Err()
	case <-time.After(j.timeout):
	}
	out.took = time.Since(start)
	fmt.Fprintf(j.log, "customers: %d of %d accepted in %s\n", j.run.accepted.Load(), j.customers, out.took.Round(time.Millisecond))
	tokenMu.Lock()
	defer tokenMu.Unlock()
	return out, nil
}
