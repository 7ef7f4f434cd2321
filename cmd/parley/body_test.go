package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// childEnv, set, makes the test binary serve as the server with the
// variable's arguments (one a line), so that a test can read the server's
// own RSS from /proc.
const childEnv = "PARLEY_TEST_SERVE"

func serveAsChild(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ready := make(chan string, 1)
	go func() { fmt.Fprintln(os.Stdout, "ready", <-ready) }()
	if err := run(ctx, args, func(string) string { return "" }, os.Stderr, os.Stderr, ready); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		return 1
	}
	return 0
}

// startProcess runs the server as a process of its own and returns its
// base URL and pid.
func startProcess(t *testing.T, dbURL string, extra ...string) (base string, pid int) {
	t.Helper()
	base, pid, err := spawnProcess(t, dbURL, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return base, pid
}

// spawnProcess is startProcess for any goroutine: it returns what went
// wrong rather than failing the test. The process is stopped when t ends.
func spawnProcess(t *testing.T, dbURL string, extra ...string) (base string, pid int, err error) {
	args := append([]string{"--listen", "127.0.0.1:0", "--database-url", dbURL, "--bcrypt-cost", "4", "--log-level", "warn",
		"--public-url", "http://127.0.0.1:1", "--media-udp-port", "0", "--media-tcp-port", "0", "--turn-port", "0"}, extra...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\n"))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, err
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		<-exited
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				addr <- a
			}
		}
		cmd.Wait() //nolint:errcheck
		close(exited)
	}()
	select {
	case a := <-addr:
		return "http://" + a, cmd.Process.Pid, nil
	case <-exited:
		return "", 0, fmt.Errorf("the server process ended before serving: %v", cmd.ProcessState)
	case <-time.After(60 * time.Second):
		return "", 0, fmt.Errorf("the server process did not start within 60s")
	}
}

// rss is the resident set of process pid, in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// bigBody is a JSON object n bytes long, made as it is read: the test
// never holds it.
type bigBody struct{ left int64 }

func (b *bigBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	for i := range p {
		p[i] = '1'
	}
	if b.left == 256<<20 && len(p) >= 11 {
		copy(p, `{"number":"`)
	}
	b.left -= int64(len(p))
	return len(p), nil
}

// The "done when": eight 256 MiB bodies posted at once to every
// route, signed out, and the server's RSS stays under 100 MB. Half of
// them declare their length, half are sent chunked.
func TestEightHugeBodiesAtOnceLeaveTheServersMemoryAlone(t *testing.T) {
	t.Parallel()
	const limit = 100 << 20
	base, pid := startProcess(t, testDB(t))
	before, err := rss(pid)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var peak atomic.Int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			r, err := rss(pid)
			if err != nil {
				continue
			}
			if r > peak.Load() {
				peak.Store(r)
			}
			if r >= limit {
				cancel() // failed already: stop sending
			}
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}}
	for _, r := range routes(t) {
		url := base + concrete(r.Path, "demo")
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var body io.Reader = &bigBody{256 << 20}
				if i%2 == 1 {
					body = struct{ io.Reader }{body} // no length: chunked
				}
				req, _ := http.NewRequestWithContext(ctx, r.Method, url, body)
				req.Header.Set("Content-Type", "application/json")
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body) //nolint:errcheck
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			break
		}
	}
	cancel()
	<-sampled
	t.Logf("server RSS %d MB before, at most %d MB during", before>>20, peak.Load()>>20)
	if peak.Load() >= limit {
		t.Fatalf("the server's RSS reached %d MB (limit %d MB)", peak.Load()>>20, limit>>20)
	}
}
