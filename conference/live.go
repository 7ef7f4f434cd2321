package conference

import (
	"sync"
	"time"

	"parley/sfu"
)

// Live keeps the live rooms: the rooms that may have people in them, each
// with its SFU room and its members. They are this node's state; MemoryLive
// keeps them in memory and is the default. Keeping them on many nodes is
// another implementation of Live, and the Service does not change.
type Live interface {
	// Open returns room id's live room, made by open if it has none.
	Open(id string, open func() *LiveRoom) *LiveRoom
	// Add puts m into lr and stops lr's empty timer. It returns the
	// members there before, or false when lr is no longer live (the
	// room ended meanwhile).
	Add(lr *LiveRoom, m *Member) (others []*Member, ok bool)
	// Remove takes m out of its room and marks it gone, arming the empty
	// timer when the room is left empty. It returns m's live room (nil
	// when the room is not live), and false when m was gone already.
	Remove(m *Member) (*LiveRoom, bool)
	// Member is member id of room roomID, with its live room; nil when
	// either is gone.
	Member(roomID, id string) (*Member, *LiveRoom)
	// Empty reports whether room id is live with nobody in it.
	Empty(id string) bool
	// Close takes room id out of the live rooms and stops its empty
	// timer. It returns its live room (nil when it was not live) and its
	// members, each marked gone.
	Close(id string) (*LiveRoom, []*Member)
	// Stop stops every empty timer, and arms none from now on: the
	// service is stopping.
	Stop()
}

// LiveRoom is a room with its SFU room, while anyone may be in it.
type LiveRoom struct {
	room    Room
	media   *sfu.Room
	members map[string]*Member
	empty   *time.Timer // ends the room when it stays empty
	grace   time.Duration
}

// MemoryLive is Live in this process's memory: one map of rooms, and
// their members, behind one mutex.
type MemoryLive struct {
	mu      sync.Mutex
	rooms   map[string]*LiveRoom
	stopped bool
}

var _ Live = (*MemoryLive)(nil)

// NewMemoryLive makes an empty MemoryLive.
func NewMemoryLive() *MemoryLive { return &MemoryLive{rooms: map[string]*LiveRoom{}} }

// Open implements Live.
func (l *MemoryLive) Open(id string, open func() *LiveRoom) *LiveRoom {
	l.mu.Lock()
	defer l.mu.Unlock()
	lr := l.rooms[id]
	if lr == nil {
		lr = open()
		if l.stopped {
			lr.empty.Stop()
		}
		l.rooms[id] = lr
	}
	return lr
}

// Add implements Live.
func (l *MemoryLive) Add(lr *LiveRoom, m *Member) ([]*Member, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rooms[lr.room.ID] != lr {
		return nil, false
	}
	others := make([]*Member, 0, len(lr.members))
	for _, o := range lr.members {
		others = append(others, o)
	}
	lr.members[m.id] = m
	lr.empty.Stop()
	return others, true
}

// Remove implements Live.
func (l *MemoryLive) Remove(m *Member) (*LiveRoom, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m.left {
		return nil, false
	}
	m.left = true
	lr := l.rooms[m.roomID]
	if lr != nil {
		delete(lr.members, m.id)
		if len(lr.members) == 0 && !l.stopped {
			lr.empty.Reset(lr.grace)
		}
	}
	return lr, true
}

// Member implements Live.
func (l *MemoryLive) Member(roomID, id string) (*Member, *LiveRoom) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lr := l.rooms[roomID]
	if lr == nil {
		return nil, nil
	}
	m := lr.members[id]
	if m == nil {
		return nil, nil
	}
	return m, lr
}

// Empty implements Live.
func (l *MemoryLive) Empty(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lr := l.rooms[id]
	return lr != nil && len(lr.members) == 0
}

// Close implements Live.
func (l *MemoryLive) Close(id string) (*LiveRoom, []*Member) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lr := l.rooms[id]
	delete(l.rooms, id)
	if lr == nil {
		return nil, nil
	}
	lr.empty.Stop()
	var members []*Member
	for _, m := range lr.members {
		members = append(members, m)
		m.left = true
	}
	return lr, members
}

// Stop implements Live.
func (l *MemoryLive) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	for _, lr := range l.rooms {
		lr.empty.Stop()
	}
}
