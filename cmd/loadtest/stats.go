package main

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// latencies collects durations; percentiles are read at the end.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// summary is a set of latencies in a few numbers.
type summary struct {
	N             int
	P50, P99, Max time.Duration
}

func (l *latencies) summary() summary {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	slices.Sort(d)
	s := summary{N: len(d)}
	if len(d) == 0 {
		return s
	}
	s.P50, s.P99, s.Max = percentile(d, 0.50), percentile(d, 0.99), d[len(d)-1]
	return s
}

// percentile of sorted d, nearest rank.
func percentile(d []time.Duration, p float64) time.Duration {
	i := int(float64(len(d))*p+0.999999) - 1
	i = max(0, min(i, len(d)-1))
	return d[i]
}

func (s summary) String() string {
	if s.N == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (n=%d)", ms(s.P50), ms(s.P99), ms(s.Max), s.N)
}

// ms prints a duration in milliseconds with sensible precision.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.0f ms", v)
	}
}

// mb prints bytes in MiB.
func mb(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// kb prints bytes in KiB.
func kb(b float64) string { return fmt.Sprintf("%.1f KiB", b/(1<<10)) }
