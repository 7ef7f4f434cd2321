package sfu

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// The feedback parser reads what Pion's TWCC recorder (what a Pion client
// sends) writes, as Pion's own parser does: run-length and both kinds of
// status vector, small, large and negative deltas, lost packets.
func TestParseTWCCReadsWhatPionWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string]func(i int) (arrival int64, lost bool){
		"steady":    func(i int) (int64, bool) { return int64(i) * 1000, false },
		"lossy":     func(i int) (int64, bool) { return int64(i) * 1000, rng.IntN(4) == 0 },
		"large":     func(i int) (int64, bool) { return int64(i) * 90_000, i%3 == 1 },
		"reordered": func(i int) (int64, bool) { return int64(i)*2000 - int64(i%2)*3000, false },
		"jitter":    func(i int) (int64, bool) { return int64(i)*500 + rng.Int64N(20_000), rng.IntN(10) == 0 },
	}
	for name, arrive := range cases {
		t.Run(name, func(t *testing.T) {
			rec := twcc.NewRecorder(1)
			for i := range 300 {
				at, lost := arrive(i)
				if !lost {
					rec.Record(2, uint16(65400+i), 1_000_000+at) //nolint:gosec // wraps on purpose
				}
			}
			var acks []twccAck
			for _, pkt := range rec.BuildFeedbackPacket() {
				want, ok := pkt.(*rtcp.TransportLayerCC)
				if !ok {
					continue
				}
				raw, err := want.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				var base uint16
				var ref uint32
				var count uint8
				acks, base, ref, count, ok = parseTWCC(raw, acks)
				if !ok {
					t.Fatalf("parseTWCC refused Pion's feedback % x", raw)
				}
				if base != want.BaseSequenceNumber || ref != want.ReferenceTime || count != want.FbPktCount || len(acks) != int(want.PacketStatusCount) {
					t.Fatalf("base %d ref %d count %d packets %d; want %d %d %d %d", base, ref, count, len(acks),
						want.BaseSequenceNumber, want.ReferenceTime, want.FbPktCount, want.PacketStatusCount)
				}
				// Pion's parse: the arrival of each received packet, from
				// its deltas.
				var at int64
				d := 0
				for k, a := range acks {
					if a.symbol == 0 {
						continue
					}
					if d >= len(want.RecvDeltas) {
						t.Fatalf("packet %d: we read an arrival Pion's parser does not", k)
					}
					at += want.RecvDeltas[d].Delta
					if int(a.symbol) != int(want.RecvDeltas[d].Type) || a.arrival != at {
						t.Fatalf("packet %d: symbol %d at %d µs; Pion reads %d at %d", k, a.symbol, a.arrival, want.RecvDeltas[d].Type, at)
					}
					d++
				}
				if d != len(want.RecvDeltas) {
					t.Fatalf("we read %d arrivals, Pion %d", d, len(want.RecvDeltas))
				}
				// Cut short anywhere, it is refused, never read past.
				for n := 20; n < len(raw)-3; n++ {
					if _, _, _, _, ok := parseTWCC(raw[:n], acks); ok && n < len(raw)-3 {
						// Padding at the end may legitimately be cut;
						// anything before it may not.
						if !paddingOnly(raw, n) {
							t.Fatalf("a report cut to %d of %d bytes was accepted", n, len(raw))
						}
					}
				}
			}
		})
	}
}

// paddingOnly reports whether raw holds only padding from n on.
func paddingOnly(raw []byte, n int) bool {
	return !slices.ContainsFunc(raw[n:len(raw)-1], func(b byte) bool { return b != 0 })
}

// A path narrower than what is sent, with a deep queue: the delay grows,
// the estimate comes down to about the path's rate and stays there, and
// once the queue built by the start (3 Mbit/s into 1 for the second it
// takes to see) has drained, it stays short.
func TestEstimateFollowsANarrowPathByDelay(t *testing.T) {
	link := &simLink{rate: 1_000_000, depth: 5 * time.Second}
	sim := newSim(link, 1)
	sim.run(20*time.Second, sim.followEstimate)
	est := sim.e.GetTargetBitrate()
	t.Logf("estimate %d bit/s on a 1 Mbit/s path; queue delay at most %v at first, %v in the last 5 s",
		est, sim.maxQueue, sim.maxQueueLate)
	if est < 600_000 || est > 1_300_000 {
		t.Errorf("estimate %d bit/s on a 1 Mbit/s path", est)
	}
	if sim.maxQueueLate > 250*time.Millisecond {
		t.Errorf("the queue reached %v in the last 5 s: the estimate does not hold the rate down", sim.maxQueueLate)
	}
	if sim.lost != 0 {
		t.Errorf("%d packets lost on a path that drops none", sim.lost)
	}
}

// A wide path with jittery delivery, sending a steady 2 Mbit/s: the
// estimate stays above what the high layer needs.
func TestEstimateHoldsOnAWidePathWithJitter(t *testing.T) {
	link := &simLink{rate: 100_000_000, depth: time.Second, jitter: 8 * time.Millisecond}
	sim := newSim(link, 2)
	sim.run(20*time.Second, sim.constant(2_000_000))
	if est := sim.e.GetTargetBitrate(); est < upCost(2_000_000) {
		t.Errorf("estimate %d bit/s sending 2 Mbit/s on a 100 Mbit/s path: below the %d the layer needs", est, upCost(2_000_000))
	}
}

