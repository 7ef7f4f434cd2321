package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cap-chats: how many chats one node carries at C1's shape (each side of
// each chat sends a message every --interval, 10 s by default) with
// latency p99 under --max-p99 and nothing lost, duplicated or failed.
//
// The search is coarse and says so. It runs C1 at each size of --steps in
// turn (a fresh server each time, on every P: withEveryP), and stops at
// the first step that fails a check. Through the server CPU per second of
// the passing steps it fits a line, CPU = floor + per-chat × chats (the
// floor is what the process spends with no chats: timers, the metrics,
// GC of an idle heap), and reads off how many chats fill --cpu-share of
// every core of the machine. The figure is that extrapolation unless a
// step failed: then it is the last step that passed, measured. Running
// the extrapolated size itself is not possible from one load tester on
// this machine (two sockets per chat against an open-file limit shared
// with the server it starts), and would not fit three minutes of joins
// at 200 a second either.
type capChatsConfig struct {
	steps    string
	interval time.Duration
	duration time.Duration
	maxP99   time.Duration
	cpuShare float64
	perAgent int
	joinRate float64
}

func (c *capChatsConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.steps, "steps", "1000,3000", "chats at each measured step, comma-separated, smallest first")
	fs.DurationVar(&c.interval, "interval", 10*time.Second, "each side of each chat sends a message this often")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "each step's steady window")
	fs.DurationVar(&c.maxP99, "max-p99", 100*time.Millisecond, "a step passes when sender → receiver latency p99 is under this")
	fs.Float64Var(&c.cpuShare, "cpu-share", 0.8, "share of every core of the machine the node's process may use")
	fs.IntVar(&c.perAgent, "capacity", 25, "chats per agent")
	fs.Float64Var(&c.joinRate, "join-rate", 200, "connections opened per second while joining")
}

func (c *capChatsConfig) sizes() ([]int, error) {
	var out []int
	for _, f := range strings.Split(c.steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("%w: --steps: positive chat counts, smallest first", errUsage)
		}
		out = append(out, n)
	}
	switch {
	case c.interval <= 0 || c.duration <= 0 || c.maxP99 <= 0 || c.joinRate <= 0:
		return nil, fmt.Errorf("%w: --interval, --duration, --max-p99 and --join-rate must be above 0", errUsage)
	case c.cpuShare <= 0 || c.cpuShare > 1:
		return nil, fmt.Errorf("%w: --cpu-share is a share of the machine, above 0 and at most 1", errUsage)
	case c.perAgent < 1 || c.perAgent > 100:
		return nil, fmt.Errorf("%w: --capacity 1–100", errUsage)
	}
	return out, nil
}

// capStep is one measured size.
type capStep struct {
	chats   int
	cpu     float64 // server CPU, seconds per second of the window
	db      float64 // the machine's CPU outside server and load tester, seconds per second
	p99     float64 // ms
	pass    bool
	summary string
}

func init() {
	cfg := &capChatsConfig{}
	workloads["cap-chats"] = workload{
		summary: "capacity: chats per node at a message every 10 s each way, p99 < 100 ms, nothing lost (C1 at a few sizes, extrapolated by CPU)",
		flags:   cfg.register,
		run: func(ctx context.Context, tf *targetFlags, log io.Writer) (*result, error) {
			sizes, err := cfg.sizes()
			if err != nil {
				return nil, err
			}
			return runCapChats(ctx, tf, *cfg, sizes, log)
		},
	}
}

// withEveryP is tf with the started servers on every P: the server runs
// on one P while it uses under a third of a core (cmd/parley/procs.go),
// which costs less per chat, and the steps are that small; the line
// through them is read off at most of every core, where the server has
// its Ps back. GOMAXPROCS set turns the server's choice off.
func withEveryP(tf *targetFlags) *targetFlags {
	c := *tf
	c.serverEnv = append(slices.Clip(tf.serverEnv), "GOMAXPROCS="+strconv.Itoa(runtime.NumCPU()))
	return &c
}

