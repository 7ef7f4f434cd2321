package main

import (
	"net/http"
	"regexp"
	"testing"
)

// The profiler answers on --debug-addr only: never on the public port.
func TestTheProfilerIsServedOnItsOwnAddressOnly(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t), "--debug-addr", "127.0.0.1:0")
	m := regexp.MustCompile(`"profiler is serving" addr=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no profiler address in the log:\n%s", s.log)
	}
	for url, want := range map[string]int{
		"http://" + m[1] + "/debug/pprof/cmdline": http.StatusOK,
		s.base + "/debug/pprof/cmdline":           http.StatusNotFound,
	} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", url, resp.StatusCode, want)
		}
	}
}
