package main

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"
)

// delivery is what the end of a T1 run found of the customers' messages.
type delivery struct {
	conversations int
	// In the transcripts (read as staff after the run): each acked
	// message must be there exactly once.
	transcriptLost, transcriptDup int
	// In the view of the agent who has the chat at the end (its accept
	// answer and the live events after it, each seq once): likewise.
	viewLost, viewDup int
	unheld            int // conversations no agent has at the end
	holes             int // final views missing a seq below their highest
	stray             int // customer messages in the transcripts that the run did not send
	samples           []string
}

// checkDelivery holds every message against the transcripts and the final
// agents' views (both by conversation; a view is nil when no agent has the
// chat). A message is matched by its text, which is unique in the run.
func checkDelivery(msgs map[string]*custMsg, transcripts map[int64][]wireEvent, views map[int64]*view) delivery {
	var d delivery
	sample := func(format string, args ...any) {
		if len(d.samples) < 5 {
			d.samples = append(d.samples, fmt.Sprintf(format, args...))
		}
	}
	inTranscript := map[int64]map[string]int{}
	for conv, evs := range transcripts {
		n := map[string]int{}
		for _, ev := range evs {
			if ev.Kind == "message" && ev.Author.Kind == "customer" {
				n[ev.Text]++
			}
		}
		inTranscript[conv] = n
	}
	convs := map[int64]bool{}
	sent := map[string]bool{}
	ids := make([]string, 0, len(msgs))
	for id := range msgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := msgs[id]
		convs[m.conv] = true
		sent[m.text] = true
		if !m.acked {
			continue
		}
		switch n := inTranscript[m.conv][m.text]; {
		case n == 0:
			d.transcriptLost++
			sample("%s (conversation %d) is not in the transcript", id, m.conv)
		case n > 1:
			d.transcriptDup++
			sample("%s (conversation %d) is in the transcript %d times", id, m.conv, n)
		}
		v := views[m.conv]
		if v == nil {
			d.viewLost++
			continue
		}
		switch n := v.texts[m.text]; {
		case n == 0:
			d.viewLost++
			sample("%s (conversation %d) never reached the agent who has the chat", id, m.conv)
		case n > 1:
			d.viewDup++
			sample("%s (conversation %d) reached the agent who has the chat %d times, under different seqs", id, m.conv, n)
		}
	}
	for conv := range convs {
		d.conversations++
		v := views[conv]
		if v == nil {
			d.unheld++
			sample("no agent has conversation %d at the end", conv)
			continue
		}
		for seq := 1; seq <= v.highest; seq++ {
			if _, ok := v.events[seq]; !ok {
				d.holes++
				sample("the agent who has conversation %d lacks its event %d", conv, seq)
				break
			}
		}
	}
	for _, n := range inTranscript {
		for text := range n {
			if !sent[text] {
				d.stray++
			}
		}
	}
	return d
}

// verify checks the run's messages against the transcripts and the views
// of the agents who have the chats now.
func (x *transferRun) verify(transcripts map[int64][]wireEvent) delivery {
	x.mu.Lock()
	defer x.mu.Unlock()
	views := map[int64]*view{}
	for conv, d := range x.holder {
		views[conv] = d.viewOf(conv)
	}
	return checkDelivery(x.msgs, transcripts, views)
}

type transferInput struct {
	agentsUp, joined time.Duration
	accepted         int
	window           *window
	selfCPU          time.Duration
	machineCPU       time.Duration
	fromProc         bool
}

