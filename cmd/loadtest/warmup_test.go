package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// With --warmup the chats queued in the first part of the customers'
// joins are left out of queued → offer and counted apart: every chat is
// in exactly one of the two, and both have some at 20 joins a second
// for two seconds with a one-second warm-up.
func TestWarmupChatsAreReportedApartFromTheMeasuredOnes(t *testing.T) {
	dir, bin, db := serverForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, stdout := runWorkload(t, ctx, dir, filepath.Join(dir, "server.log"), "c1",
		"--parley", bin, "--database-url", db, "--server-log", filepath.Join(dir, "server.log"),
		"--customers", "40", "--agents", "2", "--capacity", "25", "--join-rate", "20", "--warmup", "1s",
		"--interval", "10s", "--duration", "1s", "--drain", "5s", "--join-timeout", "60s")
	if _, ok := res.Figures["offer_first_p99_ms"]; !ok {
		t.Errorf("no offer_first_p99_ms among the figures %v", res.Figures)
	}
	count := func(label string) int {
		m := regexp.MustCompile(label + `\s.*\(n=(\d+)\)`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no %q line with a count in\n%s", label, stdout)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	measured, first := count("queued → offer"), count("… the first")
	if measured+first != 40 || measured == 0 || first == 0 {
		t.Errorf("%d chats measured and %d in the warm-up, want 40 in all and some in each\n%s", measured, first, stdout)
	}
}
