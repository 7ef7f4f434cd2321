package signaling

import "sync"

// workerPool runs the lines' work (dispatch.go) on goroutines that stay
// parked between requests instead of one started per request. A fresh
// goroutine begins with a small stack and grows it, copying it each time,
// as the request decodes its data and calls into the domain: at 1,000
// chat messages a second that copying and the start of the goroutine were
// a tenth of the server's CPU (docs/benchmarks.md, "CPU per chat
// message"). A parked worker keeps the stack it grew, and handing it work
// is one channel send.
//
// The pool is shared by the hub's connections: it holds the workers of
// the busiest moment, at most maxIdleWorkers of them parked; one that
// finishes while that many are parked ends. So an idle connection costs
// nothing here, and the pool never holds more goroutines than the
// requests running at once had.
type workerPool struct {
	mu      sync.Mutex
	idle    []chan func() // parked workers, the most recently parked last
	stopped bool          // the hub has shut down: workers end when done
}

// maxIdleWorkers bounds the parked workers: a few times the requests
// that run at once on a busy node (each waits a few milliseconds on the
// database), each a goroutine of a few KiB.
const maxIdleWorkers = 256

// run runs f on a parked worker, or on a new one if none is parked.
func (p *workerPool) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w <- f // buffered: the worker is parked on it, never blocks
		return
	}
	p.mu.Unlock()
	w := make(chan func(), 1)
	w <- f
	go p.work(w)
}

// work is one worker: it runs what it is handed, then parks, or ends when
// enough others are parked. The most recently parked is handed work
// first, so the workers that run are the ones whose stacks are warm.
func (p *workerPool) work(w chan func()) {
	for f := range w {
		f()
		p.mu.Lock()
		if p.stopped || len(p.idle) >= maxIdleWorkers {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
	}
}

// stop ends the parked workers; the ones running end when they are done.
func (p *workerPool) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for _, w := range p.idle {
		close(w)
	}
	p.idle = nil
}
