//go:build unix

package sfu_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"parley/sfu"
)

// The forwarding benchmarks. The server under test, Parley's SFU or a bare
// Pion forwarder, runs in the benchmark's process; its clients, a publisher
// and N subscribers made as Pion makes them by default, run in a child
// process (this test binary again, in TestForwardingBenchmarkClients) and
// reach it over loopback UDP with DTLS-SRTP. So allocs/op, B/op and the
// CPU time read from getrusage are the server's alone; ns/op is wall time.
//
// One op is one packet in: the publisher's, or, in BenchmarkDownTrackWrite,
// one handed to the read loop's body. It is done when every subscriber has
// received it. ns/fwd is ns/op over N, the wall time per packet out, which
// the clients' work and the machine's other load stretch; cpu-ns/fwd is
// the server's CPU time (user and system) per packet out, what to compare.
// The sender keeps at most benchWindow packets ahead of the slowest
// subscriber, so none are lost to a full socket buffer.

const (
	benchWindow  = 32   // packets in, in flight
	benchPayload = 1200 // bytes of VP8 payload: a full video packet
	audioPayload = 100  // bytes of Opus payload: 20 ms at ~40 kbit/s
	phaseWarm    = 0    // third payload byte of the warm-up's keyframes
	phaseBench   = 1    // and of the packets measured
	clientsEnv   = "PARLEY_FORWARD_BENCH_CLIENTS"
)

// BenchmarkForward: a packet from the publisher through Parley's SFU to N
// subscribers, the whole path (SRTP in, read loop, layer choice, header
// rewrite, interceptors, SRTP out, sendto).
func BenchmarkForward(b *testing.B) { benchEndToEnd(b, newParleyServer) }

// BenchmarkForwardBarePion: the same through the floor, Pion's broadcast
// example: one Read of the remote track, one TrackLocalStaticRTP.Write to
// every subscriber, Pion's default codecs and interceptors.
func BenchmarkForwardBarePion(b *testing.B) { benchEndToEnd(b, newBareServer) }

// The paced cases hold the publisher to a real rate instead of as fast as
// the window allows, so that what a connection costs per second whatever
// it carries (its timers, its RTCP, its keep-alives) is spread over the
// packets as in a real room. W1 is the load tester's W1: one publisher at
// ~210 packets/s, 10 subscribers, 2,100 packets/s out. Each also reports
// idle-µs/s and idle-switches/s: the server's CPU and its threads'
// context switches per second over two seconds with every connection up
// and no media. Audio100 is the 100-track audio shape (the load
// tester's W3): 10 Opus publishers at 50 packets/s each, 10 subscribers
// of all of them, 100 tracks down and 5,000 packets/s out.
var pacedCases = []struct {
	name  string
	n     int // subscribers
	rate  int // packets/s in, all publishers together
	pubs  int // publishers, each of one track
	audio bool
}{
	{"W1", 10, 210, 1, false},
	{"Audio100", 10, 500, 10, true},
	{"N=10,rate=50", 10, 50, 1, false},
	{"N=10,rate=1000", 10, 1000, 1, false},
	{"N=1,rate=50", 1, 50, 1, false},
}

func benchEndToEnd(b *testing.B, newServer func(testing.TB) benchServer) {
	for _, c := range pacedCases {
		var r *rig
		b.Run(c.name, func(b *testing.B) {
			if r == nil {
				r = startPacedRig(b, newServer, shape{n: c.n, pace: c.rate, pubs: c.pubs, audio: c.audio})
				// Idle: a second for the setup's aftermath (the last
				// handshakes, its garbage), then two of nothing. The
				// sleeps are spans of time to measure, not waits for
				// an event.
				time.Sleep(time.Second)
				idle, sw := cpuTime(), switches()
				start := time.Now()
				time.Sleep(2 * time.Second)
				secs := time.Since(start).Seconds()
				r.idle = float64((cpuTime() - idle).Microseconds()) / secs
				r.idleWakeups = float64(switches()-sw) / secs
			}
			r.expect += uint64(b.N)
			cmd := r.encode(benchMsg{Op: "send", N: b.N, Target: r.expect, Pace: c.rate})
			measure(b, c.n, func() {
				r.sendRaw(cmd)
				r.await(b)
			})
			b.ReportMetric(r.idle, "idle-µs/s")
			b.ReportMetric(r.idleWakeups, "idle-switches/s")
		})
		if r != nil {
			r.close(b)
		}
	}
	for _, n := range []int{1, 10, 50} {
		var r *rig // one for every b.N the sub-benchmark is run with
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			if r == nil {
				r = startRig(b, newServer, n)
			}
			r.expect += uint64(b.N)
			cmd := r.encode(benchMsg{Op: "send", N: b.N, Target: r.expect})
			measure(b, n, func() {
				r.sendRaw(cmd)
				r.await(b)
			})
		})
		if r != nil {
			r.close(b)
		}
	}
}

