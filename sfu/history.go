package sfu

import "github.com/pion/rtp"

// A subscriber's lost packets are sent again from a history of what was
// sent: the last historySlots packets of one video stream, each as it went
// out (header rewritten, no extensions yet), stored end to end in one
// preallocated slab. Nothing is allocated per packet.

const (
	// historySlots bounds the packets kept, a power of two: a packet is
	// found by its sequence number modulo historySlots.
	historySlots = 512
	// historyBytes bounds their size: about a second of a 3 Mbit/s
	// layer, whichever bound comes first. A NACK for an older packet is
	// too late to help the picture anyway.
	historyBytes = 384 << 10
)

// history is one stream's sent packets. Its owner serialises access.
type history struct {
	slots [historySlots]historySlot
	slab  []byte
	pos   uint64 // bytes ever stored, skipped tails included
}

type historySlot struct {
	seq   uint16
	n     uint16 // bytes; 0: empty
	start uint64 // where in the slab, as a count of bytes ever stored
}

func newHistory() *history { return &history{slab: make([]byte, historyBytes)} }

// store keeps a copy of the packet h, payload.
func (r *history) store(h *rtp.Header, payload []byte) {
	n := h.MarshalSize() + len(payload)
	if n > 0xffff || n > len(r.slab) {
		return
	}
	off := int(r.pos % uint64(len(r.slab)))
	if off+n > len(r.slab) { // no room before the end: start again at the beginning
		r.pos += uint64(len(r.slab) - off)
		off = 0
	}
	hn, err := h.MarshalTo(r.slab[off : off+n])
	if err != nil {
		return
	}
	copy(r.slab[off+hn:off+n], payload)
	r.slots[h.SequenceNumber%historySlots] = historySlot{seq: h.SequenceNumber, n: uint16(n), start: r.pos}
	r.pos += uint64(n)
}

// get returns the stored packet numbered seq, marshalled, or nil when it
// is no longer (or never was) kept. The bytes are valid until the next
// store.
func (r *history) get(seq uint16) []byte {
	s := r.slots[seq%historySlots]
	if s.n == 0 || s.seq != seq || r.pos-s.start > uint64(len(r.slab)) {
		return nil
	}
	off := int(s.start % uint64(len(r.slab)))
	return r.slab[off : off+int(s.n)]
}
