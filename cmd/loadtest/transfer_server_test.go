package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTransferWorkloadAgainstAServer runs T1 small against a server it
// builds and starts (a fresh database on the test PostgreSQL): every
// transfer, to an agent and to a queue, must be done, with nothing lost or
// doubled.
func TestTransferWorkloadAgainstAServer(t *testing.T) {
	dir, bin, db := serverForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, stdout := runWorkload(t, ctx, dir, filepath.Join(dir, "server.log"), "t1", "--parley", bin, "--database-url", db,
		"--server-log", filepath.Join(dir, "server.log"),
		"--customers", "8", "--agents", "3", "--capacity", "10", "--transfers", "10", "--rate", "10",
		"--settle", "1s", "--transfer-timeout", "10s", "--drain", "10s")
	f := res.Figures
	if !res.Pass || f["transfers_done"] != 10 || f["to_agent"] != 5 || f["to_queue"] != 5 ||
		f["lost"] != 0 || f["duplicated"] != 0 || f["sent"] == 0 || f["acked"] != f["sent"] {
		t.Errorf("figures %v, pass %v; want 10 transfers done (5 to an agent, 5 to a queue), every message acked, none lost or duplicated\n%s",
			f, res.Pass, stdout)
	}
	for _, want := range []string{"transfer → accept", "to an agent", "to a queue", "lost", "duplicated"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout)
		}
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
