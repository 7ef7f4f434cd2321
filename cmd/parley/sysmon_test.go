package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestGODEBUGGetsSchedtraceUnlessItSetsItAlready(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []string
		want []string
		ok   bool
	}{
		{"no GODEBUG", []string{"A=1"}, []string{"A=1", "GODEBUG=" + sysmonAwake}, true},
		{"an empty one", []string{"GODEBUG=", "A=1"}, []string{"GODEBUG=" + sysmonAwake, "A=1"}, true},
		{"other settings", []string{"GODEBUG=gctrace=0,madvdontneed=1"},
			[]string{"GODEBUG=gctrace=0,madvdontneed=1," + sysmonAwake}, true},
		{"the operator's schedtrace", []string{"GODEBUG=madvdontneed=1, schedtrace=0"},
			[]string{"GODEBUG=madvdontneed=1, schedtrace=0"}, false},
		{"ours, after the exec", []string{"GODEBUG=" + sysmonAwake}, []string{"GODEBUG=" + sysmonAwake}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := withSysmonAwake(c.in)
			if ok != c.ok || !slices.Equal(got, c.want) {
				t.Errorf("withSysmonAwake(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}

// sysmonChildEnv, set, makes the test binary do what the server's main
// does first, then print its pid and GODEBUG.
const sysmonChildEnv = "PARLEY_TEST_SYSMON"

func sysmonChild() int {
	if err := keepSysmonAwake(); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Printf("pid=%d GODEBUG=%s\n", os.Getpid(), os.Getenv("GODEBUG"))
	return 0
}

func TestTheServerStartsAgainInItsProcessWithSchedtraceSet(t *testing.T) {
	for _, c := range []struct {
		name, godebug, want string
	}{
		{"added to the operator's settings", "madvdontneed=1", "madvdontneed=1," + sysmonAwake},
		{"the operator's schedtrace kept", "schedtrace=0", "schedtrace=0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), sysmonChildEnv+"=1", "GODEBUG="+c.godebug)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v\n%s", err, &out)
			}
			// exec keeps the pid: the server is not a child of itself.
			want := fmt.Sprintf("pid=%d GODEBUG=%s\n", cmd.Process.Pid, c.want)
			if got := out.String(); got != want {
				t.Errorf("the child printed %q, want %q", got, want)
			}
		})
	}
}
