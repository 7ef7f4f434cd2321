package main

import (
	"context"
	"runtime"
	"syscall"
	"time"
)

// A node that uses less than a core does its work in bursts: a chat
// message, a media packet, a few milliseconds apart. With two Ps each
// burst wakes a second thread (the socket poller hands the ready
// goroutine to another P, an idle P spins and steals, then parks), and
// on a virtual machine a wake-up after a few idle milliseconds costs
// tens of microseconds of CPU, several times the work it carries. On one
// P none of that happens. So while the process uses less than a third
// of a core, it runs on one P, and it takes every P back as soon as a
// window shows it needs them. Measured in docs/benchmarks.md (session
// 19).

// procsRule is when the process changes its number of Ps.
type procsRule struct {
	// window is how often the process's CPU time is read.
	window time.Duration
	// low is the share of one core under which a window counts as
	// quiet; after settle of quiet windows in a row the process goes
	// to one P.
	low    float64
	settle time.Duration
	// high is the share of one core at or above which one window on one
	// P gives the process its Ps back.
	high float64
}

// defaultProcsRule leaves one P well before it limits the process: on
// one P a window can use a whole core, and it is given back at 70 %.
var defaultProcsRule = procsRule{window: 200 * time.Millisecond, low: 0.35, settle: 5 * time.Second, high: 0.70}

// procsState is what the rule remembers between windows.
type procsState struct {
	one   bool          // the process is on one P
	quiet time.Duration // quiet time in a row, while on every P
}

// next returns the state after a window in which the process used share
// of one core, and whether the number of Ps changes.
func (r procsRule) next(s procsState, share float64) (procsState, bool) {
	if s.one {
		if share >= r.high {
			return procsState{}, true
		}
		return s, false
	}
	if share >= r.low {
		return procsState{}, false
	}
	s.quiet += r.window
	if s.quiet >= r.settle {
		return procsState{one: true}, true
	}
	return s, false
}

// governsProcs reports whether the process may change its Ps: not when
// the operator set GOMAXPROCS, nor when the runtime's default is one P
// already.
func governsProcs(getenv func(string) string) bool {
	return getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) > 1
}

// cpuTime is the CPU time, user and system, the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// governProcs applies r until ctx ends, calling changed, when not nil,
// after each change with the new number of Ps. It leaves the process on
// the runtime's default when it returns.
func governProcs(ctx context.Context, r procsRule, changed func(procs int)) {
	t := time.NewTicker(r.window)
	defer t.Stop()
	var s procsState
	used, at := cpuTime(), time.Now()
	for {
		select {
		case <-ctx.Done():
			if s.one {
				runtime.SetDefaultGOMAXPROCS()
			}
			return
		case now := <-t.C:
			u := cpuTime()
			share := float64(u-used) / float64(now.Sub(at))
			used, at = u, now
			var change bool
			if s, change = r.next(s, share); !change {
				continue
			}
			if s.one {
				runtime.GOMAXPROCS(1)
			} else {
				// The default also turns the runtime's own updates
				// (to the CPU limit of the process's cgroup) back on.
				runtime.SetDefaultGOMAXPROCS()
			}
			if changed != nil {
				changed(runtime.GOMAXPROCS(0))
			}
		}
	}
}
