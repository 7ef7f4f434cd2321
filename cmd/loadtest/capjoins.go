package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The cap-joins workload: how many new chats a second one node routes
// while its agents have room, with queued → offer p99 under a limit. It
// is a coarse search: C1's join phase at each rate of a rising list, on a
// fresh server each time, until a rate misses the limit (or a chat is
// never accepted); the capacity is the last rate that met it. Each step
// joins for --warmup before the measured --seconds, at the same rate: the
// chats of that first second meet a server that has just started, with
// its agents signed in a moment before (new pool connections, plans made
// on cold caches, the agents' own first requests), and say how a node
// does after a restart, not what it carries. They are reported apart.

func init() {
	cfg := &capJoinsConfig{}
	workloads["cap-joins"] = workload{
		summary: "capacity: new chats a second one node routes with queued → offer p99 under the limit (a search over join rates)",
		flags:   cfg.register,
		run: func(ctx context.Context, tf *targetFlags, log io.Writer) (*result, error) {
			if err := cfg.check(); err != nil {
				return nil, err
			}
			return runCapJoins(ctx, tf, *cfg, log)
		},
	}
}

type capJoinsConfig struct {
	rates    string        // comma-separated, rising
	seconds  float64       // how long each step joins at its rate, measured
	warmup   time.Duration // joins at the step's rate before the measured ones
	agents   int           // with room for every chat of a step
	capacity int           // chats per agent
	limit    time.Duration // queued → offer p99 a rate must stay under
	watch    bool          // a supervisor watches the floor in each step
	rateList []float64
}

func (c *capJoinsConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.rates, "rates", "100,200,400,700,1000", "join `rates` tried, rising, comma-separated (new chats a second)")
	fs.Float64Var(&c.seconds, "seconds", 4, "how long each step joins customers at its rate, measured")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "each step first joins customers at its rate this long, reported apart (a fresh server's first second)")
	fs.IntVar(&c.agents, "agents", 200, "agents, available from the start")
	fs.IntVar(&c.capacity, "capacity", 25, "chats per agent: agents × capacity must hold every chat of the fastest step")
	fs.DurationVar(&c.limit, "limit", 100*time.Millisecond, "queued → offer p99 a rate must stay under")
	fs.BoolVar(&c.watch, "supervisor", false, "a supervisor (the admin) watches the floor in each step")
}

func (c *capJoinsConfig) check() error {
	c.rateList = nil
	last := 0.0
	for _, f := range strings.Split(c.rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= last {
			return fmt.Errorf("%w: --rates must be rising numbers above 0", errUsage)
		}
		c.rateList = append(c.rateList, r)
		last = r
	}
	switch {
	case c.seconds <= 0 || c.limit <= 0 || c.warmup < 0:
		return fmt.Errorf("%w: --seconds and --limit must be above 0, --warmup not below", errUsage)
	case c.customers(last) > c.agents*c.capacity:
		return fmt.Errorf("%w: %d agents × capacity %d do not hold the %d chats of the %.0f/s step",
			errUsage, c.agents, c.capacity, c.customers(last), last)
	}
	return nil
}

func (c *capJoinsConfig) customers(rate float64) int {
	return max(1, int(rate*(c.seconds+c.warmup.Seconds())))
}

// joinStep is one join rate tried.
type joinStep struct {
	rate      float64
	customers int
	p50, p99  float64 // queued → offer, ms
	firstP99  float64 // queued → offer of the warm-up's chats, ms
	serverUS  float64 // server CPU per joined connection, µs
	testerUS  float64 // load tester CPU per joined connection, µs
	pass      bool
	why       string
}

