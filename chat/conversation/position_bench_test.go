package conversation

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPositions is one customer's chat.position for its chat, as
// every connected page asks it every 15 seconds: at C1's 2,080
// connections that is 139 a second whether or not anyone writes. It
// reports the process's CPU per check (user and system, every goroutine
// of the process: the pool's and the runtime's too), which is what the
// server pays; the wall time is mostly PostgreSQL's.
func BenchmarkPositions(b *testing.B) {
	sb := newSendBench(b, 1)
	sb.send(b, 0)
	ctx := context.Background()
	cpu0 := processCPU(b)
	for b.Loop() {
		ps, err := sb.svc.Positions(ctx, sb.customers[0], []ID{sb.convs[0]})
		if err != nil || len(ps) != 1 {
			b.Fatalf("positions: %v %v", ps, err)
		}
	}
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