// report fills res with the run's table and checks.
func (x *transferRun) report(res *result, dl delivery, in transferInput) {
	cfg := x.cfg
	x.mu.Lock()
	started, done, timedOut, toAgent, toQueue := x.started, x.done, x.timedOut, x.toAgent, x.toQueue
	sent, acked, failed := x.sent, x.acked, x.failed
	errText, resendText, refusalText := countText(x.errors), countText(x.resends), countText(x.refusals)
	acceptErrText := countText(x.acceptErrs)
	acceptErrs := 0
	for _, n := range x.acceptErrs {
		acceptErrs += n
	}
	resends := 0
	for _, n := range x.resends {
		resends += n
	}
	refused := 0
	for _, n := range x.refusals {
		refused += n
	}
	live, handover := 0, 0
	for id, m := range x.msgs {
		if m.live {
			live++
		}
		if strings.Contains(id, "-t") {
			handover++
		}
	}
	x.mu.Unlock()
	all, agent, queue := x.transferLat.summary(), x.agentLat.summary(), x.queueLat.summary()
	src := "/proc"
	if !in.fromProc {
		src = "/metrics"
	}
	w := in.window

	res.add("agents", "%d online in %s", cfg.agents, in.agentsUp.Round(time.Millisecond))
	res.add("customers", "%d of %d accepted in %s (joins paced at %.0f/s)", in.accepted, cfg.customers,
		in.joined.Round(time.Millisecond), cfg.joinRate)
	res.add("transfers", "%d of %d done (%d to an agent, %d to a queue) at %.0f/s; %d refused, %d timed out, %d not started",
		done, cfg.transfers, toAgent, toQueue, cfg.rate, refused, timedOut, cfg.transfers-started)
	if refused > 0 {
		res.add("refusals", "%s", refusalText)
	}
	res.add("transfer → accept", "%s  (chat.transfer sent → the new agent's accept answered)", all)
	res.add("  to an agent", "%s", agent)
	res.add("  to a queue", "%s", queue)
	res.add("transfer round trip", "%s", x.requestLat.summary())
	res.add("accept round trip", "%s", x.acceptLat.summary())
	res.add("offers", "%d received (routed and transferred), %d accept errors, %d missed, %d agents paused",
		x.offers.Load(), acceptErrs, x.missedOffers.Load(), x.paused.Load())
	if acceptErrs > 0 {
		res.add("accept errors", "%s", acceptErrText)
	}
	res.add("messages", "%d sent by customers (%d of them as their chat's transfer was requested), %d acked, %d failed (%s)",
		sent, handover, acked, failed, errText)
	res.add("received", "%d reached an agent live, %d only in an accept answer (sent during a hand-over)", live, acked-live)
	res.add("lost", "%d in the transcripts, %d with the agent who has the chat  (acked, not there)", dl.transcriptLost, dl.viewLost)
	res.add("duplicated", "%d in the transcripts, %d with the agent who has the chat  (there twice)", dl.transcriptDup, dl.viewDup)
	if resends > 0 {
		res.add("resent", "%d attempts (%s)", resends, resendText)
	}
	res.add("live latency", "%s  (customer → the agent who has the chat)", x.liveLat.summary())
	if w.wall > 0 {
		res.add("server CPU", "%.2f s in the %s window = %.0f %% of one core (%s)",
			w.cpu.Seconds(), w.wall.Round(time.Second), 100*w.share(), src)
	}
	res.add("server RSS", "%s peak in the window", mb(w.peakRSS))
	if w.wall > 0 {
		res.add("load tester CPU", "%.2f s in the window = %.0f %% of one core (it shares the machine)",
			in.selfCPU.Seconds(), 100*in.selfCPU.Seconds()/w.wall.Seconds())
	}
	if in.machineCPU > 0 && w.wall > 0 {
		res.add("machine CPU", "%.2f s busy of %.0f s on %d cores = %.0f %%", in.machineCPU.Seconds(),
			w.wall.Seconds()*float64(runtime.NumCPU()), runtime.NumCPU(),
			100*in.machineCPU.Seconds()/(w.wall.Seconds()*float64(runtime.NumCPU())))
	}
	if dl.stray > 0 || x.strayChats.Load() > 0 {
		res.add("stray", "%d customer messages not of this run in its transcripts, %d chats not of this run (closed)",
			dl.stray, x.strayChats.Load())
	}

	// Checks.
	if in.accepted < cfg.customers {
		res.fail("%d of %d chats were never accepted within %s", cfg.customers-in.accepted, cfg.customers, cfg.joinTimeout)
	}
	if done < cfg.transfers {
		res.fail("%d of %d transfers not done (refused: %s; %d timed out after %s; %d not started)",
			cfg.transfers-done, cfg.transfers, refusalText, timedOut, cfg.transferTimeout, cfg.transfers-started)
	}
	lost, dup := dl.transcriptLost+dl.viewLost, dl.transcriptDup+dl.viewDup
	if lost > 0 || dup > 0 || dl.holes > 0 || dl.unheld > 0 {
		res.fail("%d lost, %d duplicated, %d chats with holes in the history, %d chats no agent has: %s",
			lost, dup, dl.holes, dl.unheld, strings.Join(dl.samples, "; "))
	}
	if failed > 0 {
		res.fail("%d customer messages never acknowledged (%s)", failed, errText)
	}
	if g := x.seqGaps.Load(); g > 0 {
		res.fail("agents saw %d gaps in conversations' seq", g)
	}
	if n := x.chat.closedEarly.Load(); n > 0 {
		res.fail("%d chats closed during the run", n)
	}
	if sent == 0 {
		res.fail("no message was sent")
	}

	res.Figures = map[string]float64{
		"customers": float64(cfg.customers), "agents": float64(cfg.agents), "transfers": float64(cfg.transfers),
		"transfers_done": float64(done), "to_agent": float64(toAgent), "to_queue": float64(toQueue),
		"transfer_p50_ms": msf(all.P50), "transfer_p99_ms": msf(all.P99), "transfer_max_ms": msf(all.Max),
		"to_agent_p50_ms": msf(agent.P50), "to_agent_p99_ms": msf(agent.P99),
		"to_queue_p50_ms": msf(queue.P50), "to_queue_p99_ms": msf(queue.P99),
		"sent": float64(sent), "acked": float64(acked), "failed": float64(failed),
		"lost": float64(lost), "duplicated": float64(dup),
		"server_cpu_s": w.cpu.Seconds(),
	}
	verdict := "PASS"
	if !res.Pass {
		verdict = "FAIL"
	}
	res.Summary = fmt.Sprintf("%d transfers of %d chats (%d to agents, %d to queues), customers sending every %s: transfer → accept p50 %s p99 %s (agent p99 %s, queue p99 %s); lost %d, dup %d — %s",
		done, cfg.customers, toAgent, toQueue, cfg.interval, ms(all.P50), ms(all.P99), ms(agent.P99), ms(queue.P99), lost, dup, verdict)
}