// BenchmarkDownTrackWrite calls the body of Parley's read loop directly
// with a parsed packet: "srtp" writes to the subscribers' real connections
// (the SFU, then Pion's interceptors, SRTP and sendto) and waits for them
// to receive it; "sfu-only" writes to a writer that drops it, leaving the
// SFU's own part: the subscriber loop, the layer check, the rewrite.
func BenchmarkDownTrackWrite(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			r := startRig(b, newParleyServer, n)
			b.Cleanup(func() { r.close(b) })
			track := r.srv.(*parleyServer).track
			fwd := sfu.BenchForwarder(track)
			b.Run("srtp", func(b *testing.B) {
				r.sendRaw(r.expectPackets(b.N))
				measure(b, n, func() {
					for range b.N {
						r.forwardOne(b, fwd)
					}
					r.await(b)
				})
			})
			b.Run("sfu-only", func(b *testing.B) {
				restore := sfu.BenchRedirect(track, discard{})
				defer restore()
				measure(b, n, func() {
					for range b.N {
						r.nextPacket()
						fwd(len(r.pkt.Payload)+12, &r.pkt)
					}
				})
			})
		})
	}
}

// measure times run, which puts b.N packets in, each for n subscribers.
func measure(b *testing.B, n int, run func()) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	run()
	cpu = cpuTime() - cpu
	b.StopTimer()
	out := float64(b.N * n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/out, "ns/fwd")
	b.ReportMetric(float64(cpu.Nanoseconds())/out, "cpu-ns/fwd")
}

// The forwarding path allocates nothing per packet. Asserted for the SFU's
// own part; the whole write path (with Pion's interceptors, SRTP and the
// socket) is logged, with its allocations per packet in.
func TestForwardingAllocatesNothing(t *testing.T) {
	const subscribers, runs = 2, 2000
	r := startRig(t, newParleyServer, subscribers)
	defer r.close(t)
	track := r.srv.(*parleyServer).track
	fwd := sfu.BenchForwarder(track)

	r.sendRaw(r.expectPackets(runs + 1)) // AllocsPerRun calls once more to warm up
	whole := testing.AllocsPerRun(runs, func() { r.forwardOne(t, fwd) })
	r.await(t)

	restore := sfu.BenchRedirect(track, discard{})
	own := testing.AllocsPerRun(runs, func() {
		r.nextPacket()
		fwd(len(r.pkt.Payload)+12, &r.pkt)
	})
	restore()
	t.Logf("allocations per packet in, %d subscribers: %v with Pion's write path, %v in the SFU's own part", subscribers, whole, own)
	if own != 0 {
		t.Errorf("the SFU's own part of the forwarding path allocates %v times per packet", own)
	}
}

// The whole server, end to end: every packet in over the network from
// the publisher, copied to ten subscribers, and the subscribers' RTCP
// back (TWCC feedback every 100 ms, receiver reports), allocates less
// than one object per packet in, counted over the process (the rig's own
// progress messages included). With pion/srtp v3.0 it was 11: Pion's SRTCP
// session unmarshalled every RTCP packet to route it, a TWCC feedback
// into a *RecvDelta per packet it acknowledged. Counted without the race
// detector only (make test runs it so, apart): with it, Pion's pooled
// buffers are allocated afresh at random.
func TestTheServerAllocatesLessThanOncePerPacketIn(t *testing.T) {
	if raceDetector {
		t.Skip("allocations are counted without -race (make test's second go test)")
	}
	const subscribers, packets = 10, 4000
	r := startRig(t, newParleyServer, subscribers)
	defer r.close(t)
	send := func(n int) {
		r.expect += uint64(n)
		r.sendRaw(r.encode(benchMsg{Op: "send", N: n, Target: r.expect}))
		r.await(t)
	}
	send(packets / 4) // the first feedback, reports and streams set up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	send(packets)
	runtime.ReadMemStats(&after)
	per := float64(after.Mallocs-before.Mallocs) / packets
	t.Logf("%.2f allocations per packet in, %d subscribers", per, subscribers)
	if per >= 1 {
		t.Errorf("the server allocates %.2f times per packet in, want under one", per)
	}
}

// discard is a subscriber's connection that drops what is written to it.
type discard struct{}

func (discard) WriteRTP(*rtp.Header, []byte) (int, error) { return 0, nil }
func (discard) Write(b []byte) (int, error)               { return len(b), nil }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// switches counts the context switches of every thread of the process,
// voluntary (it parked) and not.
func switches() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Nvcsw + ru.Nivcsw
}

