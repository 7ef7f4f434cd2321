package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// cap-rooms is the media row of the capacity table: how many W4 rooms
// (an agent and a customer with camera and microphone, the customer
// sharing a screen, a supervisor watching both) one node carries with
// under 1 % loss and its CPU under 80 % of the cores it is given. Each
// step is a short W4 run on a server of its own (media.go); the search
// doubles the rooms from --start while a step passes, then bisects
// between the last that passed and the first that failed until the two
// are within an eighth of each other, or --budget is spent.

type capRoomsConfig struct {
	start, most int
	cores       float64
	maxCPU      float64 // share of cores
	maxLoss     float64 // percent
	step        time.Duration
	joinRate    float64
	budget      time.Duration
}

func (c *capRoomsConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.start, "start", 4, "rooms in the first step")
	fs.IntVar(&c.most, "most", 256, "never try more rooms than this")
	fs.Float64Var(&c.cores, "cores", 1, "cores the server is counted as having: the load tester's Pion peers need the rest of the machine")
	fs.Float64Var(&c.maxCPU, "max-cpu", 80, "a step fails when the server's CPU in its window is above this `percent` of --cores")
	fs.Float64Var(&c.maxLoss, "max-loss", 1, "a step fails when this `percent` of forwarded packets or more is lost")
	fs.DurationVar(&c.step, "step", 8*time.Second, "each step's steady window")
	fs.Float64Var(&c.joinRate, "join-rate", 20, "participants joining per second in each step")
	fs.DurationVar(&c.budget, "budget", 100*time.Second, "start no step after this long; the figure is then the last step that passed")
}

func init() {
	cfg := &capRoomsConfig{}
	workloads["cap-rooms"] = workload{
		summary: "capacity: W4 contact-center rooms one node carries at < 1 % loss and < 80 % CPU (a doubling, then bisecting, search of short W4 runs)",
		flags:   cfg.register,
		run: func(ctx context.Context, tf *targetFlags, log io.Writer) (*result, error) {
			return runCapRooms(ctx, tf, *cfg, log)
		},
	}
}

// roomStep is one step's outcome.
type roomStep struct {
	rooms      int
	pass       bool
	why        string // what failed
	loss, cpu  float64
	self       float64 // the load tester's CPU, cores
	pps        float64 // forwarded packets per second
	usPerPkt   float64
	joinP95Ms  float64
	peakRSSMiB float64
}

// searchRooms doubles the rooms from cfg.start while try passes, then
// bisects between the most that passed (lo) and the fewest that failed
// (hi, 0 when none did) until they are within an eighth of lo; it starts
// no step once spent says the budget is gone. best is lo's step.
func searchRooms(cfg capRoomsConfig, try func(int) (roomStep, error), spent func() bool) (lo, hi int, best roomStep, err error) {
	for n := cfg.start; ; n = min(2*n, cfg.most) {
		st, err := try(n)
		if err != nil {
			return 0, 0, best, err
		}
		if !st.pass {
			hi = n
			break
		}
		lo, best = n, st
		if n == cfg.most || spent() {
			break
		}
	}
	for hi > 0 && lo > 0 && hi-lo > max(1, lo/8) && !spent() {
		n := (lo + hi) / 2
		st, err := try(n)
		if err != nil {
			return 0, 0, best, err
		}
		if st.pass {
			lo, best = n, st
		} else {
			hi = n
		}
	}
	return lo, hi, best, nil
}

func runCapRooms(ctx context.Context, tf *targetFlags, cfg capRoomsConfig, log io.Writer) (*result, error) {
	switch {
	case tf.url != "":
		return nil, fmt.Errorf("%w: cap-rooms starts a server of its own for each step (no --url)", errUsage)
	case cfg.start < 1 || cfg.most < cfg.start || cfg.cores <= 0 || cfg.maxCPU <= 0 || cfg.step <= 0 || cfg.joinRate <= 0:
		return nil, fmt.Errorf("%w: --start ≥ 1, --most ≥ --start, and --cores, --max-cpu, --step, --join-rate above 0", errUsage)
	}
	began := time.Now()
	var steps []roomStep
	try := func(rooms int) (roomStep, error) {
		st, err := capRoomsStep(ctx, tf, cfg, rooms, log)
		if err == nil {
			steps = append(steps, st)
			verdict := "pass"
			if !st.pass {
				verdict = "FAIL: " + st.why
			}
			fmt.Fprintf(log, "cap-rooms: %d rooms: %s (loss %.3f %%, server %.0f %% of a core, load tester %.0f %%, %.0f packets/s forwarded)\n",
				rooms, verdict, st.loss, 100*st.cpu, 100*st.self, st.pps)
		}
		return st, err
	}
	lo, hi, best, err := searchRooms(cfg, try, func() bool { return time.Since(began) > cfg.budget })
	if err != nil {
		return nil, err
	}
	return capRoomsResult(cfg, steps, lo, hi, best, time.Since(began)), nil
}

