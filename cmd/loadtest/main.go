// Command loadtest drives a Parley server with synthetic customers, agents
// and (later) media peers, speaking only the public protocol
// (docs/protocol.md: the HTTP API and the websocket), and prints one table
// per run. It starts the server itself (a fresh database, free ports) or
// drives a running one given by --url; with --nodes N it starts N nodes on
// one database and one NATS server, or drives the nodes of --url a,b,c.
//
//	loadtest c1 --customers 200 --agents 10 --capacity 25 --interval 5s --duration 30s
//	loadtest c2 …                    (the same, with the server killed and restarted once)
//	loadtest c1 --nodes 3 …          (customers on node 1, their agents on nodes 2 and 3)
//	loadtest c2 --nodes 3 …          (node 1 killed and left dead: its clients move to the others)
//	loadtest w1 --nodes 3            (subscribers' websockets on nodes 2 and 3, the room on node 1)
//	loadtest t1 --customers 100 --agents 10 --transfers 200   (chats transferred while customers send)
//	loadtest table go-bench.txt c1.json …   (one table of many runs, for make bench)
//	loadtest fill --conversations 100000 --messages 1000000   (a history to search, with COPY)
//	loadtest h1 --searches 500       (history searches on the filled database: p50, p95)
//	loadtest fill-contacts --contacts 100000, then loadtest k1 --searches 500 (contact search: p50, p95)
//
// The exit status is 0 when every check of the run passed, 1 when one
// failed (a message lost or duplicated, a chat never accepted, …) and 2 on
// a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks an error the user made on the command line.
var errUsage = errors.New("usage")

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	name, rest := args[0], args[1:]
	if name == "table" {
		if err := printTable(stdout, rest); err != nil {
			fmt.Fprintln(stderr, "loadtest table:", err)
			return 2
		}
		return 0
	}
	switch name {
	case "fill":
		return runFill(ctx, rest, stdout, stderr)
	case "h1":
		return runH1(ctx, rest, stdout, stderr)
	case "fill-contacts":
		return runFillContacts(ctx, rest, stdout, stderr)
	case "k1":
		return runK1(ctx, rest, stdout, stderr)
	}
	w, ok := workloads[name]
	if !ok {
		fmt.Fprintf(stderr, "loadtest: no workload %q (see loadtest help)\n", name)
		return 2
	}
	fs := flag.NewFlagSet("loadtest "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf targetFlags
	tf.register(fs)
	out := fs.String("json", "", "also write the run's figures to this `file` (for loadtest table)")
	w.flags(fs)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, tf.timeout)
	defer cancel()
	res, err := w.run(ctx, &tf, stderr)
	if res != nil {
		res.print(stdout)
		if *out != "" {
			if werr := res.writeJSON(*out); werr != nil {
				fmt.Fprintln(stderr, "loadtest:", werr)
				return 1
			}
		}
	}
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "loadtest %s: %v\n", name, err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "loadtest %s: %v\n", name, err)
		return 1
	case res != nil && !res.Pass:
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: loadtest WORKLOAD [flags]     (loadtest WORKLOAD -h lists its flags)

Drives a Parley server through its public protocol and prints one table.
Without --url it starts --parley itself on free loopback ports and a fresh
database, and measures the server process's CPU and memory from /proc.
With --nodes N it starts N nodes on that database and one NATS server
(embedded, or --nats-url): customers on the first node, agents and media
subscribers on the others; --url a,b,c drives running nodes the same way.

Workloads:
`)
	names := make([]string, 0, len(workloads))
	for n := range workloads {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-5s %s\n", n, workloads[n].summary)
	}
	fmt.Fprint(w, `
  table FILE…   one table of go test -bench output files and --json results
  fill          fills a database with a history of conversations (COPY):
                --conversations 100000 --messages 1000000 (fill.go)
  h1            times history searches with filters on a filled database
                and prints p50/p95; fails above --target (history.go)
  fill-contacts fills a database with contacts (COPY): --contacts 100000
  k1            times contact searches on it and prints p50/p95; fails
                above --target, 50ms (contacts.go)
`)
}