// loopbackSettings keep every connection of the benchmarks on 127.0.0.1.
func loopbackSettings() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// fillVP8 makes p the payload of a VP8 packet that starts a frame, a
// keyframe or not, marked with phase in its third byte.
func fillVP8(p []byte, key bool, phase byte) {
	p[0] = 0x10 // S=1, PID=0
	p[1] = 0x01 // P=1: a delta frame
	if key {
		p[1] = 0x00
	}
	p[2] = phase
}

// benchMsg is what the rig and the clients say to each other, one JSON
// object a line; the clients' progress goes apart, as 8-byte counts.
type benchMsg struct {
	Op     string                     `json:"op"`
	ID     string                     `json:"id,omitempty"` // pubID(i) or "sub<i>"
	SDP    *webrtc.SessionDescription `json:"sdp,omitempty"`
	Cand   *webrtc.ICECandidateInit   `json:"cand,omitempty"`
	N      int                        `json:"n,omitempty"`
	Target uint64                     `json:"target,omitempty"` // packets the subscribers are to have received
	Pace   int                        `json:"pace,omitempty"`   // packets/s to send at; 0: as fast as the window allows
	Pubs   int                        `json:"pubs,omitempty"`   // publishers ("start"); 0 is 1
	Audio  bool                       `json:"audio,omitempty"`  // Opus publishers, not VP8 ("start")
	Err    string                     `json:"err,omitempty"`
}

// progress is a count that one goroutine at a time may wait on.
type progress struct {
	n     atomic.Uint64
	want  atomic.Uint64
	wake  chan struct{}
	timer *time.Timer
}

func newProgress() *progress {
	p := &progress{wake: make(chan struct{}, 1), timer: time.NewTimer(time.Hour)}
	p.timer.Stop()
	p.want.Store(math.MaxUint64)
	return p
}

func (p *progress) set(v uint64) {
	p.n.Store(v)
	p.notify(v)
}

func (p *progress) add(d uint64) uint64 {
	v := p.n.Add(d)
	p.notify(v)
	return v
}

// raise sets the count to v if that is more; it reports whether it was.
func (p *progress) raise(v uint64) bool {
	for {
		cur := p.n.Load()
		if v <= cur {
			return false
		}
		if p.n.CompareAndSwap(cur, v) {
			p.notify(v)
			return true
		}
	}
}