// capRoomsStep runs one short W4 with rooms rooms. A run that cannot
// even fill its rooms (the server overwhelmed) is a failed step, not an
// error; only the first step's errors end the search, as they are not
// about load.
func capRoomsStep(ctx context.Context, tf *targetFlags, cfg capRoomsConfig, rooms int, log io.Writer) (roomStep, error) {
	mc := mediaConfig{shape: "W4", rooms: rooms, joinRate: cfg.joinRate, duration: cfg.step,
		joinTimeout: 15 * time.Second, maxLoss: cfg.maxLoss}
	st := roomStep{rooms: rooms}
	res, err := runMedia(ctx, tf, mc, io.Discard)
	switch {
	case err != nil && (ctx.Err() != nil || rooms == cfg.start || errors.Is(err, errUsage)):
		return st, fmt.Errorf("cap-rooms step of %d rooms: %w", rooms, err)
	case err != nil:
		st.why = err.Error()
		fmt.Fprintf(log, "cap-rooms: %d rooms: the run failed: %v\n", rooms, err)
		return st, nil
	}
	f := res.Figures
	st.loss, st.cpu, st.self = f["loss_pct"], f["cpu_cores"], f["self_cpu_cores"]
	st.usPerPkt, st.joinP95Ms, st.peakRSSMiB = f["cpu_us_per_packet"], f["join_p95_ms"], f["peak_rss_bytes"]/(1<<20)
	if f["cpu_seconds"] > 0 && f["cpu_cores"] > 0 {
		st.pps = f["forwarded_packets"] / (f["cpu_seconds"] / f["cpu_cores"])
	}
	var why []string
	if f["tracks_received"] < f["tracks_expected"] {
		why = append(why, fmt.Sprintf("%.0f of %.0f tracks arrived", f["tracks_received"], f["tracks_expected"]))
	}
	if st.loss >= cfg.maxLoss {
		why = append(why, fmt.Sprintf("loss %.2f %% ≥ %.2f %%", st.loss, cfg.maxLoss))
	}
	if limit := cfg.maxCPU / 100 * cfg.cores; st.cpu > limit {
		why = append(why, fmt.Sprintf("server CPU %.0f %% of %.3g cores > %.0f %%", 100*st.cpu/cfg.cores, cfg.cores, cfg.maxCPU))
	}
	if len(why) == 0 && !res.Pass {
		why = res.Failures
	}
	st.pass, st.why = len(why) == 0, strings.Join(why, "; ")
	return st, nil
}

func capRoomsResult(cfg capRoomsConfig, steps []roomStep, lo, hi int, best roomStep, took time.Duration) *result {
	res := newResult("cap-rooms", fmt.Sprintf("cap-rooms: W4 rooms per node at < %.3g %% loss and < %.0f %% of %.3g cores, %s steps", cfg.maxLoss, cfg.maxCPU, cfg.cores, cfg.step))
	path := make([]string, 0, len(steps))
	for _, s := range steps {
		mark := "✓"
		if !s.pass {
			mark = "✗"
		}
		path = append(path, fmt.Sprintf("%d%s", s.rooms, mark))
		verdict := "pass"
		if !s.pass {
			verdict = "fail: " + s.why
		}
		res.add(fmt.Sprintf("%d rooms", s.rooms), "%s; loss %.3f %%, server %.0f %% of a core (%.1f µs per forwarded packet, %.0f packets/s), load tester %.0f %%, join p95 %.0f ms, peak RSS %.0f MiB",
			verdict, s.loss, 100*s.cpu, s.usPerPkt, s.pps, 100*s.self, s.joinP95Ms, s.peakRSSMiB)
	}
	res.add("search", "%s in %s", strings.Join(path, " → "), took.Round(time.Second))
	bound := "the --most limit"
	if hi > 0 {
		for _, s := range steps {
			if s.rooms == hi {
				bound = fmt.Sprintf("%d rooms failed: %s", hi, s.why)
			}
		}
	} else if lo < cfg.most {
		bound = "the time budget"
	}
	res.add("capacity", "%d rooms (%d participants, %d tracks received); bounded by %s", lo, 3*lo, 10*lo, bound)
	res.Figures = map[string]float64{
		"capacity":          float64(lo),
		"first_failed":      float64(hi),
		"cpu_cores":         best.cpu,
		"loss_pct":          best.loss,
		"cpu_us_per_packet": best.usPerPkt,
		"forwarded_pps":     best.pps,
		"seconds":           took.Seconds(),
	}
	if lo == 0 {
		res.fail("not even %d rooms passed: %s", cfg.start, bound)
		res.Summary = fmt.Sprintf("below %d rooms (%s)", cfg.start, bound)
		return res
	}
	res.Summary = fmt.Sprintf("%d rooms (agent + customer with camera and mic, customer's screen, supervisor) at %.2f %% loss, server %.0f %% of %.3g core (limit %.0f %%), %.0f packets/s forwarded; next: %s; search %s",
		lo, best.loss, 100*best.cpu/cfg.cores, cfg.cores, cfg.maxCPU, best.pps, bound, strings.Join(path, " "))
	return res
}
