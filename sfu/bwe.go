package sfu

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Bandwidth estimation and simulcast layer choice, per subscriber.
//
// The down connection numbers its packets transport-wide (TWCC) and
// estimates its bandwidth from the client's feedback (gcc.go): the target
// bitrate is what we may send. Every allocTicks of the shared clock
// (clock.go), each subscriber's allocator shares that out
// among the subscriptions and caps the layer each may receive
// (downTrack.allowed); the switch itself happens on a keyframe, in
// downTrack.write.

const (
	// initialEstimate is where the estimate starts. It does not probe:
	// while we send less than it allows it climbs only ~8 %/s, so
	// starting low would hold everyone on the low layer for tens of
	// seconds. A link that cannot take this shows delay and loss within
	// a second or two, and the estimate falls.
	initialEstimate = 3_000_000
	// allocTicks is how often a subscriber's layers are chosen, in ticks
	// of the shared clock: 250 ms.
	allocTicks = 5
	// rateInterval is how often a layer's bitrate is sampled.
	rateInterval = 500 * time.Millisecond
	// rateSmoothing weighs a new sample: keyframes make single samples
	// jumpy, and a layer's cost is its average.
	rateSmoothing = 0.3
	// upHold is how long the estimate must leave room for a higher layer
	// before we move up; going down is at once.
	upHold = 2 * time.Second
)

// upCost is the room moving up to a layer of rate bits/s needs: a fifth
// more, so that the estimate's wobble does not bring us straight back.
func upCost(rate int) int { return rate * 6 / 5 }

// keepCost is the room staying on a layer needs. The estimate answers
// overuse with 0.85 × the rate that got through: on a path that carries
// all we send, a blip of delay, that is 0.85 × our rate and the layer
// survives it; on a path that carries less it is lower, and we go down.
func keepCost(rate int) int { return rate * 4 / 5 }

// startBWE is given the down connection's estimator while the connection
// is built, before p is shared. The allocator it puts on the shared clock
// leaves it when the connection closes.
func (p *Participant) startBWE(e *estimator) {
	p.bwe = e
	sharedClock.add(&allocator{p: p, e: e})
}

// EstimatedBitrate is what the down connection may carry now, in bits/s:
// the estimate from the client's congestion feedback.
func (p *Participant) EstimatedBitrate() int {
	if p.bwe == nil {
		return 0
	}
	return p.bwe.GetTargetBitrate()
}

// allocator chooses p's layers every allocTicks until the down
// connection closes.
type allocator struct {
	p     *Participant
	e     *estimator
	ticks int
	subs  []*downTrack // reused
}

func (a *allocator) tick(now time.Time) bool {
	select {
	case <-a.e.closed:
		return false
	default:
	}
	if a.ticks++; a.ticks%allocTicks != 0 {
		return true
	}
	a.p.mu.Lock()
	a.subs = a.subs[:0]
	for _, d := range a.p.subs {
		a.subs = append(a.subs, d)
	}
	a.p.mu.Unlock()
	allocateLayers(a.subs, a.e.GetTargetBitrate(), now)
	clear(a.subs)
	return true
}