func (p *progress) notify(v uint64) {
	if v >= p.want.Load() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// wait returns the count once it reaches v, or once it has not moved for
// stall. It allocates nothing.
func (p *progress) wait(v uint64, stall time.Duration) uint64 {
	p.want.Store(v)
	defer p.want.Store(math.MaxUint64)
	for {
		got := p.n.Load()
		if got >= v {
			return got
		}
		p.timer.Reset(stall)
		select {
		case <-p.wake:
		case <-p.timer.C:
			if now := p.n.Load(); now == got {
				return now
			}
		}
	}
}

// window holds a sender to size packets in flight: got counts the packets
// every receiver has.
type window struct {
	got        *progress
	size       uint64
	sent, lost uint64
	stall      time.Duration
}

// next waits until one more packet may go. It reports false when the
// receivers stalled; what they miss is then counted lost.
func (w *window) next() bool {
	w.sent++
	if w.sent <= w.size {
		return true
	}
	need := w.sent - w.size
	if need <= w.lost {
		return true
	}
	need -= w.lost
	if got := w.got.wait(need, w.stall); got < need {
		w.lost += need - got
		return false
	}
	return true
}

// rig runs a server in this process and its clients in a child process.
type rig struct {
	n       int
	srv     benchServer
	child   *exec.Cmd
	cmds    *os.File // to the child
	sendMu  sync.Mutex
	stderr  tail
	got     *progress // measured packets every subscriber has received
	win     window
	expect  uint64        // what got is to reach
	warmed  chan struct{} // closed when every subscriber has media
	errc    chan error
	closing atomic.Bool
	readers sync.WaitGroup
	before  int // goroutines before the rig
	pkt     rtp.Packet
	closed  bool
	idle    float64 // server CPU µs per second with no media (paced cases)
	// the server's threads' context switches per second then: each is
	// a thread that parked and was woken, for a timer, a packet or a
	// hand-off between goroutines on different threads
	idleWakeups float64
}

// benchServer is the forwarder under test.
type benchServer interface {
	join(id string, sig sfu.Signal, publisher bool) error
	publish(id string, offer webrtc.SessionDescription) (webrtc.SessionDescription, error)
	answer(id string, answer webrtc.SessionDescription) error
	// published is closed once tracks tracks are published.
	published(tracks int) <-chan struct{}
	close()
}

// shape is what a rig runs: n subscribers of pubs publishers (VP8, or
// Opus when audio) sending pace packets a second together, or as fast
// as the window allows with pace 0.
type shape struct {
	n, pace, pubs int
	audio         bool
}

// pubID names publisher i; the first is "pub".
func pubID(i int) string {
	if i == 0 {
		return "pub"
	}
	return fmt.Sprintf("pub%d", i)
}

// startRig starts the clients, the server, connects a publisher and n
// subscribers, and waits until every subscriber receives the publisher's
// video. The caller closes the rig.
func startRig(tb testing.TB, newServer func(testing.TB) benchServer, n int) *rig {
	tb.Helper()
	return startPacedRig(tb, newServer, shape{n: n, pubs: 1})
}

// startPacedRig starts a rig of the shape sh. When paced, its
// subscribers send TWCC feedback every 100 ms, as Pion and Chrome do at
// such rates.
func startPacedRig(tb testing.TB, newServer func(testing.TB) benchServer, sh shape) *rig {
	tb.Helper()
	n := sh.n
	r := &rig{n: n, got: newProgress(), warmed: make(chan struct{}), errc: make(chan error, 1),
		before: runtime.NumGoroutine()}
	ok := false
	defer func() {
		if !ok {
			r.close(tb)
		}
	}()
	r.win = window{got: r.got, size: benchWindow, stall: 2 * time.Second}
	r.pkt = rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, Marker: true}, Payload: make([]byte, benchPayload)}
	fillVP8(r.pkt.Payload, false, phaseBench)
	r.srv = newServer(tb)

	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	var pipes [6]*os.File // commands, messages and progress: read and write ends
	for i := 0; i < len(pipes); i += 2 {
		if pipes[i], pipes[i+1], err = os.Pipe(); err != nil {
			tb.Fatal(err)
		}
	}
	r.cmds = pipes[1]
	r.child = exec.Command(exe, "-test.run=^TestForwardingBenchmarkClients$")
	r.child.Env = append(os.Environ(), clientsEnv+"=1")
	r.child.ExtraFiles = []*os.File{pipes[0], pipes[3], pipes[5]}
	r.child.Stderr = &r.stderr
	err = r.child.Start()
	for _, f := range []*os.File{pipes[0], pipes[3], pipes[5]} {
		f.Close() // the child's ends
	}
	if err != nil {
		pipes[2].Close()
		pipes[4].Close()
		tb.Fatal(err)
	}
	r.readers.Add(2)
	go r.readMessages(pipes[2])
	go r.readProgress(pipes[4])

	for i := range sh.pubs {
		if err := r.srv.join(pubID(i), rigSignal{r, pubID(i), true}, true); err != nil {
			tb.Fatal(err)
		}
	}
	published := r.srv.published(sh.pubs)
	r.send(benchMsg{Op: "start", N: n, Pace: sh.pace, Pubs: sh.pubs, Audio: sh.audio})
	r.send(benchMsg{Op: "warm"}) // keyframes until every subscriber, yet to join, has media
	r.waitFor(tb, "the published tracks", published)
	for i := range n {
		id := fmt.Sprintf("sub%d", i)
		if err := r.srv.join(id, rigSignal{r, id, false}, false); err != nil {
			tb.Fatal(err)
		}
	}
	r.waitFor(tb, "media at every subscriber", r.warmed)
	ok = true
	return r
}

func (r *rig) waitFor(tb testing.TB, what string, ch <-chan struct{}) {
	tb.Helper()
	select {
	case <-ch:
	case err := <-r.errc:
		tb.Fatalf("waiting for %s: %v\n%s", what, err, &r.stderr)
	case <-time.After(20 * time.Second):
		tb.Fatalf("waiting for %s: not within 20s\n%s", what, &r.stderr)
	}
}

func (r *rig) encode(m benchMsg) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

func (r *rig) send(m benchMsg) { r.sendRaw(r.encode(m)) }

func (r *rig) sendRaw(b []byte) {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.cmds.Write(b) //nolint:errcheck // a child gone is seen by whoever waits on it
}

func (r *rig) fail(err error) {
	if r.closing.Load() {
		return
	}
	select {
	case r.errc <- err:
	default:
	}
}

// readMessages carries out the clients' signalling until they exit.
func (r *rig) readMessages(f *os.File) {
	defer r.readers.Done()
	defer f.Close()
	dec := json.NewDecoder(f)
	for {
		var m benchMsg
		if err := dec.Decode(&m); err != nil {
			return
		}
		switch m.Op {
		case "offer":
			answer, err := r.srv.publish(m.ID, *m.SDP)
			if err != nil {
				r.fail(err)
				continue
			}
			r.send(benchMsg{Op: "answer", ID: m.ID, SDP: &answer})
		case "answer":
			if err := r.srv.answer(m.ID, *m.SDP); err != nil {
				r.fail(err)
			}
		case "warm":
			r.pkt.SequenceNumber = uint16(m.N) - 1 // nextPacket goes on from the publisher's
			close(r.warmed)
		case "error":
			r.fail(errors.New("clients: " + m.Err))
		}
	}
}

