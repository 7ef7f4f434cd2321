package conference_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/conference"
	"parley/sfu"
	"parley/store/storetest"
)

// The conference tests run the service against the real database and a
// real SFU. Members join through a silent signal unless a test needs
// media: membership, invites and ending do not depend on it.

func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type rig struct {
	t     *testing.T
	auth  *auth.Service
	media *sfu.SFU
	bus   *bus.MemoryBus
	svc   *conference.Service
	// newService makes another service over the same database and SFU,
	// with its own bus (another run of the server).
	newService func(grace time.Duration, b bus.Bus) *conference.Service
}

func newRig(t *testing.T, grace time.Duration) *rig {
	t.Helper()
	pool := storetest.Pool(t, auth.Migrations, conference.Migrations)
	a, err := auth.NewService(ctx(t), pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	media, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { media.Close() })
	r := &rig{t: t, auth: a, media: media, bus: bus.NewMemory()}
	r.newService = func(grace time.Duration, b bus.Bus) *conference.Service {
		s := conference.New(pool, media, b, a, quiet, conference.Options{EmptyGrace: grace})
		t.Cleanup(s.Stop)
		return s
	}
	r.svc = r.newService(grace, r.bus)
	return r
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// user makes an account and returns its principal.
func (r *rig) user(name string, role auth.Role) auth.Principal {
	r.t.Helper()
	u, err := r.auth.CreateUser(ctx(r.t), auth.NewUser{Username: fmt.Sprintf("%s-%d", strings.ToLower(name), users.Add(1)),
		Name: name, Role: role, Password: "secret"})
	if err != nil {
		r.t.Fatal(err)
	}
	return u.Principal()
}

// users numbers the accounts of the package's tests, which share a database.
var users atomic.Int64

// event is one frame heard on the bus.
type event struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// listen follows subject on b; events queue until read.
func listen(t *testing.T, b bus.Bus, subject string) chan event {
	t.Helper()
	ch := make(chan event, 256)
	unsub, err := b.Subscribe(subject, func(frame []byte) {
		var e event
		if json.Unmarshal(frame, &e) == nil {
			select {
			case ch <- e:
			default:
				t.Errorf("%s: too many events unread", subject)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return ch
}

// next waits for the next event on ch and checks its type.
func next(t *testing.T, ch chan event, typ string) json.RawMessage {
	t.Helper()
	select {
	case e := <-ch:
		if e.Type != typ {
			t.Fatalf("got %s %s, want %s", e.Type, e.Data, typ)
		}
		return e.Data
	case <-time.After(15 * time.Second):
		t.Fatalf("no %s within 15s", typ)
	}
	return nil
}

// silent is a signal that drops what the SFU says: a member without media.
type silent struct{}

func (silent) Offer(string)                                      {}
func (silent) Candidate(conference.Target, conference.Candidate) {}

func (r *rig) join(svc *conference.Service, p auth.Principal, room string, opt conference.JoinOptions) (*conference.Member, conference.Joined) {
	r.t.Helper()
	m, j, err := svc.Join(ctx(r.t), p, room, opt, silent{})
	if err != nil {
		r.t.Fatalf("%s joins: %v", p.Name, err)
	}
	r.t.Cleanup(func() { svc.Leave(m, "left") })
	return m, j
}

func TestMembersSeeWhoIsThereAndHearWhoComesAndGoes(t *testing.T) {
	r := newRig(t, time.Minute)
	alice := r.user("Alice", auth.RoleAgent)
	bob := r.user("Bob", auth.RoleAgent)
	room, err := r.svc.CreateConference(ctx(t), alice, "Weekly", nil)
	if err != nil {
		t.Fatal(err)
	}
	if room.Kind != conference.KindConference || room.Number == nil || len(*room.Number) != 10 || room.Name != "Weekly" {
		t.Fatalf("room %+v", room)
	}
	if got, err := r.svc.ByNumber(ctx(t), (*room.Number)[:3]+" "+(*room.Number)[3:]); err != nil || got.ID != room.ID {
		t.Fatalf("by number with a space: %+v %v", got, err)
	}
	events := listen(t, r.bus, conference.Subject(room.ID))

	am, aj := r.join(r.svc, alice, room.ID, conference.JoinOptions{MayEnd: true})
	if aj.ParticipantID != am.ID() || am.RoomID() != room.ID || len(aj.Participants) != 0 || aj.Room.ID != room.ID {
		t.Fatalf("alice joined %+v", aj)
	}
	if joinedEv := next(t, events, "room.participant_joined"); !strings.Contains(string(joinedEv), am.ID()) {
		t.Fatalf("alice's join: %s", joinedEv)
	}
	bm, bj := r.join(r.svc, bob, room.ID, conference.JoinOptions{Name: "Robert"})
	if len(bj.Participants) != 1 || bj.Participants[0].ID != am.ID() || bj.Participants[0].Name != "Alice" {
		t.Fatalf("bob sees %+v", bj.Participants)
	}
	if joinedEv := next(t, events, "room.participant_joined"); !strings.Contains(string(joinedEv), `"name":"Robert"`) {
		t.Fatalf("bob's join, by the name he joined with: %s", joinedEv)
	}
	r.svc.Leave(bm, "left")
	left := next(t, events, "room.participant_left")
	if !strings.Contains(string(left), bm.ID()) || !strings.Contains(string(left), `"reason":"left"`) {
		t.Fatalf("bob's leaving: %s", left)
	}
	r.svc.Leave(bm, "left") // a second leave says nothing
	r.svc.Leave(am, "disconnected")
	if left := next(t, events, "room.participant_left"); !strings.Contains(string(left), `"reason":"disconnected"`) {
		t.Fatalf("alice's leaving: %s", left)
	}
	select {
	case e := <-events:
		t.Fatalf("after everyone left: %s %s", e.Type, e.Data)
	default:
	}
}

// Who may join, end or watch which room is the rooms package's rule, with
// its table over every role and relation (rooms/access_test.go); the
// conference service admits whoever the caller sends, to a room that has
// not ended.

func TestInvitedUsersHearOfTheRoomAndTheCreatorOfADecline(t *testing.T) {
	r := newRig(t, time.Minute)
	alice := r.user("Alice", auth.RoleAgent)
	bob := r.user("Bob", auth.RoleAgent)
	carol := r.user("Carol", auth.RoleSupervisor)
	toAlice := listen(t, r.bus, bus.PrincipalSubject(alice.Key()))
	toBob := listen(t, r.bus, bus.PrincipalSubject(bob.Key()))

	// Alice inviting herself is no invitation.
	room, err := r.svc.CreateConference(ctx(t), alice, "", []auth.UserID{bob.UserID, alice.UserID})
	if err != nil {
		t.Fatal(err)
	}
	if room.Name != "Alice's room" || room.CreatedBy != (conference.Author{Kind: "agent", Name: "Alice"}) {
		t.Fatalf("room %+v", room)
	}
	inv := next(t, toBob, "room.invited")
	if !strings.Contains(string(inv), room.ID) || !strings.Contains(string(inv), `"from":{"id":`+alice.UserID.String()+`,"name":"Alice"}`) {
		t.Fatalf("invitation %s", inv)
	}
	if err := r.svc.Decline(ctx(t), bob, room.ID); err != nil {
		t.Fatal(err)
	}
	if d := next(t, toAlice, "room.declined"); !strings.Contains(string(d), `"name":"Bob"`) {
		t.Fatalf("decline %s", d)
	}
	if err := r.svc.Decline(ctx(t), carol, room.ID); !errors.Is(err, conference.ErrNotFound) {
		t.Fatalf("carol, not invited, declines: %v", err)
	}
	if _, err := r.svc.CreateConference(ctx(t), alice, "", []auth.UserID{999999}); !errors.Is(err, conference.ErrBadInput) {
		t.Fatalf("inviting nobody: %v", err)
	}
	if _, err := r.svc.CreateConference(ctx(t), alice, strings.Repeat("n", 101), nil); !errors.Is(err, conference.ErrBadInput) {
		t.Fatalf("a long name: %v", err)
	}
}

func TestAGuestTokenAdmitsToItsOwnRoomOnly(t *testing.T) {
	r := newRig(t, time.Minute)
	alice := r.user("Alice", auth.RoleAgent)
	room, err := r.svc.CreateConference(ctx(t), alice, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := r.svc.CreateConference(ctx(t), alice, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "  ", strings.Repeat("g", 101)} {
		if _, _, err := r.svc.IssueGuest(room, name); !errors.Is(err, conference.ErrBadInput) {
			t.Fatalf("guest named %q: %v", name, err)
		}
	}
	tok, expires, err := r.svc.IssueGuest(room, " Gita ")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expires); d < 11*time.Hour || d > 12*time.Hour {
		t.Fatalf("expires in %s, want the default 12h", d)
	}
	guest, err := r.auth.Authenticate(ctx(t), tok)
	if err != nil {
		t.Fatal(err)
	}
	if guest.Kind != auth.KindGuest || guest.Scope != room.ID || guest.Name != "Gita" {
		t.Fatalf("guest %+v", guest)
	}
	_, j := r.join(r.svc, guest, room.ID, conference.JoinOptions{})
	if j.Room.ID != room.ID {
		t.Fatalf("joined %+v", j.Room)
	}
	if err := r.svc.End(ctx(t), alice, other.ID); err != nil {
		t.Fatal(err)
	}
	other, _ = r.svc.Get(ctx(t), other.ID)
	if _, _, err := r.svc.IssueGuest(other, "Gita"); !errors.Is(err, conference.ErrEnded) {
		t.Fatalf("a guest for an ended room: %v", err)
	}
}

func TestEndingARoomByHandTellsEveryoneAndAdmitsNobodyAfter(t *testing.T) {
	r := newRig(t, time.Minute)
	alice := r.user("Alice", auth.RoleAgent)
	bob := r.user("Bob", auth.RoleAgent)
	room, err := r.svc.CreateConference(ctx(t), alice, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	gone := make(chan struct{})
	m, _, err := r.svc.Join(ctx(t), bob, room.ID, conference.JoinOptions{OnGone: func() { close(gone) }}, silent{})
	if err != nil {
		t.Fatal(err)
	}
	events := listen(t, r.bus, conference.Subject(room.ID))
	if err := r.svc.End(ctx(t), alice, room.ID); err != nil {
		t.Fatal(err)
	}
	if e := next(t, events, "room.ended"); !strings.Contains(string(e), `"reason":"ended"`) {
		t.Fatalf("room.ended %s", e)
	}
	select {
	case <-gone:
	case <-time.After(15 * time.Second):
		t.Fatal("the member was not told it is gone")
	}
	r.svc.Leave(m, "left") // after the end: says nothing
	select {
	case e := <-events:
		t.Fatalf("after the end: %s %s", e.Type, e.Data)
	default:
	}
	if got, err := r.svc.Get(ctx(t), room.ID); err != nil || !got.Ended() {
		t.Fatalf("the room after its end: %+v %v", got, err)
	}
	if err := r.svc.End(ctx(t), alice, room.ID); !errors.Is(err, conference.ErrEnded) {
		t.Fatalf("ending it again: %v", err)
	}
	if _, _, err := r.svc.Join(ctx(t), bob, room.ID, conference.JoinOptions{}, silent{}); !errors.Is(err, conference.ErrEnded) {
		t.Fatalf("joining the ended room: %v", err)
	}
}

func TestAConversationRoomIsOneAtATimeAndItsActivityReachesTheChat(t *testing.T) {
	r := newRig(t, time.Minute)
	alice := r.user("Alice", auth.RoleAgent)
	activity := make(chan conference.Activity, 16)
	r.svc.OnActivity = func(_ conference.Room, a conference.Activity) { activity <- a }
	room, created, err := r.svc.CreateForConversation(ctx(t), alice, "Al", 7001, "Help", "")
	if err != nil || !created || room.Media != conference.MediaVideo || *room.ConversationID != 7001 {
		t.Fatalf("create: %+v %v %v", room, created, err)
	}
	again, created, err := r.svc.CreateForConversation(ctx(t), alice, "Al", 7001, "Help", "audio")
	if err != nil || created || again.ID != room.ID {
		t.Fatalf("a second room for the conversation: %+v %v %v", again, created, err)
	}
	if _, _, err := r.svc.CreateForConversation(ctx(t), alice, "Al", 7002, "", "smell"); !errors.Is(err, conference.ErrBadInput) {
		t.Fatalf("bad media: %v", err)
	}
	m, _ := r.join(r.svc, alice, room.ID, conference.JoinOptions{Name: "Al"})
	r.svc.Leave(m, "left")
	for _, want := range []string{conference.ActivityCreated, conference.ActivityJoined, conference.ActivityLeft} {
		select {
		case a := <-activity:
			if a.Kind != want || a.Name != "Al" || a.By.Key() != alice.Key() {
				t.Fatalf("activity %+v, want %s by Al", a, want)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("no %s", want)
		}
	}
}

func TestAnEmptyRoomEndsAfterTheGracePeriod(t *testing.T) {
	r := newRig(t, 200*time.Millisecond)
	alice := r.user("Alice", auth.RoleAgent)
	room, err := r.svc.CreateConference(ctx(t), alice, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	events := listen(t, r.bus, conference.Subject(room.ID))
	m, _, err := r.svc.Join(ctx(t), alice, room.ID, conference.JoinOptions{}, silent{})
	if err != nil {
		t.Fatal(err)
	}
	next(t, events, "room.participant_joined")
	r.svc.Leave(m, "left")
	next(t, events, "room.participant_left")
	if e := next(t, events, "room.ended"); !strings.Contains(string(e), `"reason":"empty"`) {
		t.Fatalf("room.ended %s", e)
	}
	if got, _ := r.svc.Get(ctx(t), room.ID); !got.Ended() {
		t.Fatalf("the room after the grace: %+v", got)
	}
}

// A room left open by a stopped service ends by the timer of the next
// one, and the stopped service's timer never fires: had it, the stopped
// service (grace 100 ms, armed first) would have ended the room long
// before the next one (grace 1 s, armed after Stop).
func TestNoEmptyRoomTimerFiresAfterStop(t *testing.T) {
	r := newRig(t, 100*time.Millisecond)
	alice := r.user("Alice", auth.RoleAgent)
	room, err := r.svc.CreateConference(ctx(t), alice, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := r.svc.Join(ctx(t), alice, room.ID, conference.JoinOptions{}, silent{})
	if err != nil {
		t.Fatal(err)
	}
	firstRun := listen(t, r.bus, conference.Subject(room.ID))
	r.svc.Stop()
	r.svc.Leave(m, "left") // empty after Stop: arms nothing
	next(t, firstRun, "room.participant_left")

	nextBus := bus.NewMemory()
	nextRun := listen(t, nextBus, conference.Subject(room.ID))
	after := r.newService(time.Second, nextBus)
	if err := after.Start(ctx(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-nextRun:
		if e.Type != "room.ended" || !strings.Contains(string(e.Data), `"reason":"empty"`) {
			t.Fatalf("the next run: %s %s", e.Type, e.Data)
		}
	case e := <-firstRun:
		t.Fatalf("the stopped service's timer fired: %s %s", e.Type, e.Data)
	case <-time.After(15 * time.Second):
		t.Fatal("the room did not end within 15s")
	}
}
