package conversation

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPositions is customers' chat.position checks of their chats,
// 64 at a time, as every connected page asks every 15 seconds: at C1's
// 2,080 connections that is 139 a second whether or not anyone writes.
// It reports the process's CPU per check (user and system, every
// goroutine of the process: the pool's and the runtime's too), which is
// what the server pays; the wall time is mostly the batch's window and
// PostgreSQL's.
func BenchmarkPositions(b *testing.B) {
	sb := newSendBench(b, 64)
	ctx := context.Background()
	cpu0 := processCPU(b)
	b.SetParallelism(32) // 64 checkers on 2 cores
	next := make(chan int, 64)
	for i := range 64 {
		next <- i
	}
	b.RunParallel(func(pb *testing.PB) {
		i := <-next
		for pb.Next() {
			ps, err := sb.svc.Positions(ctx, sb.customers[i], []ID{sb.convs[i]})
			if err != nil || len(ps) != 1 {
				b.Errorf("positions: %v %v", ps, err)
				return
			}
		}
	})
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