func runCapJoins(ctx context.Context, tf *targetFlags, cfg capJoinsConfig, log io.Writer) (*result, error) {
	if tf.url != "" {
		return nil, fmt.Errorf("%w: cap-joins starts a fresh server for each rate: use --parley, not --url", errUsage)
	}
	res := newResult("cap-joins", fmt.Sprintf("cap-joins: new chats a second on one node with queued → offer p99 under %s, %d agents × capacity %d",
		cfg.limit, cfg.agents, cfg.capacity))
	var steps []joinStep
	best := 0.0
	for _, rate := range cfg.rateList {
		s, err := capJoinStep(ctx, tf, cfg, rate, log)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
		fmt.Fprintf(log, "cap-joins: %.0f/s: queued → offer p50 %.1f ms p99 %.1f ms, %.0f µs server CPU per connection: %s\n",
			rate, s.p50, s.p99, s.serverUS, verdict(s))
		if !s.pass {
			break
		}
		best = rate
	}
	for _, s := range steps {
		res.add(fmt.Sprintf("%.0f/s", s.rate), "%d chats: queued → offer p50 %.1f ms p99 %.1f ms (the first %s's: p99 %.1f ms); server CPU %.0f µs, load tester %.0f µs per connection; %s",
			s.customers, s.p50, s.p99, cfg.warmup, s.firstP99, s.serverUS, s.testerUS, verdict(s))
		res.Figures[fmt.Sprintf("p99_ms_at_%.0f", s.rate)] = s.p99
		res.Figures[fmt.Sprintf("first_p99_ms_at_%.0f", s.rate)] = s.firstP99
		res.Figures[fmt.Sprintf("server_cpu_us_conn_at_%.0f", s.rate)] = s.serverUS
	}
	res.Figures["capacity"] = best
	res.Figures["limit_ms"] = msf(cfg.limit)
	last := steps[len(steps)-1]
	switch {
	case best == 0:
		res.Summary = fmt.Sprintf("new chats: none of %s/s kept queued → offer p99 under %s on one node (%.0f/s: p99 %.0f ms)",
			cfg.rates, cfg.limit, last.rate, last.p99)
		res.fail("the slowest rate, %.0f/s, missed the limit: %s", last.rate, last.why)
	case last.pass:
		res.Summary = fmt.Sprintf("new chats: at least %.0f/s on one node with queued → offer p99 %.0f ms (< %s), agents with room; the fastest rate tried",
			best, last.p99, cfg.limit)
	default:
		res.Summary = fmt.Sprintf("new chats: %.0f/s on one node with queued → offer p99 under %s, agents with room (%.0f/s: %s)",
			best, cfg.limit, last.rate, last.why)
	}
	res.add("capacity", "%s", res.Summary)
	return res, nil
}

func verdict(s joinStep) string {
	if s.pass {
		return "met"
	}
	return "missed: " + s.why
}

// capJoinStep runs C1's join phase at rate on a fresh server, with a
// short steady window so that the run's own checks (every chat accepted,
// nothing lost) still hold.
func capJoinStep(ctx context.Context, tf *targetFlags, cfg capJoinsConfig, rate float64, log io.Writer) (joinStep, error) {
	cc := chatConfig{
		customers: cfg.customers(rate), agents: cfg.agents, capacity: cfg.capacity,
		interval: 10 * time.Second, duration: 2 * time.Second, joinRate: rate,
		joinTimeout: 30 * time.Second, drain: 10 * time.Second, textSize: 80, queue: "loadtest",
		supervisor: cfg.watch, warmup: cfg.warmup,
	}
	s := joinStep{rate: rate, customers: cc.customers}
	res, err := runChat(ctx, tf, cc, io.Discard)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return s, err
		}
		s.why = err.Error()
		return s, nil
	}
	s.p50, s.p99, s.firstP99 = res.Figures["offer_p50_ms"], res.Figures["offer_p99_ms"], res.Figures["offer_first_p99_ms"]
	s.serverUS, s.testerUS = res.Figures["join_server_cpu_us_conn"], res.Figures["join_tester_cpu_us_conn"]
	switch {
	case !res.Pass:
		s.why = strings.Join(res.Failures, "; ")
	case s.p99 >= msf(cfg.limit):
		s.why = fmt.Sprintf("p99 %.0f ms", s.p99)
	default:
		s.pass = true
	}
	if !s.pass {
		fmt.Fprintf(log, "cap-joins: %.0f/s missed (%s)\n", rate, s.why)
	}
	return s, nil
}
