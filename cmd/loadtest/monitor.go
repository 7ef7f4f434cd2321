package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reading is a process's CPU time so far and its resident memory now.
type reading struct {
	cpu time.Duration
	rss int64 // bytes
}

// sampler reads the server's resources: from /proc when the load tester
// started it, else from its /metrics; with several nodes, their sum.
type sampler func() (reading, error)

func (t *target) sampler() sampler {
	if len(t.nodes) == 1 {
		return t.nodes[0].sampler()
	}
	// Several nodes: their sum, the cost of the whole deployment.
	each := make([]sampler, len(t.nodes))
	for i, n := range t.nodes {
		each[i] = n.sampler()
	}
	return func() (reading, error) {
		var sum reading
		for _, s := range each {
			r, err := s()
			if err != nil {
				return reading{}, err
			}
			sum.cpu += r.cpu
			sum.rss += r.rss
		}
		return sum, nil
	}
}

// sampler reads one node's resources.
func (n *endpoint) sampler() sampler {
	if n.proc != nil {
		return func() (reading, error) {
			cpu, err := n.proc.cpu()
			if err != nil {
				return reading{}, err
			}
			var rss int64
			if pid := n.proc.pid(); pid != 0 {
				rss, _ = procRSS(pid) // none while it is down (C2)
			}
			return reading{cpu, rss}, nil
		}
	}
	c := &http.Client{Timeout: 2 * time.Second}
	return func() (reading, error) {
		if n.metrics == "" {
			return reading{}, errors.New("no metrics: give --metrics-url with --url")
		}
		return metricsReading(c, n.metrics)
	}
}

// selfSampler reads the load tester's own resources: it shares the
// machine with the server, so its share is reported too.
func selfSampler() (reading, error) {
	pid := os.Getpid()
	cpu, err := procCPU(pid)
	if err != nil {
		return reading{}, err
	}
	rss, err := procRSS(pid)
	return reading{cpu, rss}, err
}

// machineBusy is the CPU time all cores of the machine spent busy so far,
// from /proc/stat: the server, PostgreSQL, the load tester and whatever
// else runs.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected format")
	}
	var busy int64
	for i, x := range f[1:] {
		v, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: unexpected format")
		}
		if i != 3 && i != 4 && i < 7 { // user nice system irq softirq: not idle, iowait, steal; guest is in user
			busy += v
		}
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on
// every Linux Go runs on.
const clockTicks = 100

// procCPU is the user plus system time of pid, from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields are
	// counted from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// procRSS is the resident memory of pid, from VmRSS in /proc/<pid>/status.
func procRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// metricsReading takes process_cpu_seconds_total and
// process_resident_memory_bytes from the server's /metrics.
func metricsReading(c *http.Client, url string) (reading, error) {
	m, err := scrape(c, url, "process_cpu_seconds_total", "process_resident_memory_bytes")
	if err != nil {
		return reading{}, err
	}
	return reading{time.Duration(m["process_cpu_seconds_total"] * float64(time.Second)), int64(m["process_resident_memory_bytes"])}, nil
}

// scrape reads the named unlabelled samples of a Prometheus text page;
// each must be there.
func scrape(c *http.Client, url string, names ...string) (map[string]float64, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("%s has no %s", url, n)
		}
	}
	return out, nil
}

// monitor samples a process every period and keeps the peak RSS of the
// current window.
type monitor struct {
	sample sampler
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	peak int64
	err  error
}

func startMonitor(s sampler, period time.Duration) *monitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &monitor{sample: s, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			m.observe()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *monitor) observe() (reading, error) {
	r, err := m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.err = err
		return r, err
	}
	if r.rss > m.peak {
		m.peak = r.rss
	}
	return r, nil
}

func (m *monitor) stop() {
	m.cancel()
	<-m.done
}

// window is a stretch of time over which CPU and peak RSS are reported.
type window struct {
	m       *monitor
	from    reading
	fromAt  time.Time
	cpu     time.Duration
	wall    time.Duration
	peakRSS int64
	endRSS  int64
}

// begin opens a window: the peak starts again from now.
func (m *monitor) begin() *window {
	m.mu.Lock()
	m.peak = 0
	m.mu.Unlock()
	r, _ := m.observe()
	return &window{m: m, from: r, fromAt: time.Now()}
}

// end closes the window and fills its figures.
func (w *window) end() *window {
	r, _ := w.m.observe()
	w.wall = time.Since(w.fromAt)
	w.cpu = r.cpu - w.from.cpu
	w.endRSS = r.rss
	w.m.mu.Lock()
	w.peakRSS = w.m.peak
	w.m.mu.Unlock()
	return w
}

// share is the CPU used as a fraction of one core over the window.
func (w *window) share() float64 {
	if w.wall <= 0 {
		return 0
	}
	return w.cpu.Seconds() / w.wall.Seconds()
}
