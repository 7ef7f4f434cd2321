package sfu

import (
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// A down connection's send-side bandwidth estimate, after Google
// Congestion Control (draft-ietf-rmcat-gcc-02, and libwebrtc's trendline
// estimator), on the client's transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01).
//
// downWriter notes every packet it sends under its transport-wide
// sequence number (sent); the client reports which of them arrived and
// when (onFeedback). Two estimates come of that:
//
//   - delay-based: packets are grouped by send time in bursts of 5 ms;
//     the change from group to group of (arrival gap − send gap) is the
//     queue growing or draining. A least-squares line through its
//     smoothed sum over the last 20 groups (from 5 on) is the trend;
//     above an adaptive threshold the path is overused and the rate
//     drops to 0.85 × what got through; otherwise it climbs, 8 % a
//     second, or by about a packet per response time near the rate the
//     path gave out at before. It does not climb while a queue stands
//     (the trend sees a queue change, not one that stays), so what an
//     overshoot queued drains first.
//   - loss-based: over 10 % of packets lost cuts the rate by half the
//     loss fraction; under 2 % lets it climb back, 5 % every 200 ms, up
//     to the delay-based estimate. (A shallow queue that drops what does
//     not fit shows the congestion only as loss.)
//
// The target is the lower of the two. Nothing is allocated per packet
// and the sending side takes no lock: each send is one atomic store.

const (
	// sentSlots is how many sent packets are remembered, a power of two:
	// about 4 s of a 2.5 Mbit/s stream. Feedback about older packets is
	// ignored.
	sentSlots = 1024
	// burstSpan groups packets sent this close together: one frame's.
	burstSpan = 5000 // µs
	// trendWindow is how many groups the trend line is fitted through,
	// and trendFirst how many it needs at first. libwebrtc waits for
	// the whole window, but it starts low and probes; we start high, and
	// on a narrow path a frame's group may take 100 ms to arrive.
	trendWindow, trendFirst = 20, 5
	// trendSmoothing weighs the smoothed delay's past.
	trendSmoothing = 0.9
	// trendGain scales the slope to compare it with the threshold.
	trendGain = 4.0
	// overuseTime is how long the trend must stay over the threshold.
	overuseTime = 10.0 // ms
	// The adaptive threshold, ms: its start, bounds and how fast it
	// follows the trend up and down.
	thresholdStart, thresholdMin, thresholdMax = 12.5, 6.0, 600.0
	thresholdUp, thresholdDown                 = 0.0087, 0.039
	// backoff is what the rate drops to on overuse, times the rate that
	// got through.
	backoff = 0.85
	// responseTime is how long a change of rate takes to show in the
	// feedback: the feedback interval and a round trip.
	responseTime = 200 * time.Millisecond
	// The rate's bounds, bits/s.
	minEstimate, maxEstimate = 50_000, 100_000_000
	// ackedBucket and ackedBuckets make the window over which the rate
	// that got through is measured, by arrival time: 500 ms.
	ackedBucket  = 50_000 // µs
	ackedBuckets = 10
	// floorSpan is how long the least one-way delay is remembered, µs.
	floorSpan = 10_000_000
	// standingQueue is the queue beyond which the rate does not climb,
	// µs: after a cut, it climbs again only once the queue has drained.
	standingQueue = 100_000
	// lossInterval is the least time between two cuts for loss.
	lossInterval = 300 * time.Millisecond
	// Without loss, the loss-based rate climbs back by lossUpFactor every
	// lossUpInterval, never above the delay-based one.
	lossUpInterval, lossUpFactor = 200 * time.Millisecond, 1.05
)

// usage is what the trend says of the path.
type usage int8

const (
	usageNormal usage = iota
	usageOver
	usageUnder
)

// estimator is a down connection's bandwidth estimate. Closing it (as the
// connection closes) ends the participant's allocator.
type estimator struct {
	start  time.Time
	sentAt [sentSlots]atomic.Uint64 // µs since start (32 bits) | sequence (16) | size (16)
	target atomic.Int64             // bits/s

	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex // the rest: feedback is read by one RTCP reader at a time, but which one varies
	acks     []twccAck  // one report's packets, reused
	fbCount  int        // the last report's feedback packet count; -1 before the first
	refBase  int64      // the client's reference time, unwrapped, µs
	refLast  uint32     // its last 24-bit value
	haveRef  bool
	delay    delayTrend
	rate     rateControl
	acked    ackedRate
	lossRate float64 // the loss-based estimate, bits/s
	lossLost int     // packets lost and received since the last loss decision
	lossGot  int
	lossAt   time.Time // of the last cut for loss
	lossUp   time.Time // of the last step up
	lossEval time.Time // of the last judgement
}

func newEstimator(initial int, now time.Time) *estimator {
	e := &estimator{start: now, closed: make(chan struct{}), fbCount: -1, lossRate: float64(initial)}
	e.delay.threshold = thresholdStart
	e.rate.target = float64(initial)
	e.rate.state = stateIncrease
	e.delay.overFor = -1
	e.target.Store(int64(initial))
	return e
}

// Close ends the estimate; the allocator sees closed.
func (e *estimator) Close() error {
	e.once.Do(func() { close(e.closed) })
	return nil
}

// GetTargetBitrate is what the connection may carry now, bits/s.
func (e *estimator) GetTargetBitrate() int { return int(e.target.Load()) }

// sent notes a packet of size bytes sent now under transport-wide
// sequence number seq.
func (e *estimator) sent(seq uint16, size int, now time.Time) {
	at := uint32(now.Sub(e.start) / time.Microsecond) //nolint:gosec // wraps after 71 minutes; read back as an age
	e.sentAt[seq%sentSlots].Store(uint64(at)<<32 | uint64(seq)<<16 | uint64(min(size, math.MaxUint16)))
}

// sendTime is when packet seq was sent, µs since start, and its size; ok
// is false when it is no longer (or never was) remembered. nowUS is the
// time now on the same scale, to unwrap the 32-bit stamp.
func (e *estimator) sendTime(seq uint16, nowUS int64) (at int64, size int, ok bool) {
	v := e.sentAt[seq%sentSlots].Load()
	if v == 0 || uint16(v>>16) != seq {
		return 0, 0, false
	}
	age := uint32(nowUS) - uint32(v>>32) //nolint:gosec // modular on purpose
	return nowUS - int64(age), int(v & 0xffff), true
}

// twccAck is one packet of a feedback report: its symbol, then its
// arrival time on the client's clock (µs) if it arrived.
type twccAck struct {
	symbol  uint8 // 0 not received, 1 small delta, 2 large delta
	arrival int64
}

// parseTWCC reads a transport-wide feedback packet (RTPFB, FMT 15), p
// being the whole RTCP packet, into acks (reused). It returns the base
// sequence number, the reference time (24 bits, in 64 ms), the feedback
// count, and false when p is malformed.
func parseTWCC(p []byte, acks []twccAck) (_ []twccAck, base uint16, ref uint32, count uint8, ok bool) {
	acks = acks[:0]
	if len(p) < 20 {
		return acks, 0, 0, 0, false
	}
	base = binary.BigEndian.Uint16(p[12:])
	total := int(binary.BigEndian.Uint16(p[14:]))
	ref = uint32(p[16])<<16 | uint32(p[17])<<8 | uint32(p[18])
	count = p[19]
	i := 20
	for len(acks) < total {
		if i+2 > len(p) {
			return acks, 0, 0, 0, false
		}
		c := binary.BigEndian.Uint16(p[i:])
		i += 2
		switch {
		case c&0x8000 == 0: // run length: a symbol and how many
			sym, run := uint8(c>>13&3), int(c&0x1fff)
			for range min(run, total-len(acks)) {
				acks = append(acks, twccAck{symbol: sym})
			}
		case c&0x4000 == 0: // fourteen one-bit symbols
			for b := 13; b >= 0 && len(acks) < total; b-- {
				acks = append(acks, twccAck{symbol: uint8(c >> b & 1)})
			}
		default: // seven two-bit symbols
			for b := 12; b >= 0 && len(acks) < total; b -= 2 {
				acks = append(acks, twccAck{symbol: uint8(c >> b & 3)})
			}
		}
	}
	// Then a receive delta, in 250 µs, for every packet that arrived:
	// one unsigned byte for a small one, two signed for a large one.
	var at int64
	for k := range acks {
		switch acks[k].symbol {
		case 0:
			continue
		case 1:
			if i+1 > len(p) {
				return acks, 0, 0, 0, false
			}
			at += int64(p[i]) * 250
			i++
		case 2:
			if i+2 > len(p) {
				return acks, 0, 0, 0, false
			}
			at += int64(int16(binary.BigEndian.Uint16(p[i:]))) * 250 //nolint:gosec // a signed field
			i += 2
		default:
			return acks, 0, 0, 0, false
		}
		acks[k].arrival = at
	}
	return acks, base, ref, count, true
}

// onFeedback takes one transport-wide feedback packet from the client.
func (e *estimator) onFeedback(p []byte, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	acks, base, ref, count, ok := parseTWCC(p, e.acks)
	e.acks = acks
	if !ok || len(acks) == 0 || int(count) == e.fbCount {
		// Pion's SRTCP session hands a report to the one stream its
		// media SSRC names, so each comes once; the count keeps a report
		// read twice from counting its packets twice.
		return
	}
	e.fbCount = int(count)
	// The reference time is 24 bits of 64 ms; unwrap it.
	if !e.haveRef {
		e.refBase, e.haveRef = int64(ref)*64000, true
	} else {
		d := int32(ref<<8-e.refLast<<8) >> 8 //nolint:gosec // a signed 24-bit difference
		e.refBase += int64(d) * 64000
	}
	e.refLast = ref

	nowUS := int64(now.Sub(e.start) / time.Microsecond)
	lost, got := 0, 0
	for k, a := range acks {
		sentUS, size, known := e.sendTime(base+uint16(k), nowUS) //nolint:gosec // sequence numbers wrap
		if !known {
			continue
		}
		if a.symbol == 0 {
			lost++
			continue
		}
		got++
		arrival := e.refBase + a.arrival
		e.acked.add(arrival, size)
		e.delay.add(sentUS, arrival)
	}
	e.update(now, lost, got)
}

// update moves the estimate after a report with lost and got packets.
func (e *estimator) update(now time.Time, lost, got int) {
	acked := e.acked.rate()
	e.rate.apply(e.delay.usage, e.delay.queued > standingQueue, acked, now)

	e.lossLost += lost
	e.lossGot += got
	if n := e.lossLost + e.lossGot; n >= 20 || n >= 5 && now.Sub(e.lossEval) >= lossUpInterval {
		e.lossEval = now
		loss := float64(e.lossLost) / float64(n)
		e.lossLost, e.lossGot = 0, 0
		switch {
		case loss > 0.10:
			if now.Sub(e.lossAt) >= lossInterval {
				e.lossRate = min(e.lossRate, e.rate.target) * (1 - loss/2)
				e.lossAt = now
			}
		case loss < 0.02:
			if now.Sub(e.lossUp) >= lossUpInterval {
				e.lossRate = min(e.rate.target, e.lossRate*lossUpFactor)
				e.lossUp = now
			}
		}
	}
	target := min(e.rate.target, e.lossRate)
	e.target.Store(int64(math.Max(minEstimate, math.Min(maxEstimate, target))))
}

// delayTrend is the delay-based detector: send-time groups, the trend of
// their queueing delay, and the adaptive threshold it is judged by.
type delayTrend struct {
	group, prev struct {
		firstSend, lastSend, lastArrival int64 // µs
		set                              bool
	}
	accumulated, smoothed float64 // ms
	firstArrival          int64   // µs, of the first sample: x is measured from it
	xs, ys                [trendWindow]float64
	next                  int // the slot of xs and ys to fill next
	points                int // how many of them hold a sample
	deltas                int // groups compared, capped
	trend, prevTrend      float64
	threshold             float64
	overFor               float64 // ms the trend has been over the threshold; -1 when it is not
	overCount             int
	lastUpdate            int64 // arrival µs of the last threshold update
	usage                 usage
	// The one-way delay of each group (arrival − send, on two unrelated
	// clocks: only its changes mean anything) and its least over the
	// last floorSpan to 2 × floorSpan: what is above it is queue. The
	// trend sees a queue grow or drain, not one that stands.
	floor, floorPrev, floorSince int64 // µs
	floorSet                     bool
	queued                       int64 // µs, the last group's delay above the floor
}

// add takes one received packet, in the order the client reported them
// (send order).
func (d *delayTrend) add(sendUS, arrivalUS int64) {
	g := &d.group
	switch {
	case !g.set:
		g.firstSend, g.lastSend, g.lastArrival, g.set = sendUS, sendUS, arrivalUS, true
		return
	case sendUS < g.firstSend:
		return // reordered from an earlier group
	case sendUS-g.firstSend <= burstSpan:
		g.lastSend = max(g.lastSend, sendUS)
		g.lastArrival = max(g.lastArrival, arrivalUS)
		return
	}
	// The packet starts a new group: the one before is complete.
	d.standing(g.lastSend, g.lastArrival)
	if d.prev.set {
		sendGap := g.lastSend - d.prev.lastSend
		arrivalGap := g.lastArrival - d.prev.lastArrival
		d.sample(float64(arrivalGap-sendGap)/1000, g.lastArrival, float64(arrivalGap)/1000)
	}
	d.prev = *g
	g.firstSend, g.lastSend, g.lastArrival = sendUS, sendUS, arrivalUS
}

// standing updates the delay floor and the queue above it with a
// complete group's last packet.
func (d *delayTrend) standing(sendUS, arrivalUS int64) {
	owd := arrivalUS - sendUS
	switch {
	case !d.floorSet:
		d.floor, d.floorPrev, d.floorSince, d.floorSet = owd, owd, arrivalUS, true
	case arrivalUS-d.floorSince > floorSpan:
		d.floorPrev, d.floor, d.floorSince = d.floor, owd, arrivalUS
	default:
		d.floor = min(d.floor, owd)
	}
	d.queued = owd - min(d.floor, d.floorPrev)
}

// sample takes one group's delay variation (ms), at arrival (µs), the
// arrival gap (ms) being how long it took to show.
func (d *delayTrend) sample(variation float64, arrival int64, gap float64) {
	if d.deltas == 0 {
		d.firstArrival = arrival
	}
	d.deltas = min(d.deltas+1, 1000)
	d.accumulated += variation
	d.smoothed = trendSmoothing*d.smoothed + (1-trendSmoothing)*d.accumulated
	d.xs[d.next], d.ys[d.next] = float64(arrival-d.firstArrival)/1000, d.smoothed
	d.next = (d.next + 1) % trendWindow
	d.points = min(d.points+1, trendWindow)
	if d.points >= trendFirst {
		d.trend = slope(d.xs[:d.points], d.ys[:d.points])
	}
	d.detect(gap, arrival)
}

// slope fits a least-squares line through the points and returns its
// slope, 0 when the xs do not vary.
func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(xs))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// detect judges the trend against the threshold and adapts the
// threshold. Overuse is declared once the trend has been over the
// threshold for overuseTime and more than one group, and is not falling;
// it lasts until the trend is back under.
func (d *delayTrend) detect(gap float64, arrival int64) {
	if d.deltas < 2 {
		return
	}
	t := math.Min(float64(d.deltas), 60) * d.trend * trendGain
	rising := t >= d.prevTrend
	d.prevTrend = t
	switch {
	case t > d.threshold:
		if d.overFor < 0 {
			d.overFor = gap / 2
		} else {
			d.overFor += gap
		}
		d.overCount++
		if d.overFor > overuseTime && d.overCount > 1 && rising {
			d.overFor, d.overCount = 0, 0
			d.usage = usageOver
		}
	case t < -d.threshold:
		d.overFor, d.overCount = -1, 0
		d.usage = usageUnder
	default:
		d.overFor, d.overCount = -1, 0
		d.usage = usageNormal
	}
	d.adapt(t, arrival)
}

