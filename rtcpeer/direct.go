package rtcpeer

import (
	"context"
	"errors"
	"sync"

	"github.com/pion/webrtc/v4"

	"parley/sfu"
)

// Direct is a Server that is the SFU's participant in the same process,
// for tests and benchmarks. Calls made before Join has the participant
// wait for it: candidates may be gathered, and the first down offer
// answered, while Join is still running.
type Direct struct {
	ready chan struct{}
	once  sync.Once
	p     *sfu.Participant
}

var _ Server = (*Direct)(nil)

// NewDirect makes a Server for a participant still to join.
func NewDirect() *Direct { return &Direct{ready: make(chan struct{})} }

// errNotJoined is returned by the calls of a Direct whose Join failed.
var errNotJoined = errors.New("rtcpeer: the participant did not join")

// Join joins room r as id, signalling to sig (the peer).
func (d *Direct) Join(r *sfu.Room, id string, sig sfu.Signal, opt sfu.JoinOptions) (*sfu.Participant, error) {
	p, err := r.Join(id, sig, opt)
	d.once.Do(func() { d.p = p; close(d.ready) })
	return p, err
}

// Participant waits for Join and returns the participant (nil if Join
// failed).
func (d *Direct) Participant() *sfu.Participant {
	<-d.ready
	return d.p
}

// Publish implements Server.
func (d *Direct) Publish(_ context.Context, offer webrtc.SessionDescription, _ []Track) (webrtc.SessionDescription, error) {
	p := d.Participant()
	if p == nil {
		return webrtc.SessionDescription{}, errNotJoined
	}
	return p.Publish(offer)
}

// Answer implements Server.
func (d *Direct) Answer(_ context.Context, answer webrtc.SessionDescription) error {
	p := d.Participant()
	if p == nil {
		return errNotJoined
	}
	return p.Answer(answer)
}

// Candidate implements Server.
func (d *Direct) Candidate(_ context.Context, target sfu.Target, c webrtc.ICECandidateInit) error {
	p := d.Participant()
	if p == nil {
		return errNotJoined
	}
	return p.AddCandidate(target, c)
}
