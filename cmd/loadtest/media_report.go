package main

import (
	"fmt"
	"slices"
	"time"
)

// reportMedia is what runMedia measured besides the peers' counters.
type reportMedia struct {
	idle, join, steady *window
	selfCPU            time.Duration
	sentWindow         int64 // packets the publishers sent in the steady window
	fromProc           bool
	// With several nodes, steady is the room's node's window; the other
	// nodes' CPU in it is otherNodes.
	roomNode, roomNodeHow string
	otherNodes            time.Duration
}

// report fills the result of a media run. Forwarded packets are the
// packets the participants' down connections received in the steady
// window (counted at the receivers, not computed from sent × fan-out).
func (r *mediaRun) report(in reportMedia) *result {
	cfg := r.cfg
	title := map[string]string{
		"W1": fmt.Sprintf("W1 livestream: 1 simulcast publisher (150/600/2000 kbit/s), %d subscribers of the high layer, %s steady", cfg.subscribers, cfg.duration),
		"W2": fmt.Sprintf("W2 meeting: 4 simulcast publishers, 4 subscribers of all four, speaker layout (one high, three low), %s steady", cfg.duration),
		"W3": fmt.Sprintf("W3 audio: %d Opus publishers (50 packets/s), %d subscribers of all, %s steady", cfg.publishers, cfg.subscribers, cfg.duration),
		"W4": fmt.Sprintf("W4 contact center: %d rooms of agent + customer (camera, mic, screen) + supervisor, %s steady", cfg.rooms, cfg.duration),
	}[cfg.shape]
	res := newResult(cfg.shape, title)

	r.mu.Lock()
	peers, timed, subs := r.peers, r.timed, r.subs
	r.mu.Unlock()
	expected, got := 0, 0
	var received, lost int64
	for _, p := range peers {
		ts := p.tracks()
		p.mu.Lock()
		expected += p.expect
		got += min(len(ts), p.expect)
		if p.lastErr != nil {
			res.fail("%v", p.lastErr)
		}
		p.mu.Unlock()
		for _, t := range ts {
			received += t.packets.Load()
			lost += max(0, t.lost.Load())
		}
	}
	var joins, connects []time.Duration
	for _, p := range timed {
		if ok, d := p.complete(); ok {
			joins = append(joins, d)
		}
		if d, ok := p.connectedAfter(); ok {
			connects = append(connects, d)
		}
	}
	slices.Sort(joins)
	slices.Sort(connects)
	lossPct := 0.0
	if received+lost > 0 {
		lossPct = 100 * float64(lost) / float64(received+lost)
	}
	lat := r.stats.latency.summary()
	forwarded := r.stats.windowReceived.Load()
	cpuPerPkt := 0.0
	if forwarded > 0 {
		cpuPerPkt = float64(in.steady.cpu.Microseconds()) / float64(forwarded)
	}

	res.add("participants", "%d", len(peers))
	res.add("tracks expected / received", "%d / %d", expected, got)
	res.add("packets sent (publishers)", "%d (%d in the window; %d keyframes, %d of them on PLI/FIR)",
		r.stats.sent.packets.Load(), in.sentWindow, r.stats.sent.keys.Load(), r.stats.sent.pliKeys.Load())
	res.add("packets received", "%d (%d in the window)", received, forwarded)
	res.add("loss", "%.3f %% (%d sequence numbers missing at the receivers)", lossPct, lost)
	res.add("added latency (publisher → subscriber)", "%s", lat)
	res.add("join → every track's first picture", "%s (from the later of join and publish)", joinFigures(joins, len(timed)))
	res.add("  of which join → down connected", "%s", joinFigures(connects, len(timed)))
	if cfg.shape == "W1" {
		high, highJoins := 0, []time.Duration{}
		for _, p := range subs {
			for _, t := range p.tracks() {
				if t.layer.Load() == 2 {
					high++
				}
				if at := t.highAt.Load(); at != 0 {
					highJoins = append(highJoins, time.Unix(0, at).Sub(p.opened))
				}
			}
		}
		slices.Sort(highJoins)
		res.add("subscribers on the high layer", "%d of %d at the end", high, len(subs))
		res.add("join → first high-layer picture", "%s", joinFigures(highJoins, len(subs)))
		if high < len(subs) {
			res.fail("%d of %d subscribers not on the high layer at the end", len(subs)-high, len(subs))
		}
	}
	if cfg.shape == "W2" {
		onLayer, asked := 0, 0
		for _, p := range peers {
			for _, t := range p.tracks() {
				if w := t.want.Load(); w >= 0 {
					asked++
					if t.layer.Load() == w {
						onLayer++
					}
				}
			}
		}
		res.add("speaker layout (rtc.layer)", "%d of %d tracks on the layer asked for at the end (one high, the others low, per receiver)", onLayer, asked)
		if asked == 0 || onLayer < asked {
			res.fail("%d of %d tracks not on the layer asked for", asked-onLayer, asked)
		}
	}
	src := "/proc"
	if !in.fromProc {
		src = "/metrics"
	}
	if in.roomNode != "" {
		res.add("nodes", "%d; the room on %s (%s); publishers' websockets on %s, subscribers' on the others; "+
			"the steady window's server figures are the room's node's", len(r.t.nodes), in.roomNode, in.roomNodeHow, r.t.nodes[0].id)
		perPkt := 0.0
		if forwarded > 0 {
			perPkt = float64(in.otherNodes.Microseconds()) / float64(forwarded)
		}
		res.add("other nodes in the window", "CPU %.2f s = %.1f µs per forwarded packet (signaling relayed, heartbeats)", in.otherNodes.Seconds(), perPkt)
	}
	res.add("server idle RSS (after start)", "%s", mb(in.idle.endRSS))
	res.add("server while joining", "CPU %.2f s over %s, peak RSS %s", in.join.cpu.Seconds(), in.join.wall.Round(time.Millisecond), mb(in.join.peakRSS))
	res.add("server steady window", "CPU %.2f s over %s (%.0f %% of a core), peak RSS %s (%s)",
		in.steady.cpu.Seconds(), in.steady.wall.Round(time.Millisecond), 100*in.steady.share(), mb(in.steady.peakRSS), src)
	res.add("server CPU per forwarded packet", "%.1f µs (forwarded = packets the receivers got in the window: %d, %.0f/s)",
		cpuPerPkt, forwarded, float64(forwarded)/in.steady.wall.Seconds())
	res.add("load tester CPU in the window", "%.2f s (it shares the machine)", in.selfCPU.Seconds())

	if got < expected {
		res.fail("%d of %d tracks never arrived", expected-got, expected)
	}
	if lossPct > cfg.maxLoss {
		res.fail("loss %.3f %% above --max-loss %.3f %%", lossPct, cfg.maxLoss)
	}
	if forwarded == 0 {
		res.fail("nothing forwarded in the steady window")
	}
	p95 := time.Duration(0)
	if len(joins) > 0 {
		p95 = percentile(joins, 0.95)
	}
	res.Summary = fmt.Sprintf("%d/%d tracks, loss %.2f %%, latency p50 %s p99 %s, join p95 %s, %.1f µs CPU/fwd pkt (%.0f pkt/s), peak RSS %s",
		got, expected, lossPct, ms(lat.P50), ms(lat.P99), ms(p95), cpuPerPkt, float64(forwarded)/in.steady.wall.Seconds(), mb(in.steady.peakRSS))
	res.Figures = map[string]float64{
		"tracks_expected":   float64(expected),
		"tracks_received":   float64(got),
		"loss_pct":          lossPct,
		"latency_p50_ms":    lat.P50.Seconds() * 1000,
		"latency_p99_ms":    lat.P99.Seconds() * 1000,
		"join_p95_ms":       p95.Seconds() * 1000,
		"cpu_us_per_packet": cpuPerPkt,
		"cpu_seconds":       in.steady.cpu.Seconds(),
		"cpu_cores":         in.steady.share(),
		"self_cpu_cores":    in.selfCPU.Seconds() / max(in.steady.wall.Seconds(), 1e-9),
		"forwarded_packets": float64(forwarded),
		"peak_rss_bytes":    float64(in.steady.peakRSS),
		"idle_rss_bytes":    float64(in.idle.endRSS),
	}
	if in.roomNode != "" {
		res.Figures["other_nodes_cpu_seconds"] = in.otherNodes.Seconds()
	}
	return res
}

// joinFigures prints p50/p95/max of sorted d, of n that were timed.
func joinFigures(d []time.Duration, n int) string {
	if len(d) == 0 {
		return fmt.Sprintf("none of %d", n)
	}
	return fmt.Sprintf("p50 %s  p95 %s  max %s  (%d of %d)", ms(percentile(d, 0.5)), ms(percentile(d, 0.95)), ms(d[len(d)-1]), len(d), n)
}
