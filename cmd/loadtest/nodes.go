package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Several nodes: the load tester starts --nodes N servers on one database
// and one NATS server (embedded in the load tester unless --nats-url names
// one), or drives the running nodes of --url a,b,c. Customers sit on the
// first node and agents on the others, so every chat crosses nodes; a
// client whose node goes away connects to the next one in turn.

// endpoint is one node of the target.
type endpoint struct {
	id      string // its --node-id ("lt1", …), or its URL's host with --url
	base    string // http://host:port
	ws      string // ws://host:port/ws
	metrics string // its /metrics; empty: none
	proc    *serverProc
	media   []int // its media ports (ICE over UDP and TCP), when the load tester chose them
	killed  bool  // ended on purpose (C2 across nodes): its death is no failure
}

// parseURLs reads --url (and --metrics-url) as comma-separated lists, one
// node each.
func parseURLs(list, metrics string) ([]*endpoint, error) {
	var eps []*endpoint
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: --url %q: want http://host:port, or several separated by commas", errUsage, raw)
		}
		base := strings.TrimRight(raw, "/")
		eps = append(eps, &endpoint{id: u.Host, base: base, ws: "ws" + strings.TrimPrefix(base, "http") + "/ws"})
	}
	if metrics != "" {
		ms := strings.Split(metrics, ",")
		if len(ms) != len(eps) {
			return nil, fmt.Errorf("%w: --metrics-url names %d URLs for %d nodes of --url", errUsage, len(ms), len(eps))
		}
		for i, m := range ms {
			eps[i].metrics = strings.TrimSpace(m)
		}
	}
	return eps, nil
}

// startNATS runs a NATS server inside the load tester on a free loopback
// port, for nodes started without --nats-url. Its CPU counts as the load
// tester's.
func startNATS() (*natsserver.Server, error) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("the embedded NATS server did not start")
	}
	return ns, nil
}

// nodeLog is where node i (0-based) of n writes its log: --server-log
// itself for one node, with ".n2", ".n3", … for the others.
func nodeLog(tf *targetFlags, i int) (path string, temp bool, err error) {
	if tf.serverLog != "" {
		if i == 0 {
			return tf.serverLog, false, nil
		}
		return fmt.Sprintf("%s.n%d", tf.serverLog, i+1), false, nil
	}
	f, err := os.CreateTemp("", fmt.Sprintf("parley-loadtest-n%d-*.log", i+1))
	if err != nil {
		return "", false, err
	}
	f.Close()
	return f.Name(), true, nil
}

// spread orders the nodes' websocket URLs for one client: its home node
// first, then the others in turn (where it goes when its node is gone).
func (t *target) spread(home int) []string {
	out := make([]string, 0, len(t.nodes))
	for k := range t.nodes {
		out = append(out, t.nodes[(home+k)%len(t.nodes)].ws)
	}
	return out
}

// customerURLs are customer i's nodes: the first node is every
// customer's home.
func (t *target) customerURLs(int) []string { return t.spread(0) }

// agentURLs are agent i's nodes: the nodes after the first, by turns, so
// no agent shares a node with a customer (with one node, that node).
func (t *target) agentURLs(i int) []string {
	if len(t.nodes) == 1 {
		return t.spread(0)
	}
	return t.spread(1 + i%(len(t.nodes)-1))
}

// deadNodes lists the nodes the load tester started that died without
// being killed on purpose, with their logs.
func (t *target) deadNodes() []string {
	var out []string
	for _, n := range t.nodes {
		if n.proc != nil && !n.killed && n.proc.pid() == 0 {
			out = append(out, fmt.Sprintf("%s (its log: %s)", n.id, n.proc.logPath))
		}
	}
	return out
}

// nodeIndex finds a node by its 1-based number as the flags give it.
func (t *target) nodeIndex(number int) (int, error) {
	if number < 1 || number > len(t.nodes) {
		return 0, fmt.Errorf("%w: node %d: the run has nodes 1–%d", errUsage, number, len(t.nodes))
	}
	return number - 1, nil
}

// describe says where the clients sit, for the report; empty for one node.
func (t *target) describe() string {
	if len(t.nodes) == 1 {
		return ""
	}
	ids := make([]string, 0, len(t.nodes)-1)
	for _, n := range t.nodes[1:] {
		ids = append(ids, n.id)
	}
	nats := "one NATS server"
	if t.nats != nil {
		nats = "NATS embedded in the load tester"
	}
	return fmt.Sprintf("%d on one database and %s: customers on %s, agents on %s; server figures are the nodes' sum",
		len(t.nodes), nats, t.nodes[0].id, strings.Join(ids, ", "))
}

// scrapeNodes sums the named gauges over the live nodes' /metrics.
func (t *target) scrapeNodes(c *http.Client, names ...string) (map[string]float64, error) {
	sum := map[string]float64{}
	for _, n := range t.nodes {
		if n.killed {
			continue
		}
		m, err := scrape(c, n.metrics, names...)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.id, err)
		}
		for k, v := range m {
			sum[k] += v
		}
	}
	return sum, nil
}
