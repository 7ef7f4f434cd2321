package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
	if testing.Short() {
		t.Skip("builds and starts three servers")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	if out, err := exec.Command("go", "build", "-o", bin, "parley/cmd/parley").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := os.Getenv("PARLEY_TEST_DATABASE_URL")
	if db == "" {
		db = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	out := filepath.Join(dir, "c2.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"c2", "--nodes", "3", "--kill-node", "1", "--parley", bin, "--database-url", db,
		"--server-log", filepath.Join(dir, "server.log"),
		"--customers", "20", "--agents", "4", "--capacity", "10", "--interval", "500ms", "--duration", "8s",
		"--drain", "20s", "--join-timeout", "60s", "--json", out}, &stdout, &stderr)
	if code != 0 {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		t.Fatalf("loadtest c2 --nodes 3: exit %d\n%s\n%s\nfirst node's log (tail):\n%s", code, stdout.String(), stderr.String(), tail(log, 4000))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	f := res.Figures
	if !res.Pass || f["lost"] != 0 || f["duplicated"] != 0 || f["sent"] == 0 || f["acked"] != f["sent"] {
		t.Errorf("figures %v, pass %v; want every message acked, none lost or duplicated\n%s", f, res.Pass, stdout.String())
	}
	// The 20 customers sat on node 1: each came back on another.
	if f["moved"] < 20 {
		t.Errorf("%v connections moved to another node, want the 20 customers'\n%s", f["moved"], stdout.String())
	}
	for _, want := range []string{"customers on lt1, agents on lt2, lt3", "node lt1 killed with SIGKILL and left dead"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout.String())
		}
	}
}
