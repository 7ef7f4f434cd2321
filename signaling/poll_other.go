//go:build !linux

package signaling

import (
	"errors"
	"syscall"
)

// Without epoll every connection reads on a goroutine of its own
// (poll.go's readBlocking).

var errNoPoller = errors.New("no poller")

func pollWatch(*Conn) error                         { return errNoPoller }
func pollRearm(*Conn) error                         { return errNoPoller }
func pollForget(*Conn)                              {}
func pollRead(syscall.RawConn, []byte) (int, error) { return 0, errNoPoller }
