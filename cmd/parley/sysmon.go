package main

import (
	"os"
	"strings"
	"syscall"
)

// The Go runtime's monitor thread (sysmon) sleeps 20 µs at a time while
// the process works, backing off to 10 ms once it has had nothing to do
// for 50 turns. When every P is idle it goes into a deep sleep instead,
// and then the first system call any goroutine makes wakes it and starts
// it again at 20 µs. A server whose traffic comes in bursts a millisecond
// or two apart (a message, a media packet) falls idle between them, so
// sysmon is woken once a burst and spends it in 20 µs sleeps: at 1,000
// chat messages a second it made half the server's context switches, and
// on a virtual machine each costs tens of microseconds.
//
// The runtime has no setting for sysmon, but it keeps sysmon out of the
// deep sleep while GODEBUG's schedtrace is on, so that it can print on
// time. A period of 2^31-1 ms (24.8 days, counted from the host's boot)
// prints nothing on a host up for less than that, and one scheduler line
// on standard error every 24.8 days on one up longer. Sysmon then backs
// off to 10 ms and stays there: about 100 wake-ups a second, however the
// traffic comes. Measured in docs/benchmarks.md (session 18): the
// server's CPU per chat message fell by a fifth, per forwarded packet by
// a fifth to a quarter.
const sysmonAwake = "schedtrace=2147483647"

// withSysmonAwake returns environ with sysmonAwake added to GODEBUG, and
// false when GODEBUG already sets schedtrace: the operator's choice (or
// ours, after the re-exec) is kept.
func withSysmonAwake(environ []string) ([]string, bool) {
	out := make([]string, 0, len(environ)+1)
	found := false
	for _, kv := range environ {
		v, ok := strings.CutPrefix(kv, "GODEBUG=")
		if !ok {
			out = append(out, kv)
			continue
		}
		for _, setting := range strings.Split(v, ",") {
			if strings.HasPrefix(strings.TrimSpace(setting), "schedtrace=") {
				return environ, false
			}
		}
		found = true
		if v != "" {
			v += ","
		}
		out = append(out, "GODEBUG="+v+sysmonAwake)
	}
	if !found {
		out = append(out, "GODEBUG="+sysmonAwake)
	}
	return out, true
}

// keepSysmonAwake starts the server again, in the same process, with
// sysmonAwake in GODEBUG: the runtime reads GODEBUG's schedtrace only as
// it starts. It returns only when there is nothing to do or the exec
// failed; the server then runs with the runtime's default.
func keepSysmonAwake() error {
	env, ok := withSysmonAwake(os.Environ())
	if !ok {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, env)
}
