package sfu

import (
	"cmp"
	"slices"
	"time"

	"github.com/pion/rtp"
)

// A subscriber's lost packets are sent again from a history of what was
// sent: the last historySlots packets of one video stream, each as it went
// out (header rewritten, no extensions yet), stored end to end in one
// slab. The slab starts small and doubles, up to historyBytes, whenever it
// comes round in less than historyAge, so a low layer keeps a small one.
// Nothing is allocated per packet once it has grown.

const (
	// historySlots bounds the packets kept, a power of two: a packet is
	// found by its sequence number modulo historySlots.
	historySlots = 512
	// historyBytes bounds their size: about a second of a 3 Mbit/s
	// layer, whichever bound comes first. A NACK for an older packet is
	// too late to help the picture anyway.
	historyBytes = 384 << 10
	// historyFirstBytes is the slab a stream starts with: a second of a
	// 250 kbit/s layer.
	historyFirstBytes = 32 << 10
	// historyAge is how far back a history should reach.
	historyAge = time.Second
)

// history is one stream's sent packets. Its owner serialises access.
type history struct {
	slots [historySlots]historySlot
	slab  []byte
	pos   uint64    // bytes ever stored, skipped tails included
	lapAt time.Time // when the slab last started again from its beginning
}

type historySlot struct {
	seq   uint16
	n     uint16 // bytes; 0: empty
	start uint64 // where in the slab, as a count of bytes ever stored
}

func newHistory() *history {
	return &history{slab: make([]byte, historyFirstBytes), lapAt: time.Now()}
}

// store keeps a copy of the packet h, payload.
func (r *history) store(h *rtp.Header, payload []byte) {
	n := h.MarshalSize() + len(payload)
	if n > 0xffff || n > len(r.slab) {
		return
	}
	off := int(r.pos % uint64(len(r.slab)))
	if off+n > len(r.slab) { // no room before the end
		now := time.Now()
		if len(r.slab) < historyBytes && now.Sub(r.lapAt) < historyAge {
			r.grow()
			off = int(r.pos) // the packets kept are now at the slab's start
		} else { // start again at the beginning
			r.pos += uint64(len(r.slab) - off)
			off = 0
			r.lapAt = now
		}
	}
	hn, err := h.MarshalTo(r.slab[off : off+n])
	if err != nil {
		return
	}
	copy(r.slab[off+hn:off+n], payload)
	r.slots[h.SequenceNumber%historySlots] = historySlot{seq: h.SequenceNumber, n: uint16(n), start: r.pos}
	r.pos += uint64(n)
}

// grow doubles the slab (up to historyBytes), moving the packets still
// kept to its start, oldest first.
func (r *history) grow() {
	var kept []int
	for i, s := range r.slots {
		if s.n != 0 && r.pos-s.start <= uint64(len(r.slab)) {
			kept = append(kept, i)
		} else {
			r.slots[i].n = 0
		}
	}
	slices.SortFunc(kept, func(a, b int) int { return cmp.Compare(r.slots[a].start, r.slots[b].start) })
	slab := make([]byte, min(2*len(r.slab), historyBytes))
	var pos uint64
	for _, i := range kept {
		s := &r.slots[i]
		off := int(s.start % uint64(len(r.slab)))
		copy(slab[pos:], r.slab[off:off+int(s.n)])
		s.start = pos
		pos += uint64(s.n)
	}
	r.slab, r.pos = slab, pos
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