// allocateLayers shares budget (bits/s) among one subscriber's
// subscriptions. Audio is taken off first. Each video gets its lowest
// sounding layer, even beyond the budget: a slow picture beats none.
// Then, level by level, so that every video gets the medium layer before
// any gets the high one, a video moves up while the difference in cost
// fits and the client asked for that layer. A layer costs keepCost up to
// the current cap and upCost above it. The result caps each downTrack
// through settle.
func allocateLayers(subs []*downTrack, budget int, now time.Time) {
	// A stable order, or two videos competing for the same room would
	// trade it back and forth between rounds.
	slices.SortFunc(subs, func(a, b *downTrack) int {
		return cmp.Or(cmp.Compare(a.track.publisher.id, b.track.publisher.id), cmp.Compare(a.track.id, b.track.id))
	})
	video := subs[:0] // filtered in place
	for _, d := range subs {
		if d.track.muted.Load() {
			continue
		}
		d.track.bitrates(now, &d.rates, &d.silent)
		if d.track.kind != webrtc.RTPCodecTypeVideo {
			budget -= d.rates[0]
			continue
		}
		d.target = -1
		for i, r := range d.rates {
			if r > 0 {
				d.target = i
				break
			}
		}
		if d.target < 0 {
			continue // not measured yet, or nothing sent: leave the cap
		}
		budget -= d.cost(d.target)
		video = append(video, d)
	}
	for level := 1; level < maxLayers; level++ {
		for _, d := range video {
			requested, allowed := d.caps()
			if level <= d.target || level > requested {
				continue
			}
			if d.rates[level] == 0 {
				// A layer that runs but has no measured rate yet (it
				// started a moment ago) keeps the cap it has: moving a
				// subscriber down for want of a sample would have it
				// climb back slowly, and a delay blip meanwhile would
				// hold it low. A layer that went silent does not: its
				// subscribers would wait on it with a frozen picture
				// until the publisher sends it again.
				if level <= allowed && d.track.present.Load()&(1<<level) != 0 && !d.silent[level] {
					d.target = level
				}
				continue
			}
			if more := d.cost(level) - d.cost(d.target); more <= budget {
				budget -= more
				d.target = level
			}
		}
	}
	for _, d := range video {
		d.settle(now)
	}
}

// cost is what receiving layer l needs of the budget.
func (d *downTrack) cost(l int) int {
	if _, allowed := d.caps(); l > allowed {
		return upCost(d.rates[l])
	}
	return keepCost(d.rates[l])
}

// settle moves d's cap to its target: down at once, up only once the
// target has stayed above the cap for upHold.
func (d *downTrack) settle(now time.Time) {
	_, allowed := d.caps()
	switch {
	case d.target < allowed:
		d.upSince = time.Time{}
		d.setAllowed(d.target)
	case d.target == allowed:
		d.upSince = time.Time{}
	case d.upSince.IsZero():
		d.upSince = now
	case now.Sub(d.upSince) >= upHold:
		d.upSince = time.Time{}
		d.setAllowed(d.target)
	}
}

// bitrates fills r with the bitrate of each of t's layers, and silent
// with the layers that run but sent nothing in their last sample: a
// publisher stops sending a layer it has no bandwidth or CPU for
// (Chromium drops its higher layers when its encoder falls behind), and
// the layer's track stays.
func (t *Track) bitrates(now time.Time, r *[maxLayers]int, silent *[maxLayers]bool) {
	t.mu.Lock()
	layers := t.layers
	t.mu.Unlock()
	for i, l := range layers {
		r[i], silent[i] = 0, false
		if l != nil {
			r[i], silent[i] = l.rate.bitrate(now, l.bytes.Load())
		}
	}
}

// layerRate turns a layer's byte count into a smoothed bitrate. The read
// loop only counts bytes; whichever allocator comes first after
// rateInterval takes the next sample.
type layerRate struct {
	mu      sync.Mutex
	at      time.Time // of the last sample
	bytes   uint64    // the count then
	last    float64   // the last sample, bits/s
	smooth  float64
	sampled bool // a sample was taken
}

// bitrate is the smoothed bitrate in bits/s given the byte count now; 0
// until the first sample, and while the layer is silent (a publisher
// stops sending a layer it has no bandwidth for). silent says the last
// sample, not the lack of one, gave 0.
func (r *layerRate) bitrate(now time.Time, bytes uint64) (rate int, silent bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at.IsZero() {
		r.at, r.bytes = now, bytes
		return 0, false
	}
	if dt := now.Sub(r.at); dt >= rateInterval {
		sample := float64(bytes-r.bytes) * 8 / dt.Seconds()
		if r.smooth == 0 {
			r.smooth = sample
		} else {
			r.smooth += rateSmoothing * (sample - r.smooth)
		}
		r.at, r.bytes, r.last, r.sampled = now, bytes, sample, true
	}
	if r.last == 0 {
		return 0, r.sampled
	}
	return int(r.smooth), false
}
