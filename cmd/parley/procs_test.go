package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestTheProcessGoesToOnePWhenQuietAndBackAtTheFirstBusyWindow(t *testing.T) {
	r := procsRule{window: time.Second, low: 0.3, settle: 3 * time.Second, high: 0.7}
	for _, c := range []struct {
		name   string
		from   procsState
		share  float64
		want   procsState
		change bool
	}{
		{"a quiet window counts", procsState{}, 0.1, procsState{quiet: time.Second}, false},
		{"quiet windows add up", procsState{quiet: time.Second}, 0.29, procsState{quiet: 2 * time.Second}, false},
		{"enough of them: one P", procsState{quiet: 2 * time.Second}, 0, procsState{one: true}, true},
		{"a window at low is not quiet", procsState{quiet: 2 * time.Second}, 0.3, procsState{}, false},
		{"a busy one starts the count again", procsState{quiet: 2 * time.Second}, 0.9, procsState{}, false},
		{"on one P under high: stay", procsState{one: true}, 0.69, procsState{one: true}, false},
		{"on one P at high: every P", procsState{one: true}, 0.7, procsState{}, true},
		{"on one P a whole core: every P", procsState{one: true}, 1, procsState{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, change := r.next(c.from, c.share)
			if got != c.want || change != c.change {
				t.Errorf("next(%+v, %v) = %+v, %v; want %+v, %v", c.from, c.share, got, change, c.want, c.change)
			}
		})
	}
}

func TestOnlyTheRuntimesOwnChoiceOfPsIsGoverned(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMAXPROCS" {
				return v
			}
			return ""
		}
	}
	if governsProcs(env("2")) {
		t.Error("the operator's GOMAXPROCS is overridden")
	}
	if got, want := governsProcs(env("")), runtime.GOMAXPROCS(0) > 1; got != want {
		t.Errorf("governsProcs = %v with %d Ps, want %v", got, runtime.GOMAXPROCS(0), want)
	}
}

// procsChildEnv, set, makes the test binary govern its Ps with short
// windows and print each change, burning a core between the lines
// "burn" and "rest" on its standard input.
const procsChildEnv = "PARLEY_TEST_PROCS"

func procsChild() int {
	if !governsProcs(os.Getenv) {
		fmt.Println("off")
		return 0
	}
	fmt.Println("start", runtime.GOMAXPROCS(0))
	var burn atomic.Bool
	go func() {
		for {
			for burn.Load() {
			}
			time.Sleep(time.Millisecond)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		governProcs(ctx, procsRule{window: 20 * time.Millisecond, low: 0.1, settle: 200 * time.Millisecond, high: 0.2},
			func(procs int) { fmt.Println("procs", procs) })
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		burn.Store(in.Text() == "burn")
	}
	cancel()
	<-done
	fmt.Println("end", runtime.GOMAXPROCS(0))
	return 0
}

func TestAQuietProcessRunsOnOnePAndABusyOneOnAll(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: the runtime's default is one P already")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, procsChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait() //nolint:errcheck // the test has failed already if it matters
	defer stdin.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		for s := bufio.NewScanner(stdout); s.Scan(); {
			lines <- s.Text()
		}
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got, ok := <-lines:
			if !ok || got != want {
				t.Fatalf("the child printed %q (open %v), want %q", got, ok, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("the child did not print %q within 20 s", want)
		}
	}
	var all int
	select {
	case line := <-lines:
		if _, err := fmt.Sscanf(line, "start %d", &all); err != nil || all < 2 {
			t.Fatalf("the child began with %q, want start and its Ps", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the child did not start within 20 s")
	}
	expect("procs 1")
	io.WriteString(stdin, "burn\n") //nolint:errcheck // the next line's wait fails if it did not arrive
	expect(fmt.Sprintf("procs %d", all))
	io.WriteString(stdin, "rest\n") //nolint:errcheck // as above
	expect("procs 1")
	stdin.Close()
	expect(fmt.Sprintf("end %d", all))
}
