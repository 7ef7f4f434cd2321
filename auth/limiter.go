package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter rate-limits by key (a client address, say): each key has its own
// token bucket. Keys unused for a while are forgotten, so the map does not
// grow without bound under a spray of addresses.
type Limiter struct {
	every rate.Limit
	burst int
	idle  time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter allows burst events at once per key, refilled at one per
// every.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{
		every:   rate.Every(every),
		burst:   burst,
		idle:    every*time.Duration(burst) + time.Minute,
		buckets: make(map[string]*bucket),
	}
}

// Allow takes one event from key's bucket. When it refuses, retry is how
// long until the next event would be allowed.
func (l *Limiter) Allow(key string) (ok bool, retry time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.idle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > l.idle {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Blocked reports, without taking anything, whether key's bucket is empty
// now, and if so how long until it holds one event again. With Allow
// called only on failures, it limits failures (wrong guesses) and lets
// successes through.
func (l *Limiter) Blocked(key string) (blocked bool, retry time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return false, 0
	}
	if tokens := b.lim.TokensAt(now); tokens < 1 {
		return true, time.Duration((1 - tokens) / float64(l.every) * float64(time.Second))
	}
	return false, 0
}
