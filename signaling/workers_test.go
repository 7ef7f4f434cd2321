package signaling

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"parley/chat"
)

// A worker that finished parks and takes the next work: the pool starts
// no goroutine while one is parked.
func TestWorkerPoolReusesAParkedWorker(t *testing.T) {
	var p workerPool
	defer p.stop()
	done := make(chan struct{})
	p.run(func() { close(done) })
	<-done
	waitParked(t, &p, 1)
	ran := make(chan struct{})
	p.run(func() { close(ran) })
	<-ran
	waitParked(t, &p, 1) // the same worker, parked again: no second one
}

// Work handed out while every worker is busy gets a worker of its own:
// nothing waits behind a request that blocks.
func TestWorkerPoolNeverQueuesBehindABusyWorker(t *testing.T) {
	var p workerPool
	defer p.stop()
	release := make(chan struct{})
	var started sync.WaitGroup
	const n = 20
	started.Add(n)
	for range n {
		p.run(func() { started.Done(); <-release })
	}
	waited := make(chan struct{})
	go func() { started.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("work waited behind busy workers")
	}
	close(release)
	waitParked(t, &p, n)
}

// At most maxIdleWorkers stay parked; stop ends them.
func TestWorkerPoolParksABoundedNumberAndStops(t *testing.T) {
	var p workerPool
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	var started sync.WaitGroup
	n := maxIdleWorkers + 50
	started.Add(n)
	for range n {
		p.run(func() { started.Done(); <-release })
	}
	started.Wait()
	close(release)
	waitParked(t, &p, maxIdleWorkers)
	waitGoroutines(t, before+maxIdleWorkers)
	p.stop()
	waitGoroutines(t, before)
}

func waitParked(t *testing.T, p *workerPool, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		parked := len(p.idle)
		p.mu.Unlock()
		if parked == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d workers parked, want %d", parked, n)
		}
		runtime.Gosched()
	}
}

func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want at most %d", runtime.NumGoroutine(), n)
		}
		runtime.Gosched()
	}
}

// BenchmarkLineWork is what handing a chat.send to its line costs before
// the domain is called: the hand-off to another goroutine and the Bind of
// its data there, on a goroutine started for it ("fresh", as before) or
// on a parked worker ("pooled").
func BenchmarkLineWork(b *testing.B) {
	env, err := DecodeRequest(sendFrame)
	if err != nil {
		b.Fatal(err)
	}
	work := func(done chan<- struct{}) func() {
		return func() {
			var in chat.SendInput
			if err := Bind(env.Data, &in); err != nil || in.ConversationID != 4211 {
				panic(err)
			}
			done <- struct{}{}
		}
	}
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		done := make(chan struct{})
		for b.Loop() {
			go work(done)()
			<-done
		}
	})
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		var p workerPool
		defer p.stop()
		done := make(chan struct{})
		for b.Loop() {
			p.run(work(done))
			<-done
		}
	})
}

// ParkedWorkers is how many of the hub's workers are parked, for the
// package's outside tests.
func (h *Hub) ParkedWorkers() int {
	h.workers.mu.Lock()
	defer h.workers.mu.Unlock()
	return len(h.workers.idle)
}
