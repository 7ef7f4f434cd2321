// Package mailtest is a real SMTP server (github.com/emersion/go-smtp)
// for tests: it records what it accepts, and can refuse on demand. Only
// tests import it.
package mailtest

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data string // the message as sent: headers, a blank line, the body
}

// Header answers the value of the message's first header called name.
func (r Received) Header(name string) string {
	head, _, _ := strings.Cut(r.Data, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Server is a running SMTP server on 127.0.0.1, plain text (the sender's
// TLS mode "none"), without authentication.
type Server struct {
	Host string
	Port int

	mu      sync.Mutex
	got     []Received
	tries   int
	refuse  func(try int) error
	changed chan struct{} // closed and replaced at each message offered
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{changed: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return s
}

// Refuse answers each message's DATA with what f returns for its try
// (counted from 1 over the server's life): an *smtp.SMTPError refuses,
// nil accepts. f may wait, holding the sender in the middle of a send.
// Refuse(nil) accepts everything again.
func (s *Server) Refuse(f func(try int) error) {
	s.mu.Lock()
	s.refuse = f
	s.mu.Unlock()
}

// Received answers the messages accepted so far, in order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

// Tries answers how many messages were offered, accepted or not.
func (s *Server) Tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries
}

// Wait waits (20 s at most) until at least n messages were accepted, and
// answers them.
func (s *Server) Wait(t testing.TB, n int) []Received {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		got, changed := append([]Received(nil), s.got...), s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the SMTP server received %d messages, want %d", len(got), n)
		}
	}
}

type session struct {
	srv  *Server
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	srv := s.srv
	srv.mu.Lock()
	srv.tries++
	try, refuse := srv.tries, srv.refuse
	srv.mu.Unlock()
	if refuse != nil {
		err = refuse(try) // outside the lock: it may wait
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if err == nil {
		srv.got = append(srv.got, Received{From: s.from, To: s.to, Data: string(b)})
	}
	close(srv.changed)
	srv.changed = make(chan struct{})
	return err
}
