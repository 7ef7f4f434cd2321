// Command natsd is the browser tests' NATS server: a real one
// (nats-server, embedded) on a free loopback port, so the tests of several
// nodes need no NATS service on the machine. It prints its client URL as
// one line, "nats nats://127.0.0.1:PORT", and runs until its standard
// input closes (the harness that started it ended) or it is signalled.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

func main() {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsd:", err)
		os.Exit(1)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		fmt.Fprintln(os.Stderr, "natsd: not ready within 30s")
		os.Exit(1)
	}
	fmt.Println("nats", ns.ClientURL())

	end := make(chan struct{}, 2)
	go func() {
		io.Copy(io.Discard, os.Stdin) //nolint:errcheck // EOF or an error: either way the harness is gone
		end <- struct{}{}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		end <- struct{}{}
	}()
	<-end
	ns.Shutdown()
}
