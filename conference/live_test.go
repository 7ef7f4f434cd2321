package conference

import (
	"testing"
	"time"
)

// testLive is what every implementation of Live must do; a shared one
// for many nodes runs it too.
func testLive(t *testing.T, newLive func() Live) {
	ended := make(chan string, 4)
	room := func(l Live, id string) *LiveRoom {
		return l.Open(id, func() *LiveRoom {
			lr := &LiveRoom{room: Room{ID: id}, members: map[string]*Member{}, grace: time.Hour}
			lr.empty = time.AfterFunc(time.Hour, func() { ended <- id })
			return lr
		})
	}
	member := func(id, roomID string) *Member { return &Member{id: id, roomID: roomID} }

	t.Run("a room is opened once", func(t *testing.T) {
		l := newLive()
		a := room(l, "r1")
		if b := room(l, "r1"); b != a {
			t.Fatal("a second Open made another live room")
		}
		if !l.Empty("r1") || l.Empty("r2") {
			t.Fatal("Empty: want true for an open room nobody is in, false for a room not live")
		}
	})
	t.Run("members come and go", func(t *testing.T) {
		l := newLive()
		lr := room(l, "r1")
		m1, m2 := member("p1", "r1"), member("p2", "r1")
		if others, ok := l.Add(lr, m1); !ok || len(others) != 0 {
			t.Fatalf("first Add: others %v, ok %v; want none, true", others, ok)
		}
		if others, ok := l.Add(lr, m2); !ok || len(others) != 1 || others[0] != m1 {
			t.Fatalf("second Add: others %v, ok %v; want the first member", others, ok)
		}
		if got, glr := l.Member("r1", "p2"); got != m2 || glr != lr {
			t.Fatal("Member does not find the member added")
		}
		if got, _ := l.Member("r1", "p9"); got != nil {
			t.Fatal("Member finds a member never added")
		}
		if glr, ok := l.Remove(m1); !ok || glr != lr {
			t.Fatal("Remove of a member: want its room and true")
		}
		if _, ok := l.Remove(m1); ok {
			t.Fatal("a second Remove of the same member: want false")
		}
		if l.Empty("r1") {
			t.Fatal("Empty with a member left")
		}
		l.Remove(m2)
		if !l.Empty("r1") {
			t.Fatal("not Empty once everyone left")
		}
	})
	t.Run("closing takes the room and its members", func(t *testing.T) {
		l := newLive()
		lr := room(l, "r1")
		m := member("p1", "r1")
		l.Add(lr, m)
		got, members := l.Close("r1")
		if got != lr || len(members) != 1 || members[0] != m {
			t.Fatalf("Close: %v %v; want the room and its member", got, members)
		}
		if _, ok := l.Remove(m); ok {
			t.Fatal("a closed room's member is still there to remove")
		}
		if _, ok := l.Add(lr, member("p2", "r1")); ok {
			t.Fatal("Add to a closed room succeeded")
		}
		if got, _ := l.Close("r1"); got != nil {
			t.Fatal("a second Close found the room")
		}
		if room(l, "r1") == lr {
			t.Fatal("Open after Close gave the closed room back")
		}
	})
	select {
	case id := <-ended:
		t.Fatalf("room %s's empty timer fired", id)
	default:
	}
}

func TestMemoryLive(t *testing.T) {
	testLive(t, func() Live { return NewMemoryLive() })
}