func runCapChats(ctx context.Context, tf *targetFlags, cfg capChatsConfig, sizes []int, log io.Writer) (*result, error) {
	res := newResult("cap-chats", fmt.Sprintf("cap-chats: chats per node, a message every %s each way, p99 < %s, nothing lost",
		cfg.interval, cfg.maxP99))
	var steps []capStep
	for _, n := range sizes {
		agents := (n + cfg.perAgent - 1) / cfg.perAgent
		fmt.Fprintf(log, "cap-chats: step of %d chats (%d agents × %d)\n", n, agents, cfg.perAgent)
		r, err := runChat(ctx, withEveryP(tf), chatConfig{
			customers: n, agents: agents, capacity: cfg.perAgent,
			interval: cfg.interval, duration: cfg.duration, joinRate: cfg.joinRate,
			joinTimeout: 2 * time.Minute, drain: 30 * time.Second, textSize: 80, queue: "loadtest",
		}, log)
		if err != nil {
			return nil, fmt.Errorf("step of %d chats: %w", n, err)
		}
		r.print(log)
		f := r.Figures
		win := f["window_s"]
		s := capStep{chats: n, p99: f["latency_p99_ms"], summary: r.Summary}
		if win > 0 {
			s.cpu = f["server_cpu_s"] / win
			s.db = f["machine_rest_cpu_s"] / win
		}
		s.pass = r.Pass && f["lost"] == 0 && f["duplicated"] == 0 && f["failed"] == 0 &&
			s.p99 < msf(cfg.maxP99) && win > 0
		steps = append(steps, s)
		res.add(fmt.Sprintf("%d chats", n), "server %.1f %% of a core, %.0f µs per chat-second; p99 %.1f ms; %s",
			100*s.cpu, 1e6*s.cpu/float64(n), s.p99, verdictOf(s.pass))
		if !s.pass {
			for _, why := range r.Failures {
				res.add("", "%s", why)
			}
			break
		}
	}

	cores := float64(runtime.NumCPU())
	budget := cfg.cpuShare * cores
	var passed []capStep
	for _, s := range steps {
		if s.pass {
			passed = append(passed, s)
		}
	}
	capacity, how := 0.0, ""
	switch {
	case len(passed) == 0:
		res.fail("no step passed: the smallest, %d chats, already failed", steps[0].chats)
		how = "no step passed"
	case len(passed) < len(steps):
		last := passed[len(passed)-1]
		capacity = float64(last.chats)
		how = "measured: the largest step that passed (the next failed)"
	default:
		floor, per := fitLine(passed, func(s capStep) float64 { return s.cpu })
		capacity = math.Floor((budget - floor) / per)
		how = fmt.Sprintf("extrapolated from %d measured steps: server CPU %.1f %% of a core + %.1f µs per chat-second, to %.0f %% of %d cores",
			len(passed), 100*floor, 1e6*per, 100*cfg.cpuShare, int(cores))
		dbFloor, dbPer := fitLine(passed, func(s capStep) float64 { return s.cpu + s.db })
		if dbPer > 0 {
			withDB := math.Floor((budget - dbFloor) / dbPer)
			res.Figures["capacity_with_db"] = withDB
			res.add("with PostgreSQL on the node", "%.0f chats (server and the rest of the machine but the load tester: %.1f µs per chat-second)",
				withDB, 1e6*dbPer)
		}
		res.Figures["cpu_us_per_chat_second"] = 1e6 * per
		res.Figures["cpu_floor_share"] = floor
	}
	res.Figures["capacity"] = capacity
	res.Figures["interval_s"] = cfg.interval.Seconds()
	res.Figures["max_p99_ms"] = msf(cfg.maxP99)
	if len(passed) > 0 {
		res.Figures["largest_measured"] = float64(passed[len(passed)-1].chats)
		res.Figures["largest_measured_p99_ms"] = passed[len(passed)-1].p99
	}
	res.add("capacity", "%.0f chats per node (%s)", capacity, how)
	res.Summary = fmt.Sprintf("%.0f chats per node at 1 msg / %s each way, p99 < %s, 0 lost (%s; largest measured %s)",
		capacity, cfg.interval, cfg.maxP99, strings.SplitN(how, ":", 2)[0], largestMeasured(passed))
	return res, nil
}

// fitLine fits y = a + b·chats through the steps by least squares; one
// step gives a line through the origin (no floor known).
func fitLine(steps []capStep, y func(capStep) float64) (a, b float64) {
	if len(steps) == 1 {
		return 0, y(steps[0]) / float64(steps[0].chats)
	}
	var sx, sy, sxx, sxy float64
	for _, s := range steps {
		x := float64(s.chats)
		sx, sy, sxx, sxy = sx+x, sy+y(s), sxx+x*x, sxy+x*y(s)
	}
	n := float64(len(steps))
	b = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	a = (sy - b*sx) / n
	if b <= 0 || a < 0 {
		// Noise on a shared machine: the largest step's CPU through the
		// origin is the safe reading (it charges the floor to the chats).
		last := steps[len(steps)-1]
		return 0, y(last) / float64(last.chats)
	}
	return a, b
}

func largestMeasured(passed []capStep) string {
	if len(passed) == 0 {
		return "none passed"
	}
	s := passed[len(passed)-1]
	return fmt.Sprintf("%d chats, p99 %.1f ms, server %.0f %% of a core", s.chats, s.p99, 100*s.cpu)
}

func verdictOf(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}
