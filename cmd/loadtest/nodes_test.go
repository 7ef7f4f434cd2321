package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestC2AcrossNodesMovesEveryClientAndLosesNothing runs C2 small over
// three nodes the load tester starts (an embedded NATS server, one fresh
// database on the test PostgreSQL) and kills the customers' node: every
// customer must come back on another node and resume, with no message
// lost or doubled.
func TestC2AcrossNodesMovesEveryClientAndLosesNothing(t *testing.T) {
	dir, bin, db := serverForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, stdout := runWorkload(t, ctx, dir, filepath.Join(dir, "server.log"), "c2", "--nodes", "3", "--kill-node", "1",
		"--parley", bin, "--database-url", db, "--server-log", filepath.Join(dir, "server.log"),
		"--customers", "20", "--agents", "4", "--capacity", "10", "--interval", "500ms", "--duration", "8s",
		"--drain", "20s", "--join-timeout", "60s")
	f := res.Figures
	if !res.Pass || f["lost"] != 0 || f["duplicated"] != 0 || f["sent"] == 0 || f["acked"] != f["sent"] {
		t.Errorf("figures %v, pass %v; want every message acked, none lost or duplicated\n%s", f, res.Pass, stdout)
	}
	// The 20 customers sat on node 1: each came back on another.
	if f["moved"] < 20 {
		t.Errorf("%v connections moved to another node, want the 20 customers'\n%s", f["moved"], stdout)
	}
	for _, want := range []string{"customers on lt1, agents on lt2, lt3", "node lt1 killed with SIGKILL and left dead"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestSeveralNodesFlagsRefuseBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a URL without a scheme", []string{"--url", "http://127.0.0.1:8080,127.0.0.1:8081"}, `"127.0.0.1:8081"`},
		{"an empty URL in the list", []string{"--url", "http://127.0.0.1:8080,"}, `--url ""`},
		{"metrics URLs not one per node", []string{"--url", "http://127.0.0.1:8080,http://127.0.0.1:8081", "--metrics-url", "http://127.0.0.1:9090/metrics"}, "1 URLs for 2 nodes"},
		{"no node", []string{"--nodes", "0"}, "--nodes 1–16"},
		{"too many nodes", []string{"--nodes", "17"}, "--nodes 1–16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			code := run(context.Background(), append([]string{"c1"}, tc.args...), &out, &errs)
			if code != 2 || !strings.Contains(errs.String(), tc.want) {
				t.Errorf("exit %d, %q; want 2 and %q", code, errs.String(), tc.want)
			}
		})
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"c2", "--nodes", "3", "--kill-node", "4"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), "--kill-node 4: the run has nodes 1–3") {
		t.Errorf("c2 --kill-node 4 of 3: exit %d, %q; want 2", code, errs.String())
	}
}

func TestAgentsSitOnOtherNodesThanCustomers(t *testing.T) {
	for _, n := range []int{2, 3, 5} {
		tg := &target{}
		for i := range n {
			tg.nodes = append(tg.nodes, &endpoint{ws: fmt.Sprintf("ws://node%d/ws", i)})
		}
		home := tg.customerURLs(0)[0]
		seen := map[string]bool{}
		for i := range 20 {
			urls := tg.agentURLs(i)
			if urls[0] == home {
				t.Errorf("%d nodes: agent %d on the customers' node", n, i)
			}
			if len(urls) != n {
				t.Errorf("%d nodes: agent %d can reach %d nodes, want every one", n, i, len(urls))
			}
			seen[urls[0]] = true
		}
		if len(seen) != n-1 {
			t.Errorf("%d nodes: agents on %d nodes, want %d", n, len(seen), n-1)
		}
	}
	one := &target{nodes: []*endpoint{{ws: "ws://only/ws"}}}
	if got := one.agentURLs(3); len(got) != 1 || got[0] != "ws://only/ws" {
		t.Errorf("one node: agent on %v", got)
	}
}