// readProgress keeps r.got at the last count the clients wrote. It
// allocates nothing.
func (r *rig) readProgress(f *os.File) {
	defer r.readers.Done()
	defer f.Close()
	var buf [4096]byte
	have := 0
	for {
		n, err := f.Read(buf[have:])
		if err != nil {
			return
		}
		have += n
		if full := have &^ 7; full > 0 {
			r.got.set(binary.LittleEndian.Uint64(buf[full-8 : full]))
			have = copy(buf[:], buf[full:have])
		}
	}
}

// expectPackets returns the command that tells the clients count more
// packets are coming from the rig itself.
func (r *rig) expectPackets(count int) []byte {
	r.expect += uint64(count)
	return r.encode(benchMsg{Op: "expect", Target: r.expect})
}

// nextPacket numbers the next packet the rig forwards itself, after the
// publisher's.
func (r *rig) nextPacket() {
	r.pkt.SequenceNumber++
	r.pkt.Timestamp = uint32(r.pkt.SequenceNumber) * 3000
}

// forwardOne hands the next packet to fwd once the window allows.
func (r *rig) forwardOne(tb testing.TB, fwd func(int, *rtp.Packet)) {
	if !r.win.next() {
		tb.Fatalf("the subscribers stopped receiving at %d of %d packets\n%s", r.got.n.Load(), r.expect, &r.stderr)
	}
	r.nextPacket()
	fwd(len(r.pkt.Payload)+12, &r.pkt)
}

// await waits until the subscribers have received every packet expected.
func (r *rig) await(tb testing.TB) {
	select {
	case err := <-r.errc:
		tb.Fatalf("%v\n%s", err, &r.stderr)
	default:
	}
	if got := r.got.wait(r.expect, 2*time.Second); got < r.expect {
		tb.Fatalf("the subscribers received %d of %d packets\n%s", got, r.expect, &r.stderr)
	}
}

// close ends the server and the clients and checks that the goroutines
// are gone.
func (r *rig) close(tb testing.TB) {
	if r.closed {
		return
	}
	r.closed = true
	r.closing.Store(true)
	if r.srv != nil {
		r.srv.close()
	}
	if r.cmds != nil {
		r.cmds.Close() // the clients read the end, close their connections and exit
	}
	if r.child != nil && r.child.Process != nil {
		exited := make(chan struct{})
		go func() {
			r.child.Wait() //nolint:errcheck
			close(exited)
		}()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			tb.Errorf("the clients did not exit\n%s", &r.stderr)
			r.child.Process.Kill() //nolint:errcheck
			<-exited
		}
	}
	r.readers.Wait()
	r.got.timer.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > r.before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			tb.Errorf("%d goroutines left after the rig closed, %d before\n%s",
				runtime.NumGoroutine(), r.before, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

// rigSignal carries a participant's offers and candidates to its client.
// A publisher's client only publishes: what Parley offers it to receive
// the other publishers' tracks is left unanswered (its down connection
// never starts, and its copies of those tracks are never bound, so each
// costs a forwarded packet a check and no write), keeping the shape's
// packets out those to the subscribers.
type rigSignal struct {
	r   *rig
	id  string
	pub bool
}

var _ sfu.Signal = rigSignal{}

func (s rigSignal) Offer(sdp webrtc.SessionDescription) {
	if s.pub {
		return
	}
	s.r.send(benchMsg{Op: "offer", ID: s.id, SDP: &sdp})
}

func (s rigSignal) Candidate(t sfu.Target, c webrtc.ICECandidateInit) {
	if s.pub && t == sfu.Down {
		return
	}
	s.r.send(benchMsg{Op: "cand", ID: s.id, Cand: &c})
}

// tail keeps the end of what the clients write to stderr.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - 16<<10; over > 0 {
		t.b = t.b[over:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.b))
}

// parleyServer is Parley's SFU with one room.
type parleyServer struct {
	sfu   *sfu.SFU
	room  *sfu.Room
	mu    sync.Mutex
	parts map[string]*joining
	track *sfu.Track // the first published, set before ready is closed
	ready chan struct{}
	count int // tracks published
	want  int // tracks to publish before ready is closed
}

// joining is a participant once Join has returned: its client may answer
// the offer Join makes before then.
type joining struct {
	done chan struct{}
	p    *sfu.Participant
	err  error
}

