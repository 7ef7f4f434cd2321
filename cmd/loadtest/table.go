package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// printTable prints one table of many runs: Go benchmark output files
// (go test -bench … -benchmem) and the --json files of workload runs.
// Rows that nothing measured yet are printed as such, so the table always
// has the same shape.
func printTable(w io.Writer, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("%w: name go test -bench output files and --json result files", errUsage)
	}
	var benches []benchLine
	var failures []string
	runs := map[string]*result{}
	for _, f := range files {
		if strings.HasSuffix(f, ".json") {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			var r result
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			runs[strings.ToLower(r.Workload)] = &r
			continue
		}
		bs, fails, err := readBenchFile(f)
		if err != nil {
			return err
		}
		benches = append(benches, bs...)
		failures = append(failures, fails...)
	}

	var rows []row
	for _, b := range benches {
		rows = append(rows, row{b.pkg + " " + b.name, b.figures})
	}
	rows = append(rows, floorRatios(benches)...)
	has := func(pkg string, re *regexp.Regexp) bool {
		for _, b := range benches {
			if b.pkg == pkg && re.MatchString(b.name) {
				return true
			}
		}
		return false
	}
	if !has("sfu", regexp.MustCompile(`(?i)forward`)) {
		rows = append(rows, row{"sfu forwarding (1 in, N out, SRTP)", "not in this run (go test -bench Forward ./sfu/)"})
	}
	if !has("sfu", regexp.MustCompile(`(?i)bare|pion`)) {
		rows = append(rows, row{"bare Pion forwarder (the floor)", "not in this run (BenchmarkForwardBarePion, same run as Forward)"})
	}
	for _, m := range []struct{ key, name string }{
		{"w1", "W1 livestream"}, {"w2", "W2 meeting"}, {"w3", "W3 audio"}, {"w4", "W4 contact center"},
	} {
		if r := runs[m.key]; r != nil {
			rows = append(rows, row{m.name, r.Summary})
		} else {
			rows = append(rows, row{m.name, "not measured in this run (loadtest " + m.key + " --json FILE)"})
		}
	}
	for _, m := range []struct{ key, name string }{{"c1", "C1 chat"}, {"c2", "C2 chat"}, {"t1", "T1 transfer"}} {
		if r := runs[m.key]; r != nil {
			rows = append(rows, row{m.name, r.Summary})
		}
	}
	for _, f := range failures {
		rows = append(rows, row{"go test", f})
	}
	rows = append(rows, capacityRows(runs)...)

	width := 0
	for _, r := range rows {
		width = max(width, len(r.Name))
	}
	line := strings.Repeat("─", width+2+60)
	fmt.Fprintf(w, "\nParley benchmarks\n%s\n", line)
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s  %s\n", width, r.Name, r.Value)
	}
	fmt.Fprintln(w, line)
	return nil
}

type benchLine struct {
	pkg, name, figures string
	metrics            map[string]float64 // by unit: "ns/op", "allocs/op", "cpu-ns/fwd"…
}

// floorRatios holds each sfu forwarding case against the bare-Pion
// forwarder of the same shape in the same run (Forward/X and
// ForwardBarePion/X), by CPU per forwarded packet when the benchmark
// reports it, else by ns/op.
func floorRatios(benches []benchLine) []row {
	bare := map[string]benchLine{}
	for _, b := range benches {
		if sub, ok := strings.CutPrefix(b.name, "ForwardBarePion/"); ok && b.pkg == "sfu" {
			bare[sub] = b
		}
	}
	var rows []row
	for _, b := range benches {
		sub, ok := strings.CutPrefix(b.name, "Forward/")
		floor, have := bare[sub]
		if !ok || !have || b.pkg != "sfu" {
			continue
		}
		unit := "cpu-ns/fwd"
		if b.metrics[unit] == 0 || floor.metrics[unit] == 0 {
			unit = "ns/op"
		}
		if floor.metrics[unit] == 0 {
			continue
		}
		rows = append(rows, row{"sfu Forward/" + sub + " ÷ bare Pion",
			fmt.Sprintf("%.2f× (%s %.0f vs %.0f)", b.metrics[unit]/floor.metrics[unit], unit, b.metrics[unit], floor.metrics[unit])})
	}
	return rows
}

var benchRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// readBenchFile reads go test -bench output: the benchmark lines, labelled
// by the package (pkg: line) they belong to, and the FAIL lines.
func readBenchFile(path string) ([]benchLine, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var out []benchLine
	var fails []string
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "parley/")
			continue
		}
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") {
			fails = append(fails, line)
			continue
		}
		m := benchRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		out = append(out, benchLine{pkg: pkg, name: strings.TrimPrefix(m[1], "Benchmark"), figures: tidyFigures(m[3]),
			metrics: benchMetrics(m[3])})
	}
	return out, fails, sc.Err()
}

// benchMetrics reads go test's "value unit" pairs.
func benchMetrics(s string) map[string]float64 {
	out := map[string]float64{}
	for _, x := range strings.Split(s, "\t") {
		f := strings.Fields(x)
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			out[f[1]] = v
		}
	}
	return out
}

// tidyFigures squeezes go test's tab-separated "123 ns/op	45 B/op" into
// single spaces.
func tidyFigures(s string) string {
	f := strings.Split(s, "\t")
	parts := make([]string, 0, len(f))
	for _, x := range f {
		if x = strings.Join(strings.Fields(x), " "); x != "" {
			parts = append(parts, x)
		}
	}
	return strings.Join(parts, ", ")
}

// capacity is what one node carries, each row from a cap-* workload's
// search (LiveKit publishes the same kind of table for its SFU). A row no
// run measured still shows, with the command that measures it.
var capacity = []struct{ key, name string }{
	{"cap-rooms", "capacity: contact-center rooms (W4) at < 1 % loss, < 80 % CPU"},
	{"cap-chats", "capacity: chats at 1 message per 10 s each side"},
	{"cap-joins", "capacity: new chats per second, queued → offer p99 < 100 ms"},
	{"cap-idle", "capacity: idle connections per GiB"},
}

func capacityRows(runs map[string]*result) []row {
	rows := make([]row, 0, len(capacity))
	for _, c := range capacity {
		if r := runs[c.key]; r != nil {
			rows = append(rows, row{c.name, r.Summary})
		} else {
			rows = append(rows, row{c.name, "not measured in this run (loadtest " + c.key + " --json FILE)"})
		}
	}
	return rows
}
