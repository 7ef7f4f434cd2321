package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// A deployment of several nodes for the tests: an embedded NATS server
// and Parley nodes as processes of their own (so one can be killed with
// SIGKILL) on one fresh database.

// startNATS runs a real NATS server inside the test on a free port.
func startNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		t.Fatal("the embedded NATS server did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// node is one Parley process of a deployment.
type node struct {
	id   string
	base string // http://127.0.0.1:port
	pid  int
}

func (n *node) ws() string { return "ws" + strings.TrimPrefix(n.base, "http") + "/ws" }

// server is the node as the single-node helpers (login, …) take it.
func (n *node) server() *server { return &server{base: n.base} }

// kill ends the node as a crash would: SIGKILL, nothing flushed, no
// goodbye to the other nodes or the database.
func (n *node) kill(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(n.pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", n.id, err)
	}
}

// deployment is the NATS server and the nodes sharing one database.
type deployment struct {
	nats  *natsserver.Server
	db    string
	nodes []*node
}

// startNodes starts count nodes (named n1, n2, …) on a fresh database
// and one embedded NATS server; extra is given to every node.
func startNodes(t *testing.T, count int, extra ...string) *deployment {
	t.Helper()
	d := &deployment{nats: startNATS(t), db: freshDatabase(t)}
	for i := 1; i <= count; i++ {
		d.add(t, fmt.Sprintf("n%d", i), extra...)
	}
	return d
}

// add starts one more node of the deployment.
func (d *deployment) add(t *testing.T, id string, extra ...string) *node {
	t.Helper()
	args := append([]string{"--nats-url", d.nats.ClientURL(), "--node-id", id}, extra...)
	base, pid := startProcess(t, d.db, args...)
	n := &node{id: id, base: base, pid: pid}
	d.nodes = append(d.nodes, n)
	return n
}
