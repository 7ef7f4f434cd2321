package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLedgerCountsLostAndDuplicatedMessages(t *testing.T) {
	l := newLedger()
	t0 := time.Now()
	for _, id := range []string{"ok", "lost", "twice", "refused", "early"} {
		l.send(id, 7, t0)
	}
	l.ack("ok", 1, false)
	l.receive("ok", 7, t0, t0.Add(time.Millisecond))
	l.ack("lost", 2, false)
	l.ack("twice", 3, false)
	l.receive("twice", 7, t0, t0)
	l.receive("twice", 7, t0, t0) // a second event with this client_id
	l.fail("refused", "conflict")
	l.receive("early", 7, t0, t0) // the event may overtake the ack
	l.ack("early", 4, false)
	l.receive("stranger", 7, t0, t0)
	l.receive("ok", 8, t0, t0) // another conversation's: not ours

	if n, _ := l.lost(10); n != 1 {
		t.Errorf("lost %d, want 1", n)
	}
	if l.duplicated != 1 || l.received != 3 || l.failed != 1 || l.stray != 2 {
		t.Errorf("duplicated %d received %d failed %d stray %d, want 1 3 1 2", l.duplicated, l.received, l.failed, l.stray)
	}
	if l.settled() {
		t.Error("settled with a lost message outstanding")
	}
	l.receive("lost", 7, t0, t0)
	if !l.settled() {
		t.Error("not settled once everything acked was received")
	}
}

func TestMessageTextCarriesItsSendTime(t *testing.T) {
	at := time.Unix(1763746215, 123456789)
	text := messageText(at, 80)
	if len(text) != 80 {
		t.Fatalf("text of %d bytes, want 80", len(text))
	}
	got, ok := parseMessageText(text)
	if !ok || !got.Equal(at) {
		t.Fatalf("parsed %v %v, want %v", got, ok, at)
	}
	if _, ok := parseMessageText("Hi! Thanks for reaching out."); ok {
		t.Fatal("a greeting parsed as a load-test message")
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	if p := percentile(d, 0.5); p != 50*time.Millisecond {
		t.Errorf("p50 %v", p)
	}
	if p := percentile(d, 0.99); p != 99*time.Millisecond {
		t.Errorf("p99 %v", p)
	}
	if p := percentile(d[:1], 0.99); p != time.Millisecond {
		t.Errorf("p99 of one %v", p)
	}
}

func TestTableShowsBenchmarksRatiosAndWhatIsNotMeasuredYet(t *testing.T) {
	dir := t.TempDir()
	bench := filepath.Join(dir, "go.txt")
	os.WriteFile(bench, []byte(`goos: linux
pkg: parley/signaling
BenchmarkDecodeRequest-2   	 1000000	      1093 ns/op	     864 B/op	      14 allocs/op
pkg: parley/chat
BenchmarkSendParallel/senders=128-2  	    1744	    700100 ns/op	      1428 msgs/s	    7808 B/op	     103 allocs/op
ok  	parley/chat	25.829s
pkg: parley/sfu
BenchmarkForward/N=10-2            	   11876	    101286 ns/op	      9732 cpu-ns/fwd	     10129 ns/fwd	   14605 B/op	     125 allocs/op
BenchmarkForwardBarePion/N=10-2    	   16048	     74592 ns/op	      6764 cpu-ns/fwd	      7459 ns/fwd	    1399 B/op	      23 allocs/op
`), 0o644)
	res := newResult("C1", "C1 chat")
	res.Summary = "5000 cust — PASS"
	c1 := filepath.Join(dir, "c1.json")
	if err := res.writeJSON(c1); err != nil {
		t.Fatal(err)
	}
	t1res := newResult("T1", "T1 transfer")
	t1res.Summary = "200 transfers of 100 chats — PASS"
	t1 := filepath.Join(dir, "t1.json")
	if err := t1res.writeJSON(t1); err != nil {
		t.Fatal(err)
	}
	capRes := newResult("cap-idle", "idle connections")
	capRes.Summary = "61,000 idle connections per GiB"
	capIdle := filepath.Join(dir, "cap-idle.json")
	if err := capRes.writeJSON(capIdle); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printTable(&out, []string{bench, c1, t1, capIdle}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"signaling DecodeRequest", "1093 ns/op, 864 B/op, 14 allocs/op",
		"chat SendParallel/senders=128",
		"1428 msgs/s",
		"sfu Forward/N=10 ÷ bare Pion", "1.44× (cpu-ns/fwd 9732 vs 6764)",
		"W1 livestream", "W3 audio", "W4 contact center",
		"C1 chat", "5000 cust — PASS",
		"T1 transfer", "200 transfers of 100 chats — PASS",
		"capacity: idle connections per GiB", "61,000 idle connections per GiB",
		"capacity: chats at 1 message per 10 s each side", "not measured in this run (loadtest cap-chats",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUnknownWorkloadAndMediaWorkloadsFailClearly(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"c9"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), `"c9"`) {
		t.Errorf("c9: code %d, %q", code, errs.String())
	}
	errs.Reset()
	if code := run(context.Background(), []string{"w1", "--subscribers", "0"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), "at least one") {
		t.Errorf("w1: code %d, %q", code, errs.String())
	}
	errs.Reset()
	if code := run(context.Background(), []string{"c1", "--customers", "100", "--agents", "1", "--capacity", "10"}, &out, &errs); code != 2 ||
		!strings.Contains(errs.String(), "do not fit") {
		t.Errorf("too many customers: code %d, %q", code, errs.String())
	}
}
