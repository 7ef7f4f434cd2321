package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// result is what a run reports: a table of rows for people, the checks
// that failed, and a one-line summary and key figures for loadtest table.
type result struct {
	Workload string             `json:"workload"`
	Title    string             `json:"title"`
	Rows     []row              `json:"rows"`
	Pass     bool               `json:"pass"`
	Failures []string           `json:"failures,omitempty"`
	Summary  string             `json:"summary"` // one line for loadtest table
	Figures  map[string]float64 `json:"figures"`
}

type row struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func newResult(workload, title string) *result {
	return &result{Workload: workload, Title: title, Pass: true, Figures: map[string]float64{}}
}

func (r *result) add(name, format string, args ...any) {
	r.Rows = append(r.Rows, row{name, fmt.Sprintf(format, args...)})
}

// fail records a failed check; the run then exits 1.
func (r *result) fail(format string, args ...any) {
	r.Pass = false
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

func (r *result) print(w io.Writer) {
	width := len("result")
	for _, x := range r.Rows {
		width = max(width, len(x.Name))
	}
	line := strings.Repeat("─", max(len(r.Title), 72))
	fmt.Fprintf(w, "\n%s\n%s\n", r.Title, line)
	for _, x := range r.Rows {
		fmt.Fprintf(w, "%-*s  %s\n", width, x.Name, x.Value)
	}
	fmt.Fprintln(w, line)
	if r.Pass {
		fmt.Fprintf(w, "%-*s  PASS\n\n", width, "result")
		return
	}
	fmt.Fprintf(w, "%-*s  FAIL\n", width, "result")
	for _, f := range r.Failures {
		fmt.Fprintf(w, "%-*s  - %s\n", width, "", f)
	}
	fmt.Fprintln(w)
}

func (r *result) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
