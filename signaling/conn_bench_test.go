package signaling

import (
	"io"
	"log/slog"
	"net"
	"testing"

	"parley/auth"
	"parley/bus"
)

// BenchmarkNewConn is what a connection holds from its start, before it
// subscribes or sends anything: B/op is the heap of an idle connection's
// Conn (docs/benchmarks.md, idle memory).
func BenchmarkNewConn(b *testing.B) {
	h := NewHub(DefaultConfig(), bus.NewMemory(), NewRouter(), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	p := auth.Principal{Kind: auth.KindVisitor, Subject: "v-0123456789abcdef", Scope: "support"}
	b.ReportAllocs()
	for b.Loop() {
		c := newConn(server, "c-0123456789abcdef", p, h)
		c.cancel()
	}
}