// adapt moves the threshold toward |t|: slowly up, so that a sudden jump
// of delay still counts, faster down.
func (d *delayTrend) adapt(t float64, arrival int64) {
	if d.lastUpdate == 0 {
		d.lastUpdate = arrival
	}
	abs := math.Abs(t)
	if abs > d.threshold+15 {
		// A spike, not a level: leave the threshold where it is.
		d.lastUpdate = arrival
		return
	}
	k := thresholdDown
	if abs > d.threshold {
		k = thresholdUp
	}
	dt := math.Min(float64(arrival-d.lastUpdate)/1000, 100)
	d.threshold = math.Max(thresholdMin, math.Min(thresholdMax, d.threshold+k*(abs-d.threshold)*dt))
	d.lastUpdate = arrival
}

// rateState is the rate controller's state.
type rateState int8

const (
	stateHold rateState = iota
	stateIncrease
	stateDecrease
)

// rateControl is the delay-based rate: additive increase near the rate
// the path last gave out at, multiplicative elsewhere, multiplicative
// decrease on overuse.
type rateControl struct {
	target     float64 // bits/s
	state      rateState
	lastChange time.Time
	// The rate that got through at the last decreases: its average and
	// variance, where the path's capacity probably is.
	capacity, capacityVar float64
}

// apply moves the rate on the detector's usage, acked being the rate that
// got through (0 while unknown) and queued whether a queue stands on the
// path. It is called once a report.
func (r *rateControl) apply(u usage, queued bool, acked float64, now time.Time) {
	switch {
	case u == usageOver:
		r.state = stateDecrease
	case u == usageUnder || queued:
		r.state = stateHold // the queue drains: wait for it
	case r.state == stateHold:
		r.state = stateIncrease
	case r.state == stateDecrease:
		r.state = stateHold
	}
	if r.lastChange.IsZero() {
		r.lastChange = now
	}
	dt := now.Sub(r.lastChange)
	r.lastChange = now
	switch r.state {
	case stateIncrease:
		was := r.target
		if acked > 0 && r.nearCapacity(acked) {
			// About one packet more per response time.
			bitsPerFrame := r.target / 30
			packets := math.Ceil(bitsPerFrame / (1200 * 8))
			step := 0.5 * math.Min(float64(dt)/float64(responseTime), 1) * bitsPerFrame / packets
			r.target += math.Max(1000, step)
		} else {
			r.target *= math.Pow(1.08, math.Min(dt.Seconds(), 1))
		}
		// Without probing, the rate grows past what is sent, which
		// the allocator moves up on. But while what is sent is close
		// to the rate, it goes no further than half again above what
		// got through.
		if bound := 1.5*acked + 10_000; acked > 0 && bound > was {
			r.target = math.Min(r.target, bound)
		}
	case stateDecrease:
		// While the overuse lasts, every report brings the rate down to
		// backoff × what gets through, never up.
		if acked > 0 {
			r.target = math.Min(r.target, backoff*acked)
			r.noteCapacity(acked)
		} else {
			r.target *= backoff
		}
	}
	r.target = math.Max(minEstimate, math.Min(maxEstimate, r.target))
}

