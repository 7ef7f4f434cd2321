package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// built is the server binary the tests that start servers share: built
// once per run of the package's tests.
var built struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// serverForTest skips in -short mode (the test builds and starts
// servers), else returns the test's own temporary folder, the server
// binary and the URL of the test PostgreSQL, where the load tester
// makes its fresh databases.
func serverForTest(t *testing.T) (dir, bin, db string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts servers")
	}
	built.once.Do(func() {
		d, err := os.MkdirTemp("", "parley-loadtest-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(d, "parley")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, "parley/cmd/parley").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	db = os.Getenv("PARLEY_TEST_DATABASE_URL")
	if db == "" {
		db = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	return t.TempDir(), built.bin, db
}

// TestMain removes the shared server binary when the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

// runWorkload runs the load tester with args (a workload and its flags),
// its JSON figures written into dir, and fails the test with the output
// and the tail of serverLog when it does not pass. It returns the result
// and what the load tester printed.
func runWorkload(t *testing.T, ctx context.Context, dir, serverLog string, args ...string) (result, string) {
	t.Helper()
	out := filepath.Join(dir, args[0]+".json")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, append(args, "--json", out), &stdout, &stderr); code != 0 {
		log, _ := os.ReadFile(serverLog)
		t.Fatalf("loadtest %s: exit %d\n%s\n%s\nserver log (tail):\n%s", strings.Join(args[:1], " "), code, stdout.String(), stderr.String(), tail(log, 4000))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res, stdout.String()
}