func newParleyServer(tb testing.TB) benchServer {
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, TURNPort: -1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	p := &parleyServer{sfu: s, room: s.Room("bench"), parts: map[string]*joining{}, ready: make(chan struct{})}
	p.room.OnEvent(func(e sfu.Event) {
		if e.Kind != sfu.TrackPublished {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.count++; p.count == 1 {
			p.track = e.Track
		}
		if p.count == p.want {
			close(p.ready)
		}
	})
	return p
}

func (p *parleyServer) join(id string, sig sfu.Signal, publisher bool) error {
	j := &joining{done: make(chan struct{})}
	p.mu.Lock()
	p.parts[id] = j
	p.mu.Unlock()
	j.p, j.err = p.room.Join(id, sig, sfu.JoinOptions{ReceiveOnly: !publisher})
	close(j.done)
	return j.err
}

func (p *parleyServer) participant(id string) (*sfu.Participant, error) {
	p.mu.Lock()
	j := p.parts[id]
	p.mu.Unlock()
	if j == nil {
		return nil, fmt.Errorf("no participant %q", id)
	}
	<-j.done
	return j.p, j.err
}

func (p *parleyServer) publish(id string, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	part, err := p.participant(id)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	return part.Publish(offer)
}

func (p *parleyServer) answer(id string, answer webrtc.SessionDescription) error {
	part, err := p.participant(id)
	if err != nil {
		return err
	}
	return part.Answer(answer)
}

func (p *parleyServer) published(tracks int) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.want = tracks
	if p.count >= tracks {
		close(p.ready)
	}
	return p.ready
}

func (p *parleyServer) close() {
	p.room.Close()
	p.sfu.Close()
}

// bareServer is the floor: Pion's broadcast example, serving its
// subscribers with offers as Parley does. Pion's default codecs and
// interceptors (NACK, RTCP reports, stats, TWCC feedback); a socket per
// connection, no UDP mux.
type bareServer struct {
	api   *webrtc.API
	mu    sync.Mutex
	pcs   map[string]*webrtc.PeerConnection
	local []*webrtc.TrackLocalStaticRTP // complete when ready is closed
	want  int
	ready chan struct{}
}

func newBareServer(tb testing.TB) benchServer {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		tb.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		tb.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(loopbackSettings()))
	return &bareServer{api: api, pcs: map[string]*webrtc.PeerConnection{}, ready: make(chan struct{})}
}

func (s *bareServer) join(id string, sig sfu.Signal, publisher bool) error {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.pcs[id] = pc
	s.mu.Unlock()
	if publisher {
		pc.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, remote.ID(), remote.StreamID())
			if err != nil {
				return
			}
			s.mu.Lock()
			s.local = append(s.local, local)
			if len(s.local) == s.want {
				close(s.ready)
			}
			s.mu.Unlock()
			buf := make([]byte, 1500)
			for {
				n, _, err := remote.Read(buf)
				if err != nil {
					return
				}
				if _, err := local.Write(buf[:n]); err != nil && !errors.Is(err, io.ErrClosedPipe) {
					return
				}
			}
		})
		return nil
	}
	s.mu.Lock()
	locals := s.local
	s.mu.Unlock()
	for _, local := range locals {
		sender, err := pc.AddTrack(local)
		if err != nil {
			return err
		}
		go drainRTCPRaw(sender)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := setLocal(pc, offer); err != nil {
		return err
	}
	sig.Offer(*pc.LocalDescription())
	return nil
}

// setLocal sets a local description with every candidate in it.
func setLocal(pc *webrtc.PeerConnection, sdp webrtc.SessionDescription) error {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(sdp); err != nil {
		return err
	}
	<-gathered
	return nil
}

func (s *bareServer) pc(id string) *webrtc.PeerConnection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pcs[id]
}