// A path that drops what does not fit in a shallow queue shows the
// congestion only as loss: the estimate still comes down below it.
func TestEstimateFallsOnLoss(t *testing.T) {
	link := &simLink{rate: 500_000, depth: 50 * time.Millisecond}
	sim := newSim(link, 3)
	sim.run(5*time.Second, sim.constant(900_000))
	est := sim.e.GetTargetBitrate()
	t.Logf("estimate %d bit/s; %d of %d packets lost", est, sim.lost, sim.seq)
	if sim.lost == 0 {
		t.Fatal("the path dropped nothing: the test tests nothing")
	}
	if est > 500_000 {
		t.Errorf("estimate %d bit/s sending 900 kbit/s into a 500 kbit/s path", est)
	}
}

// The estimate's work per packet sent and per report allocates nothing.
func TestEstimatorAllocatesNothing(t *testing.T) {
	link := &simLink{rate: 5_000_000, depth: time.Second}
	sim := newSim(link, 4)
	sim.run(2*time.Second, sim.constant(2_000_000)) // grows what it reuses
	sim.run(100*time.Millisecond, sim.constant(2_000_000))
	reports := sim.feedback(sim.now.Add(time.Second))
	if len(reports) == 0 {
		t.Fatal("no report")
	}
	raw, now := reports[0], sim.now
	var seq uint16
	if n := testing.AllocsPerRun(1000, func() {
		seq++
		sim.e.sent(seq, 1200, now)
		raw[19]++ // a report of its own each time: a repeated one is skipped unread
		sim.e.onFeedback(raw, now)
	}); n != 0 {
		t.Errorf("%v allocations per packet and report", n)
	}
	if sim.e.fbCount != int(raw[19]) {
		t.Fatalf("the last report (count %d) was not read; the estimate is at %d", raw[19], sim.e.fbCount)
	}
}

// simLink is a path: a queue served at rate bits/s that drops a packet
// when it would wait longer than depth, then a fixed delay and jitter.
type simLink struct {
	rate   float64
	depth  time.Duration
	jitter time.Duration
	busy   time.Time // until when the queue is serving
}

// sim drives an estimator with packets over a simLink and the client's
// feedback every 100 ms, on a clock of its own.
type sim struct {
	e       *estimator
	link    *simLink
	rng     *rand.Rand
	now     time.Time
	start   time.Time
	rec     *twcc.Recorder
	pending []arrival // sent, not yet arrived, in order of arrival
	seq     uint16
	lost    int
	// The queue's most delay: overall, and in the last quarter of the
	// run.
	maxQueue, maxQueueLate time.Duration
	trace                  func()
}

type arrival struct {
	seq uint16
	at  time.Time
}

func newSim(link *simLink, seed uint64) *sim {
	start := time.Unix(1_000_000, 0)
	return &sim{e: newEstimator(initialEstimate, start), link: link, rng: rand.New(rand.NewPCG(seed, seed)),
		now: start, start: start, rec: twcc.NewRecorder(1)}
}

const simFrame = time.Second / 30

// run sends a frame every simFrame at the rate rate says, for d.
func (s *sim) run(d time.Duration, rate func() float64) {
	end := s.now.Add(d)
	late := s.now.Add(d * 3 / 4)
	nextFeedback := s.now.Add(100 * time.Millisecond)
	for s.now.Before(end) {
		bits := rate() / 30
		for bits > 0 {
			size := min(1200, int(bits/8)+1)
			bits -= float64(size * 8)
			s.send(size, late)
		}
		s.now = s.now.Add(simFrame)
		for !nextFeedback.After(s.now) {
			for _, raw := range s.feedback(nextFeedback) {
				s.e.onFeedback(raw, nextFeedback.Add(20*time.Millisecond))
			}
			if s.trace != nil {
				s.trace()
			}
			nextFeedback = nextFeedback.Add(100 * time.Millisecond)
		}
	}
}

func (s *sim) send(size int, late time.Time) {
	s.seq++
	s.e.sent(s.seq, size, s.now)
	l := s.link
	begin := s.now
	if l.busy.After(begin) {
		begin = l.busy
	}
	queue := begin.Sub(s.now)
	if queue > l.depth {
		s.lost++
		return
	}
	s.maxQueue = max(s.maxQueue, queue)
	if s.now.After(late) {
		s.maxQueueLate = max(s.maxQueueLate, queue)
	}
	l.busy = begin.Add(time.Duration(float64(size*8) / l.rate * float64(time.Second)))
	at := l.busy.Add(20 * time.Millisecond)
	if l.jitter > 0 {
		at = at.Add(time.Duration(s.rng.Int64N(int64(l.jitter))))
	}
	s.pending = append(s.pending, arrival{s.seq, at})
}

// feedback records what has arrived by now and returns the client's
// reports of it.
func (s *sim) feedback(now time.Time) [][]byte {
	slices.SortFunc(s.pending, func(a, b arrival) int { return a.at.Compare(b.at) })
	n := 0
	for n < len(s.pending) && !s.pending[n].at.After(now) {
		a := s.pending[n]
		s.rec.Record(2, a.seq, a.at.Sub(s.start).Microseconds())
		n++
	}
	s.pending = append(s.pending[:0], s.pending[n:]...)
	var reports [][]byte
	for _, p := range s.rec.BuildFeedbackPacket() {
		if _, ok := p.(*rtcp.TransportLayerCC); !ok {
			continue
		}
		raw, err := p.Marshal()
		if err != nil {
			panic(err)
		}
		reports = append(reports, raw)
	}
	return reports
}

// followEstimate sends what the estimate allows, as the allocator makes
// a subscriber's layers do, up to 3 Mbit/s.
func (s *sim) followEstimate() float64 { return min(float64(s.e.GetTargetBitrate()), 3_000_000) }

func (s *sim) constant(rate float64) func() float64 { return func() float64 { return rate } }
