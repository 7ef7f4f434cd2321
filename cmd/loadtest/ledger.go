package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ledger follows every message from send to ack to receipt by the other
// side. A message the server acknowledged that the other side never
// received is lost; one the other side received twice (two events, two
// seqs, one client_id) is duplicated. Both must stay 0.
type ledger struct {
	mu   sync.Mutex
	msgs map[string]*msgState // by client_id (unique across the run)

	sent, acked, failed  int
	resends, dupAcks     int // attempts after the first; acks that said "duplicate": true
	seqMismatch          int // a resend acknowledged with another seq
	received, duplicated int
	stray                int            // received messages the run never sent
	undelivered          int            // acked, not yet received
	inflight             int            // sent, neither acked nor failed
	errors               map[string]int // failed messages by error code
	resendWhy            map[string]int // resends by reason

	lat latencies // sender → receiver
}

type msgState struct {
	conv     int64
	sentAt   time.Time
	acked    bool
	failed   bool
	seq      int
	received int
}

func newLedger() *ledger {
	return &ledger{msgs: map[string]*msgState{}, errors: map[string]int{}, resendWhy: map[string]int{}}
}

func (l *ledger) send(id string, conv int64, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs[id] = &msgState{conv: conv, sentAt: at}
	l.sent++
	l.inflight++
}

func (l *ledger) resend(why string) {
	l.mu.Lock()
	l.resends++
	l.resendWhy[why]++
	l.mu.Unlock()
}

func (l *ledger) ack(id string, seq int, duplicate bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs[id]
	if m == nil || m.acked || m.failed {
		return
	}
	if duplicate {
		l.dupAcks++
	}
	if m.seq != 0 && m.seq != seq {
		l.seqMismatch++
	}
	m.acked, m.seq = true, seq
	l.acked++
	l.inflight--
	if m.received == 0 {
		l.undelivered++
	}
}

// fail records a message the server refused (or that could not be sent
// before the run ended), by its error code.
func (l *ledger) fail(id, code string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs[id]
	if m == nil || m.acked || m.failed {
		return
	}
	m.failed = true
	l.failed++
	l.inflight--
	l.errors[code]++
}

// receive records that the other side got message id as event seq of conv.
// sentAt is the send time the message's text carries.
func (l *ledger) receive(id string, conv int64, sentAt, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs[id]
	if m == nil || m.conv != conv {
		l.stray++
		return
	}
	m.received++
	if m.received > 1 {
		l.duplicated++
		return
	}
	l.received++
	if m.acked {
		l.undelivered--
	}
	l.lat.add(now.Sub(sentAt))
}

func (l *ledger) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// settled reports whether every message is answered and every acked one
// received.
func (l *ledger) settled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inflight == 0 && l.undelivered == 0
}

// lost lists up to n acknowledged messages never received: client_id,
// conversation and seq, for the report.
func (l *ledger) lost(n int) (count int, sample []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, m := range l.msgs {
		if m.acked && m.received == 0 {
			count++
			if len(sample) < n {
				sample = append(sample, fmt.Sprintf("%s (conversation %d, seq %d)", id, m.conv, m.seq))
			}
		}
	}
	sort.Strings(sample)
	return count, sample
}

// duplicates lists up to n messages received more than once.
func (l *ledger) duplicates(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id, m := range l.msgs {
		if m.received > 1 && len(out) < n {
			out = append(out, fmt.Sprintf("%s (conversation %d, received %d times)", id, m.conv, m.received))
		}
	}
	sort.Strings(out)
	return out
}

func (l *ledger) errorText() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return countText(l.errors)
}

func (l *ledger) resendText() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return countText(l.resendWhy)
}

func countText(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for code, n := range m {
		parts = append(parts, code+" "+strconv.Itoa(n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// The text of a load-test message: a marker, the send time in Unix
// nanoseconds, and padding to the configured size.
const textMarker = "lt:"

func messageText(at time.Time, size int) string {
	s := textMarker + strconv.FormatInt(at.UnixNano(), 10) + ":"
	if pad := size - len(s); pad > 0 {
		s += strings.Repeat("x", pad)
	}
	return s
}

// parseMessageText returns the send time a load-test message carries.
func parseMessageText(text string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(text, textMarker)
	if !ok {
		return time.Time{}, false
	}
	num, _, _ := strings.Cut(rest, ":")
	ns, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}