func (s *bareServer) publish(id string, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	pc := s.pc(id)
	if err := pc.SetRemoteDescription(offer); err != nil {
		return webrtc.SessionDescription{}, err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	if err := setLocal(pc, answer); err != nil {
		return webrtc.SessionDescription{}, err
	}
	return *pc.LocalDescription(), nil
}

func (s *bareServer) answer(id string, answer webrtc.SessionDescription) error {
	return s.pc(id).SetRemoteDescription(answer)
}

func (s *bareServer) published(tracks int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want = tracks
	if len(s.local) >= tracks {
		close(s.ready)
	}
	return s.ready
}

func (s *bareServer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pc := range s.pcs {
		pc.Close() //nolint:errcheck
	}
}

// TestForwardingBenchmarkClients is the clients' process of the
// forwarding benchmarks: a publisher and N subscribers, driven by the rig
// through fds 3 (commands in), 4 (messages out) and 5 (progress out).
func TestForwardingBenchmarkClients(t *testing.T) {
	if os.Getenv(clientsEnv) == "" {
		t.Skip("the forwarding benchmarks run their clients here, in a process of their own")
	}
	c := &clients{
		out: json.NewEncoder(os.NewFile(4, "messages")), prog: os.NewFile(5, "progress"),
		pcs: map[string]*webrtc.PeerConnection{}, held: map[string][]webrtc.ICECandidateInit{},
		got: newProgress(), rep: newProgress(), withMedia: newProgress(), done: make(chan struct{})}
	defer c.close()
	dec := json.NewDecoder(os.NewFile(3, "commands"))
	for {
		var m benchMsg
		if dec.Decode(&m) != nil {
			return // the rig is done
		}
		if err := c.handle(m); err != nil {
			c.send(benchMsg{Op: "error", Err: fmt.Sprintf("%s %s: %v", m.Op, m.ID, err)})
		}
	}
}

// clientAPI makes the connections of n subscribers as Pion does by
// default (its codecs and interceptors), but with TWCC feedback every
// 2 ms × n up to Pion's 100 ms. The server sends each subscriber some
// 100,000/n packets a second here: a report then covers a few hundred, as
// a browser's does, and fits a datagram; Pion's 100 ms one at n=1 would
// not, and the server would drop it unread. The reports cost the server
// the same per second at every n. A paced rig's subscribers (pace > 0)
// send it every 100 ms, as at a real rate.
func clientAPI(n, pace int) (*webrtc.API, error) {
	interval := min(time.Duration(n)*2*time.Millisecond, 100*time.Millisecond)
	if pace > 0 {
		interval = 100 * time.Millisecond
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureStatsInterceptor(reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCSenderWithOptions(m, reg, twcc.SendInterval(interval)); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(loopbackSettings())), nil
}

// clients are the publishers (pubID(i)) and the subscribers ("sub<i>").
type clients struct {
	api    *webrtc.API
	outMu  sync.Mutex
	out    *json.Encoder
	prog   *os.File
	pcs    map[string]*webrtc.PeerConnection
	held   map[string][]webrtc.ICECandidateInit // until their description is set
	tracks []*webrtc.TrackLocalStaticRTP        // by publisher
	n      int
	pubs   int
	audio  bool
	step   uint64 // progress is written every step packets, and at the target
	target atomic.Uint64

	media     sync.Mutex   // the publishers' packets; one warm-up or send at a time
	pkts      []rtp.Packet // the next of each publisher
	win       window
	recv      []atomic.Uint64 // measured packets received, by subscriber
	got       *progress       // measured packets every subscriber has received
	rep       *progress       // the same count, for the progress writer
	withMedia *progress       // tracks of subscribers that have received a packet
	closed    atomic.Bool
	done      chan struct{}
	wg        sync.WaitGroup
}

func (c *clients) send(m benchMsg) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.out.Encode(m) //nolint:errcheck // the rig is gone
}

func (c *clients) handle(m benchMsg) error {
	switch m.Op {
	case "start":
		return c.start(m)
	case "answer":
		return c.setRemote(m.ID, *m.SDP)
	case "offer":
		if err := c.setRemote(m.ID, *m.SDP); err != nil {
			return err
		}
		pc := c.pcs[m.ID]
		answer, err := pc.CreateAnswer(nil)
		if err != nil {
			return err
		}
		if err := setLocal(pc, answer); err != nil {
			return err
		}
		c.send(benchMsg{Op: "answer", ID: m.ID, SDP: pc.LocalDescription()})
	case "cand":
		if pc := c.pcs[m.ID]; pc.RemoteDescription() != nil {
			return pc.AddICECandidate(*m.Cand)
		}
		c.held[m.ID] = append(c.held[m.ID], *m.Cand)
	case "warm":
		c.run(c.warm)
	case "send":
		c.setTarget(m.Target)
		c.run(func() { c.publish(m.N, m.Pace) })
	case "expect":
		c.setTarget(m.Target)
	}
	return nil
}

// start makes the connections of the shape m gives: m.N subscribers of
// m.Pubs publishers, each of one VP8 or Opus track.
func (c *clients) start(m benchMsg) error {
	n, pace := m.N, m.Pace
	var err error
	if c.api, err = clientAPI(n, pace); err != nil {
		return err
	}
	c.n, c.pubs, c.audio, c.step = n, max(m.Pubs, 1), m.Audio, benchWindow/4
	c.recv = make([]atomic.Uint64, n)
	c.win = window{got: c.got, size: benchWindow, stall: 300 * time.Millisecond}
	go c.report()
	codec, size := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, benchPayload
	if c.audio {
		codec, size = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, audioPayload
	}
	pubs := make([]*webrtc.PeerConnection, c.pubs)
	for i := range c.pubs {
		pub, err := c.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return err
		}
		pubs[i] = pub
		c.pcs[pubID(i)] = pub
		track, err := webrtc.NewTrackLocalStaticRTP(codec, "track", pubID(i))
		if err != nil {
			return err
		}
		c.tracks = append(c.tracks, track)
		c.pkts = append(c.pkts, rtp.Packet{Header: rtp.Header{Version: 2, Marker: true}, Payload: make([]byte, size)})
		sender, err := pub.AddTrack(track)
		if err != nil {
			return err
		}
		go drainRTCPRaw(sender)
	}
	for i := range n {
		pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return err
		}
		pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { c.receive(i, tr) })
		c.pcs[fmt.Sprintf("sub%d", i)] = pc
	}
	for i, pub := range pubs {
		offer, err := pub.CreateOffer(nil)
		if err != nil {
			return err
		}
		if err := setLocal(pub, offer); err != nil {
			return err
		}
		c.send(benchMsg{Op: "offer", ID: pubID(i), SDP: pub.LocalDescription()})
	}
	return nil
}

