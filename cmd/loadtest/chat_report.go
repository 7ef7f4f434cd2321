package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type reportInput struct {
	idle, join, steady *window
	agentsUp, joined   time.Duration
	ackedInWindow      int
	selfCPU            time.Duration
	machineCPU         time.Duration // every core, every process
	outage             *outage
	reconnects         int
	moved              int     // connections that came back on another node
	nodes              string  // with several nodes: where the clients sit (server figures are their sum)
	fromProc           bool    // figures from /proc of the server process (else its /metrics)
	goroutines         float64 // the server's, at the end of the window (0: unknown)
	heapInuse          float64 // bytes
}

// report fills res with the run's table and checks.
func report(res *result, r *chatRun, cfg chatConfig, in reportInput) {
	l := r.ledger
	lostN, lostSample := l.lost(5)
	l.mu.Lock()
	sent, acked, received, dup, failed := l.sent, l.acked, l.received, l.duplicated, l.failed
	resends, dupAcks, mismatch, stray := l.resends, l.dupAcks, l.seqMismatch, l.stray
	l.mu.Unlock()
	lat := l.lat.summary()
	accepted := int(r.accepted.Load())
	conns := cfg.customers + cfg.agents
	src := "/proc"
	if !in.fromProc {
		src = "/metrics"
	}

	if in.nodes != "" {
		res.add("nodes", "%s", in.nodes)
	}
	res.add("agents", "%d online in %s", cfg.agents, in.agentsUp.Round(time.Millisecond))
	res.add("customers", "%d of %d accepted in %s (joins paced at %.0f/s)", accepted, cfg.customers,
		in.joined.Round(time.Millisecond), cfg.joinRate)
	res.add("offers", "%d received, %d accept errors, %d missed, %d agents paused", r.offers.Load(),
		r.acceptErrors.Load(), r.missedOffers.Load(), r.paused.Load())
	if cfg.warmup > 0 {
		res.add("queued → offer", "%s  (queued after the first %s of the customers' joins)", r.offerLat.summary(), cfg.warmup)
		res.add("… the first", "%s  (queued within %s of the first join: the server's start)", r.offerLatFirst.summary(), cfg.warmup)
	} else {
		res.add("queued → offer", "%s", r.offerLat.summary())
	}
	res.add("accept round trip", "%s", r.acceptLat.summary())
	res.add("customer wait", "%s  (chat.start → accepted)", r.waitLat.summary())
	res.add("messages", "%d sent, %d acked, %d received", sent, acked, received)
	res.add("lost", "%d  (acked, never received)", lostN)
	res.add("duplicated", "%d  (received twice)", dup)
	res.add("failed", "%d  (%s)", failed, l.errorText())
	if resends > 0 || dupAcks > 0 || in.outage != nil {
		res.add("resent", "%d attempts (%s), %d answered duplicate:true", resends, l.resendText(), dupAcks)
	}
	if g := r.seqGaps.Load(); g > 0 {
		res.add("seq gaps", "%d  (agents saw a conversation's seq jump)", g)
	}
	if n := r.refetched.Load(); n > 0 {
		res.add("refetched", "%d events  (chat.resume after a seq gap or a position check)", n)
	}
	res.add("latency", "%s  (sender → receiver)", lat)
	rate := float64(in.ackedInWindow) / in.steady.wall.Seconds()
	target := 2 * float64(accepted) / cfg.interval.Seconds()
	res.add("rate", "%.0f messages/s acked within the %s window (offered %.0f/s)", rate, in.steady.wall.Round(time.Second), target)
	res.add("server CPU", "%.2f s in the window = %.0f %% of one core; %.0f µs per message (%s)",
		in.steady.cpu.Seconds(), 100*in.steady.share(), perMessage(in.steady.cpu, in.ackedInWindow), src)
	res.add("server CPU, joins", "%.2f s to join %d connections = %.0f µs per connection",
		in.join.cpu.Seconds(), conns, float64(in.join.cpu.Microseconds())/float64(max(conns, 1)))
	perConn := float64(in.steady.peakRSS-in.idle.endRSS) / float64(max(conns, 1))
	res.add("server RSS", "%s idle, %s peak in the window, %s per connection (chat state included)",
		mb(in.idle.endRSS), mb(in.steady.peakRSS), kb(perConn))
	if in.goroutines > 0 {
		res.add("server Go heap", "%s in use, %.0f goroutines (%.2f per connection) at the end of the window",
			mb(int64(in.heapInuse)), in.goroutines, in.goroutines/float64(max(conns, 1)))
	}
	res.add("load tester CPU", "%.2f s in the window = %.0f %% of one core (it shares the machine)",
		in.selfCPU.Seconds(), 100*in.selfCPU.Seconds()/in.steady.wall.Seconds())
	if in.machineCPU > 0 {
		rest := in.machineCPU - in.selfCPU
		if in.fromProc {
			rest -= in.steady.cpu
		}
		res.add("machine CPU", "%.2f s busy of %.0f s on %d cores = %.0f %%; %.2f s outside server and load tester (PostgreSQL, others)",
			in.machineCPU.Seconds(), in.steady.wall.Seconds()*float64(runtime.NumCPU()), runtime.NumCPU(),
			100*in.machineCPU.Seconds()/(in.steady.wall.Seconds()*float64(runtime.NumCPU())), rest.Seconds())
	}
	switch o := in.outage; {
	case o != nil && o.node != "":
		res.add("outage", "node %s killed with SIGKILL and left dead; every connection back on the other nodes and resumed after %s",
			o.node, o.resumed.Round(time.Millisecond))
		res.add("reconnects", "%d, %d of them to another node", in.reconnects, in.moved)
	case o != nil:
		res.add("outage", "killed with SIGKILL, /healthz answered %s later; every connection back and resumed after %s",
			o.down.Round(time.Millisecond), o.resumed.Round(time.Millisecond))
		res.add("reconnects", "%d", in.reconnects)
	}
	if stray > 0 || r.strayChats.Load() > 0 {
		res.add("stray", "%d messages and %d chats not of this run (closed)", stray, r.strayChats.Load())
	}

	// Checks.
	if accepted < cfg.customers {
		res.fail("%d of %d chats were never accepted within %s", cfg.customers-accepted, cfg.customers, cfg.joinTimeout)
	}
	if lostN > 0 {
		res.fail("%d messages acknowledged but never received, e.g. %s", lostN, strings.Join(lostSample, "; "))
	}
	if dup > 0 {
		res.fail("%d messages received twice, e.g. %s", dup, strings.Join(l.duplicates(5), "; "))
	}
	if failed > 0 {
		res.fail("%d messages never acknowledged (%s)", failed, l.errorText())
	}
	if mismatch > 0 {
		res.fail("%d resends acknowledged with another seq than the first ack", mismatch)
	}
	if g := r.seqGaps.Load(); g > 0 {
		res.fail("agents saw %d gaps in conversations' seq", g)
	}
	if n := r.closedEarly.Load(); n > 0 {
		res.fail("%d chats closed during the run", n)
	}
	if sent == 0 {
		res.fail("no message was sent")
	}
	if o := in.outage; o != nil && !o.allBack {
		res.fail("not every connection came back within a minute of the kill")
	}

	res.Figures = map[string]float64{
		"customers": float64(cfg.customers), "agents": float64(cfg.agents), "capacity": float64(cfg.capacity),
		"sent": float64(sent), "acked": float64(acked), "received": float64(received),
		"lost": float64(lostN), "duplicated": float64(dup), "failed": float64(failed),
		"seq_gaps": float64(r.seqGaps.Load()), "refetched": float64(r.refetched.Load()),
		"latency_p50_ms": msf(lat.P50), "latency_p99_ms": msf(lat.P99), "latency_max_ms": msf(lat.Max),
		"rate_per_s":         rate,
		"server_cpu_s":       in.steady.cpu.Seconds(),
		"server_cpu_us_msg":  perMessage(in.steady.cpu, in.ackedInWindow),
		"server_rss_idle_mb": float64(in.idle.endRSS) / (1 << 20),
		"server_rss_peak_mb": float64(in.steady.peakRSS) / (1 << 20),
		"rss_per_conn_kb":    perConn / (1 << 10),
		"reconnects":         float64(in.reconnects),
		"moved":              float64(in.moved),
		"window_s":           in.steady.wall.Seconds(),
	}
	if in.machineCPU > 0 && in.fromProc {
		// PostgreSQL and whatever else ran: what the server's chats cost
		// the machine besides the server (cap-chats reads it).
		res.Figures["machine_rest_cpu_s"] = (in.machineCPU - in.selfCPU - in.steady.cpu).Seconds()
	}
	if o := in.outage; o != nil {
		res.Figures["resumed_s"] = o.resumed.Seconds()
	}
	verdict := "PASS"
	if !res.Pass {
		verdict = "FAIL"
	}
	res.Summary = fmt.Sprintf("%d cust, %d agents×%d, %.0f msg/s: p50 %s p99 %s, lost %d, dup %d; CPU %.0f µs/msg, RSS %s peak (%s/conn) — %s",
		cfg.customers, cfg.agents, cfg.capacity, rate, ms(lat.P50), ms(lat.P99), lostN, dup,
		perMessage(in.steady.cpu, in.ackedInWindow), mb(in.steady.peakRSS), kb(perConn), verdict)
	if in.outage != nil {
		res.Summary += fmt.Sprintf("; back %s after kill", in.outage.resumed.Round(100*time.Millisecond))
	}
}

func perMessage(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(n)
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ensureFileLimit raises the open-file limit and warns when it is still
// below the need of a run (files: its sockets, and the server's when it
// is our child).
func ensureFileLimit(log io.Writer, need uint64) {
	if n, err := raiseFileLimit(); err == nil && n < need {
		fmt.Fprintf(log, "warning: open-file limit %d is below the ~%d this run needs\n", n, need)
	}
}

// raiseFileLimit lifts the soft open-file limit to the hard one (children,
// the server among them, inherit it) and returns the limit now in force.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}
