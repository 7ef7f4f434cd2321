package storetest

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to the database server. It takes the
// database away from a running server in two ways, without stopping the
// machine's PostgreSQL under other packages:
//
//   - Cut drops every connection and refuses new ones, as a stopped
//     server would;
//   - Hang forwards nothing more, in either direction, while keeping
//     every connection open and leaving new ones unanswered, as a server
//     that hangs would.
//
// Restore ends either: connections are let through again, and what a
// hang held back is forwarded.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	held  chan struct{} // closed by Restore; nil while forwarding
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy starts a proxy in front of the test server, closed when t ends.
func NewProxy(t testing.TB) *Proxy {
	t.Helper()
	u, err := url.Parse(BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	return NewProxyTo(t, u.Host)
}

// NewProxyTo starts a proxy in front of any TCP server at target (host:port),
// a NATS server say, closed when t ends; Addr is where to reach it.
func NewProxyTo(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's own address (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the package database's URL through the proxy.
func (p *Proxy) URL() string { return p.URLOf(URL()) }

// URLOf is database URL db reached through the proxy (a Fresh one, say).
func (p *Proxy) URLOf(db string) string {
	u, _ := url.Parse(db)
	u.Host = p.ln.Addr().String()
	return u.String()
}

// Cut closes every open connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Hang stops forwarding until Restore, keeping connections open.
func (p *Proxy) Hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

// Restore ends a Cut or a Hang.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// wait blocks while the proxy hangs.
func (p *Proxy) wait() {
	p.mu.Lock()
	h := p.held
	p.mu.Unlock()
	if h != nil {
		<-h
	}
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.connect(c)
	}
}

// connect dials the server for c once the proxy does not hang, then
// forwards both ways.
func (p *Proxy) connect(c net.Conn) {
	defer p.wg.Done()
	p.wait()
	up, err := net.Dial("tcp", p.target)
	p.mu.Lock()
	if err != nil || p.cut {
		p.mu.Unlock()
		if up != nil {
			up.Close()
		}
		p.drop(c)
		return
	}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	p.wg.Add(2)
	go p.pipe(c, up)
	go p.pipe(up, c)
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil && err == nil {
				err = werr
			}
		}
		if err != nil {
			p.drop(dst)
			p.drop(src)
			return
		}
	}
}

// drop closes c and forgets it.
func (p *Proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) close() {
	p.ln.Close()
	p.Restore()
	p.Cut()
	p.wg.Wait()
}
