//go:build linux

package signaling

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The poller: one epoll set and one goroutine for every connection of the
// process, as the runtime's own network poller is one per process. The
// goroutine does not block in epoll_wait: the set's descriptor is itself
// watched by the runtime's poller (an epoll set is readable while it
// holds events), so it waits parked, and epoll_wait is only called not
// to wait. Each
// socket is in the set with EPOLLONESHOT, so one readiness wakes one
// reader, and the socket is out of the set until that reader rearms it
// (EPOLL_CTL_MOD, which reports bytes that came meanwhile: the set is
// level-triggered). A socket's event carries the connection's number, not
// its descriptor, which the kernel reuses as soon as a socket closes.
//
// The runtime's poller watches the same sockets for its own reads and
// writes; a socket may be in any number of epoll sets, and each is told.
type poller struct {
	epfd int
	file *os.File // epfd, for the runtime's poller; kept so it is never closed

	mu    sync.Mutex
	conns map[uint64]*Conn
	next  uint64
}

var (
	pollOnce sync.Once
	thePoll  *poller
	pollErr  error
)

// errNoPoller is a connection left to a reading goroutine of its own.
var errNoPoller = errors.New("no poller")

const pollEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

func thePoller() (*poller, error) {
	pollOnce.Do(func() {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err == nil {
			err = unix.SetNonblock(fd, true)
		}
		if err != nil {
			pollErr = fmt.Errorf("%w: epoll: %w", errNoPoller, err)
			return
		}
		// The set's own descriptor is readable when it holds events: the
		// runtime's poller watches it, so the poller's goroutine waits
		// parked, like any network read, not in a blocking system call
		// that would hold a thread and hand its P over at each wake-up.
		f := os.NewFile(uintptr(fd), "epoll")
		rc, err := f.SyscallConn()
		if err != nil {
			f.Close()
			pollErr = fmt.Errorf("%w: %w", errNoPoller, err)
			return
		}
		thePoll = &poller{epfd: fd, file: f, conns: make(map[uint64]*Conn)}
		go thePoll.loop(rc)
	})
	return thePoll, pollErr
}

func (p *poller) loop(rc syscall.RawConn) {
	events := make([]unix.EpollEvent, 256)
	var ready []*Conn
	for {
		var n int
		var werr error
		err := rc.Read(func(fd uintptr) bool {
			n, werr = unix.EpollWait(int(fd), events, 0)
			return n > 0 || (werr != nil && werr != unix.EINTR)
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			// Not expected with a valid set and buffer; nothing can be
			// read without it, so say so loudly.
			panic(os.NewSyscallError("epoll_wait", err))
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if c := p.conns[eventID(ev)]; c != nil {
				ready = append(ready, c)
			}
		}
		p.mu.Unlock()
		for _, c := range ready {
			c.wake()
		}
		clear(ready)
		ready = ready[:0]
	}
}

func eventID(ev unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

func eventFor(id uint64) *unix.EpollEvent {
	return &unix.EpollEvent{Events: pollEvents, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// pollWatch puts c's socket in the set. The caller has set c parked.
func pollWatch(c *Conn) error {
	p, err := thePoller()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.next++
	c.pollID = p.next
	p.conns[c.pollID] = c
	p.mu.Unlock()
	if err := pollCtl(c, unix.EPOLL_CTL_ADD); err != nil {
		pollForget(c)
		return err
	}
	return nil
}

// pollRearm gives c's socket back to the set once its reader found it
// empty. It fails when the socket has closed.
func pollRearm(c *Conn) error { return pollCtl(c, unix.EPOLL_CTL_MOD) }

// pollCtl runs epoll_ctl on c's socket while the runtime holds its
// descriptor open: a socket closed meanwhile fails here, so the number
// can never name another connection's socket.
func pollCtl(c *Conn, op int) error {
	p := thePoll
	var cerr error
	err := c.rc.Control(func(fd uintptr) {
		cerr = unix.EpollCtl(p.epfd, op, int(fd), eventFor(c.pollID))
	})
	if err != nil {
		return err
	}
	return cerr
}

// pollForget drops c from the poller's table. Its socket leaves the set
// when it closes.
func pollForget(c *Conn) {
	if c.pollID == 0 || thePoll == nil {
		return
	}
	thePoll.mu.Lock()
	delete(thePoll.conns, c.pollID)
	thePoll.mu.Unlock()
}

// pollRead reads once from the socket without waiting: errWouldBlock
// when it is empty, io.EOF when the peer has closed.
func pollRead(rc syscall.RawConn, buf []byte) (int, error) {
	var n int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = unix.Read(int(fd), buf)
			if rerr != unix.EINTR {
				return true
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case rerr == unix.EAGAIN:
		return 0, errWouldBlock
	case rerr != nil:
		return 0, os.NewSyscallError("read", rerr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