// nearCapacity reports whether acked is within three standard deviations
// of the rate at which the path last gave out.
func (r *rateControl) nearCapacity(acked float64) bool {
	if r.capacity == 0 {
		return false
	}
	sd := math.Sqrt(r.capacityVar)
	return math.Abs(acked-r.capacity) <= 3*math.Max(sd, 0.05*r.capacity)
}

func (r *rateControl) noteCapacity(acked float64) {
	if r.capacity == 0 {
		r.capacity = acked
		return
	}
	const a = 0.05 // weight of the new sample
	d := acked - r.capacity
	r.capacity += a * d
	r.capacityVar = (1 - a) * (r.capacityVar + a*d*d)
}

// ackedRate is the rate that got through, over the last
// ackedBuckets × ackedBucket of arrival time.
type ackedRate struct {
	bytes [ackedBuckets]int
	head  int64 // bucket of the latest arrival
	first int64 // bucket of the first arrival
	set   bool
}

func (a *ackedRate) add(arrivalUS int64, size int) {
	b := arrivalUS / ackedBucket
	switch {
	case !a.set:
		a.head, a.first, a.set = b, b, true
	case b > a.head:
		for i := a.head + 1; i <= b && i <= a.head+ackedBuckets; i++ {
			a.bytes[bucketIndex(i)] = 0
		}
		a.head = b
	case b <= a.head-ackedBuckets:
		return // older than the window
	}
	a.bytes[bucketIndex(b)] += size
}

// bucketIndex is bucket b's place in the ring; b may be negative (the
// client's clock is arbitrary).
func bucketIndex(b int64) int { return int((b%ackedBuckets + ackedBuckets) % ackedBuckets) }

// rate is bits/s over the window, 0 until it spans 200 ms.
func (a *ackedRate) rate() float64 {
	span := min(a.head-a.first+1, ackedBuckets)
	if !a.set || span < 4 {
		return 0
	}
	total := 0
	for i := a.head - span + 1; i <= a.head; i++ {
		total += a.bytes[bucketIndex(i)]
	}
	return float64(total) * 8 / (float64(span) * ackedBucket / 1e6)
}