func (c *clients) setRemote(id string, sdp webrtc.SessionDescription) error {
	pc := c.pcs[id]
	if err := pc.SetRemoteDescription(sdp); err != nil {
		return err
	}
	for _, cand := range c.held[id] {
		if err := pc.AddICECandidate(cand); err != nil {
			return err
		}
	}
	delete(c.held, id)
	return nil
}

// receive counts subscriber i's packets.
func (c *clients) receive(i int, tr *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	var h rtp.Header
	for first := true; ; first = false {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if first {
			c.withMedia.add(1)
		}
		hl, err := h.Unmarshal(buf[:n])
		if err != nil || n < hl+3 || buf[hl+2] != phaseBench {
			continue
		}

		// The slowest subscriber moves the count of packets all have.
		if v := c.recv[i].Add(1); v-1 == c.got.n.Load() {
			least := v
			for j := range c.recv {
				least = min(least, c.recv[j].Load())
			}
			if c.got.raise(least) {
				c.rep.raise(least)
			}
		}
	}
}

func (c *clients) setTarget(v uint64) {
	c.target.Store(v)
	select {
	case c.rep.wake <- struct{}{}:
	default:
	}
}

// report writes the count of measured packets received every step
// packets, and when it reaches the target.
func (c *clients) report() {
	var buf [8]byte
	var last uint64
	for {
		want := min(last+c.step, c.target.Load())
		if want <= last {
			want = math.MaxUint64
		}
		c.rep.want.Store(want)
		if v := c.rep.n.Load(); v >= want {
			binary.LittleEndian.PutUint64(buf[:], v)
			if _, err := c.prog.Write(buf[:]); err != nil {
				return
			}
			last = v
			continue
		}
		select {
		case <-c.rep.wake:
		case <-c.done:
			return
		}
	}
}

func (c *clients) run(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.media.Lock()
		defer c.media.Unlock()
		f()
	}()
}

// warm sends keyframes from every publisher every 20 ms until every
// subscriber has received each track, then tells the rig the first
// publisher's next sequence number.
func (c *clients) warm() {
	deadline := time.Now().Add(20 * time.Second)
	want := uint64(c.n * c.pubs)
	for c.withMedia.wait(want, 20*time.Millisecond) < want {
		if time.Now().After(deadline) || c.closed.Load() {
			c.send(benchMsg{Op: "error", Err: fmt.Sprintf("%d of %d tracks of subscribers received media", c.withMedia.n.Load(), want)})
			return
		}
		for i := range c.pubs {
			c.write(i, true, phaseWarm)
		}
	}
	c.send(benchMsg{Op: "warm", N: int(c.pkts[0].SequenceNumber)})
}

// publish sends count delta frames (or audio packets), pace a second or,
// with pace 0, as fast as the window allows, the publishers in turn.
func (c *clients) publish(count, pace int) {
	start := time.Now()
	for i := range count {
		if c.closed.Load() {
			return
		}
		if pace > 0 {
			// Pacing, not waiting for an event: the packet's time on a
			// fixed schedule, so that a late one does not slow the rest.
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(pace))))
		}
		c.win.next()
		c.write(i%c.pubs, false, phaseBench)
	}
}

// write sends publisher i's next packet. An Opus one carries the same
// marks as a VP8 one (the phase in its third byte), which the SFUs do
// not read.
func (c *clients) write(i int, key bool, phase byte) {
	pkt := &c.pkts[i]
	fillVP8(pkt.Payload, key, phase)
	step := uint32(3000) // 90 kHz at 30 frames/s
	if c.audio {
		step = 960 // 48 kHz, 20 ms
	}
	pkt.Timestamp = uint32(pkt.SequenceNumber) * step
	c.tracks[i].WriteRTP(pkt) //nolint:errcheck
	pkt.SequenceNumber++
}

func (c *clients) close() {
	c.closed.Store(true)
	for _, pc := range c.pcs {
		pc.Close() //nolint:errcheck
	}
	close(c.done)
	c.wg.Wait()
}

// drainRTCPRaw reads sender's RTCP as bytes until the sender stops, as
// Pion's broadcast example does (rtcpeer.DrainRTCP parses each packet).
func drainRTCPRaw(sender *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := sender.Read(buf); err != nil {
			return
		}
	}
}
