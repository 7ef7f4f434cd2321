package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// serverProc is the server process the load tester started. It can be
// killed and started again (C2) with the same flags, port and database;
// the CPU time of processes that ended is kept, so the monitor sees one
// server across restarts.
type serverProc struct {
	bin     string
	args    []string
	env     []string // added to the load tester's own environment
	logPath string
	tempLog bool // made by the load tester: removed after a run that passed
	health  string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	deadCPU time.Duration // user+system time of processes that ended
}

// start runs the binary and waits until /healthz answers.
func (s *serverProc) start(ctx context.Context) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, s.args...)
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a ^C to the load tester does not reach it
	// before the load tester has stopped it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	go func() {
		cmd.Wait() //nolint:errcheck // how it ended is in its log
		logf.Close()
		s.mu.Lock()
		if st := cmd.ProcessState; st != nil {
			s.deadCPU += st.UserTime() + st.SystemTime()
		}
		s.mu.Unlock()
		close(exited)
	}()
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return waitHealthy(hctx, s.health, exited)
}

// pid is the running process's id, 0 when none runs.
func (s *serverProc) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil || isClosed(s.exited) {
		return 0
	}
	return s.cmd.Process.Pid
}

// done is closed when the current process ends.
func (s *serverProc) done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exited
}

// cpu is the CPU time of every process started so far: the ended ones'
// from their rusage, the running one's from /proc.
func (s *serverProc) cpu() (time.Duration, error) {
	s.mu.Lock()
	dead := s.deadCPU
	s.mu.Unlock()
	pid := s.pid()
	if pid == 0 {
		return dead, nil
	}
	live, err := procCPU(pid)
	if err != nil {
		// It ended between pid and the read: its rusage is in deadCPU
		// once it is waited for.
		<-s.done()
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.deadCPU, nil
	}
	return dead + live, nil
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (s *serverProc) kill() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil || isClosed(exited) {
		return errors.New("the server is not running")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-exited
	return nil
}

// stop ends the process gracefully (SIGTERM), or kills it after grace.
func (s *serverProc) stop(grace time.Duration) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil || isClosed(exited) {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-exited:
		return nil
	case <-time.After(grace):
		cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
		<-exited
		return fmt.Errorf("the server did not stop within %s of SIGTERM; killed", grace)
	}
}

func isClosed(ch <-chan struct{}) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
