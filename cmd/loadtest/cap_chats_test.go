package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestFitLineReadsTheFloorAndThePerChatCost(t *testing.T) {
	cpu := func(s capStep) float64 { return s.cpu }
	a, b := fitLine([]capStep{{chats: 1000, cpu: 0.05 + 1000*60e-6}, {chats: 3000, cpu: 0.05 + 3000*60e-6}}, cpu)
	if math.Abs(a-0.05) > 1e-9 || math.Abs(b-60e-6) > 1e-12 {
		t.Errorf("floor %v, per chat %v; want 0.05 and 60e-6", a, b)
	}
	// A larger step that cost less (a busy machine during the smaller
	// one) gives no floor: the largest step's CPU is charged to its chats.
	a, b = fitLine([]capStep{{chats: 1000, cpu: 0.2}, {chats: 3000, cpu: 0.15}}, cpu)
	if a != 0 || math.Abs(b-0.15/3000) > 1e-12 {
		t.Errorf("floor %v, per chat %v; want 0 and %v", a, b, 0.15/3000)
	}
	if a, b = fitLine([]capStep{{chats: 2000, cpu: 0.1}}, cpu); a != 0 || math.Abs(b-0.1/2000) > 1e-12 {
		t.Errorf("one step: floor %v, per chat %v", a, b)
	}
}

func TestCapChatsStepsMustGrow(t *testing.T) {
	c := capChatsConfig{steps: "1000,3000", interval: 1, duration: 1, maxP99: 1, cpuShare: 0.8, perAgent: 25, joinRate: 1}
	if s, err := c.sizes(); err != nil || len(s) != 2 {
		t.Fatalf("%v %v", s, err)
	}
	for _, bad := range []string{"3000,1000", "0", "x", "1000,1000"} {
		c.steps = bad
		if _, err := c.sizes(); err == nil {
			t.Errorf("--steps %q accepted", bad)
		}
	}
}

func TestCapChatsStartsItsServersOnEveryP(t *testing.T) {
	tf := &targetFlags{serverEnv: []string{"A=1"}}
	got := withEveryP(tf).serverEnv
	want := []string{"A=1", fmt.Sprintf("GOMAXPROCS=%d", runtime.NumCPU())}
	if !slices.Equal(got, want) || len(tf.serverEnv) != 1 {
		t.Errorf("withEveryP: %q (the flags' own now %q), want %q", got, tf.serverEnv, want)
	}

	// The environment reaches the server the load tester starts.
	dir, bin, db := serverForTest(t)
	tf = &targetFlags{parley: bin, databaseURL: db, nodes: 1, adminUser: "ada", adminPassword: "demo",
		serverLog: filepath.Join(dir, "server.log"), serverEnv: []string{"GOMAXPROCS=1"}}
	tg, err := tf.open(t.Context(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.close(false)
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", tg.proc.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(environ), "\x00"), "GOMAXPROCS=1") {
		t.Errorf("the started server's environment has no GOMAXPROCS=1: %q", environ)
	}
}
