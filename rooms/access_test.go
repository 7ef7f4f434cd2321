package rooms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/conference"
	"parley/sfu"
	"parley/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is a rooms Service on a fresh database, with real chat,
// conference and SFU beneath it.
type fixture struct {
	pool *pgxpool.Pool
	auth *auth.Service
	chat *chat.Service
	conf *conference.Service
	s    *Service
}

var users atomic.Int64 // numbers usernames: the tests share the package's database

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := storetest.Pool(t, auth.Migrations, conference.Migrations, chat.Migrations)
	a, err := auth.NewService(ctx, pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	media, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, TURNPort: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { media.Close() })
	b := bus.NewMemory()
	f := &fixture{pool: pool, auth: a, chat: chat.New(pool, b, quiet, chat.Options{})}
	f.conf = conference.New(pool, media, b, a, quiet, conference.Options{})
	f.s = New(f.conf, f.chat, b, quiet)
	return f
}

// user makes an account and returns it signed in.
func (f *fixture) user(t *testing.T, name string, role auth.Role) auth.Principal {
	t.Helper()
	u, err := f.auth.CreateUser(context.Background(), auth.NewUser{Username: fmt.Sprintf("%s-%d", strings.ToLower(name), users.Add(1)),
		Name: name, Role: role, Password: "secret-password"})
	if err != nil {
		t.Fatal(err)
	}
	return auth.Principal{Kind: auth.KindUser, Role: role, UserID: u.ID, Name: name}
}

// The one rule of who may do what in a video room, over every relation
// to a conversation's room and to a conference room × every room request,
// with chat's own answers from a real database.
func TestWhoMayDoWhatInARoom(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pool, chatSvc, conf, s := f.pool, f.chat, f.conf, f.s
	alice, bob := f.user(t, "Alice", auth.RoleAgent), f.user(t, "Bob", auth.RoleAgent)
	sup, admin := f.user(t, "Sue", auth.RoleSupervisor), f.user(t, "Ada", auth.RoleAdmin)
	q, err := chatSvc.CreateQueue(ctx, chat.Queue{Key: "rooms", Name: "Support", CustomerCalls: true, ShowAgentName: true},
		alice.UserID, bob.UserID)
	if err != nil {
		t.Fatal(err)
	}
	visitor := func(subject string) auth.Principal {
		return auth.Principal{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: subject, Scope: q.Key, Name: subject}
	}
	// chatID is alice's chat with vera; doneID her closed chat with vic.
	vera, vic := visitor("vera"), visitor("vic")
	open := func(customer auth.Principal, name string) int64 {
		c, _, err := chatSvc.Start(ctx, customer, chat.StartInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE conversations SET state = 'active', agent_id = $1, accepted_at = now()
			WHERE id = $2`, alice.UserID, c.ID); err != nil {
			t.Fatal(err)
		}
		return int64(c.ID)
	}
	chatID := open(vera, "Vera")
	convRoom, _, err := conf.CreateForConversation(ctx, alice, "Alice", chatID, "Chat with Vera", "")
	if err != nil {
		t.Fatal(err)
	}
	confRoom, err := conf.CreateConference(ctx, alice, "Weekly", nil)
	if err != nil {
		t.Fatal(err)
	}
	doneID := open(vic, "Vic")
	if err := chatSvc.Close(ctx, alice, chat.ConversationID(doneID), ""); err != nil {
		t.Fatal(err)
	}
	endedConv, _, err := conf.CreateForConversation(ctx, alice, "Alice", doneID, "Chat with Vic", "")
	if err != nil {
		t.Fatal(err)
	}
	endedConf, err := conf.CreateConference(ctx, alice, "Over", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*conference.Room{&endedConv, &endedConf} {
		if err := conf.End(ctx, alice, r.ID); err != nil {
			t.Fatal(err)
		}
		if *r, err = conf.Get(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	guest := func(roomID string) auth.Principal {
		return auth.Principal{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g-" + roomID, Scope: roomID, Name: "Gita"}
	}

	// What each request is answered: the wire code of a refusal, or "ok"
	// with what the grant says (name, +ro receive-only, +hidden, +end).
	answer := func(g Grant, err error) string {
		if err != nil {
			var c interface{ Code() string }
			if !errors.As(err, &c) {
				t.Fatalf("an error without a wire code: %v", err)
			}
			return c.Code()
		}
		out := "ok"
		if g.Name != "" {
			out += " " + g.Name
		}
		for _, f := range []struct {
			on   bool
			name string
		}{{g.ReceiveOnly, "+ro"}, {g.Hidden, "+hidden"}, {g.MayEnd, "+end"}} {
			if f.on {
				out += " " + f.name
			}
		}
		return out
	}
	ops := []Op{OpCreate, OpJoin, OpGet, OpEnd, OpDecline, OpPublish, OpSignal}
	type row struct {
		who  string
		p    auth.Principal
		want []string // by ops
	}
	for _, room := range []struct {
		name  string
		r     conference.Room
		asked bool // room.join with receive_only
		rows  []row
	}{
		{"a conversation's room", convRoom, false, []row{
			{"customer of the conversation", vera, []string{"ok Vera", "ok Vera", "ok Vera", "forbidden", "forbidden", "ok Vera", "ok Vera"}},
			{"another customer", visitor("wendy"), []string{"not_found", "forbidden", "not_found", "not_found", "forbidden", "forbidden", "forbidden"}},
			{"agent of the conversation", alice, []string{"ok Alice +end", "ok Alice +end", "ok Alice +end", "ok Alice +end", "ok Alice", "ok Alice +end", "ok Alice +end"}},
			{"another agent of the queue", bob, []string{"not_found", "forbidden", "not_found", "not_found", "ok Bob", "forbidden", "forbidden"}},
			{"supervisor", sup, []string{"forbidden", "ok Sue +ro +hidden", "ok Sue +ro +hidden", "forbidden", "ok Sue", "forbidden", "ok Sue +ro +hidden"}},
			{"admin", admin, []string{"forbidden", "ok Ada +ro +hidden", "ok Ada +ro +hidden", "forbidden", "ok Ada", "forbidden", "ok Ada +ro +hidden"}},
			{"guest of the room", guest(convRoom.ID), []string{"not_found", "forbidden", "not_found", "not_found", "forbidden", "forbidden", "forbidden"}},
			{"guest of another room", guest(confRoom.ID), []string{"not_found", "forbidden", "not_found", "not_found", "forbidden", "forbidden", "forbidden"}},
		}},
		{"a conversation's room, joined receive-only", convRoom, true, []row{
			{"customer of the conversation", vera, []string{"ok Vera", "ok Vera +ro", "ok Vera +ro", "forbidden", "forbidden", "forbidden", "ok Vera +ro"}},
			{"agent of the conversation", alice, []string{"ok Alice +end", "ok Alice +ro +hidden +end", "ok Alice +ro +hidden +end", "ok Alice +end", "ok Alice", "forbidden", "ok Alice +ro +hidden +end"}},
		}},
		{"a closed conversation's ended room", endedConv, false, []row{
			{"customer of the conversation", vic, []string{"conflict", "conflict", "ok", "forbidden", "forbidden", "conflict", "conflict"}},
			{"another customer", visitor("wendy"), []string{"not_found", "forbidden", "not_found", "not_found", "forbidden", "forbidden", "forbidden"}},
			{"agent of the conversation", alice, []string{"conflict", "conflict", "ok", "ok Alice +end", "ok Alice", "conflict", "conflict"}},
			{"supervisor", sup, []string{"conflict", "conflict", "ok", "forbidden", "ok Sue", "conflict", "conflict"}},
		}},
		{"a conference room", confRoom, false, []row{
			{"customer", vera, []string{"forbidden", "forbidden", "not_found", "forbidden", "forbidden", "forbidden", "forbidden"}},
			{"its creator", alice, []string{"ok Alice +end", "ok Alice +end", "ok Alice +end", "ok Alice +end", "ok Alice", "ok Alice +end", "ok Alice +end"}},
			{"another agent", bob, []string{"ok Bob +end", "ok Bob", "ok Bob", "forbidden", "ok Bob", "ok Bob", "ok Bob"}},
			{"supervisor", sup, []string{"ok Sue +end", "ok Sue", "ok Sue", "forbidden", "ok Sue", "ok Sue", "ok Sue"}},
			{"admin", admin, []string{"ok Ada +end", "ok Ada", "ok Ada", "forbidden", "ok Ada", "ok Ada", "ok Ada"}},
			{"guest of the room", guest(confRoom.ID), []string{"forbidden", "ok Gita", "ok Gita", "forbidden", "forbidden", "ok Gita", "ok Gita"}},
			{"guest of another room", guest(convRoom.ID), []string{"forbidden", "forbidden", "not_found", "forbidden", "forbidden", "forbidden", "forbidden"}},
		}},
		{"an ended conference room", endedConf, false, []row{
			{"its creator", alice, []string{"ok Alice +end", "conflict", "ok", "ok Alice +end", "ok Alice", "conflict", "conflict"}},
			{"guest of the room", guest(endedConf.ID), []string{"forbidden", "conflict", "ok", "forbidden", "forbidden", "conflict", "conflict"}},
			{"guest of another room", guest(confRoom.ID), []string{"forbidden", "conflict", "ok", "forbidden", "forbidden", "conflict", "conflict"}},
		}},
	} {
		for _, tc := range room.rows {
			for i, op := range ops {
				t.Run(fmt.Sprintf("%s/%s/%s", room.name, tc.who, op), func(t *testing.T) {
					var g Grant
					var err error
					if op == OpCreate {
						// room.create names the conversation, or nothing for
						// a conference room.
						g, err = decide(op, tc.p, target{Kind: room.r.Kind}, s.conversation(ctx, tc.p, room.r.ConversationID), false)
					} else {
						g, err = s.allow(ctx, op, tc.p, room.r, room.asked)
					}
					if got := answer(g, err); got != tc.want[i] {
						t.Errorf("got %q, want %q (%v)", got, tc.want[i], err)
					}
				})
			}
		}
	}
}

// room.get by number: signed-in users only; ten wrong numbers per
// principal, then one more every 30 s, and while a principal is limited
// the right number is refused too; another principal is not limited.
func TestLookingRoomNumbersUp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	alice, bob := f.user(t, "Alice", auth.RoleAgent), f.user(t, "Bob", auth.RoleAgent)
	r, err := f.conf.CreateConference(ctx, alice, "Weekly", nil)
	if err != nil {
		t.Fatal(err)
	}
	code := func(err error) string {
		var c interface{ Code() string }
		if errors.As(err, &c) {
			return c.Code()
		}
		return fmt.Sprint(err)
	}
	for _, p := range []auth.Principal{
		{Kind: auth.KindVisitor, Role: auth.RoleCustomer, Subject: "vera", Scope: "q"},
		{Kind: auth.KindGuest, Role: auth.RoleGuest, Subject: "g", Scope: r.ID},
	} {
		if _, err := f.s.Get(ctx, p, GetInput{Number: *r.Number}); code(err) != "forbidden" {
			t.Errorf("%s looking a number up: got %v, want forbidden", p.Kind, err)
		}
	}
	if got, err := f.s.Get(ctx, bob, GetInput{Number: *r.Number}); err != nil || got.Room.ID != r.ID {
		t.Fatalf("the right number: %v, %v", got.Room.ID, err)
	}
	for i := 0; i < 10; i++ {
		if _, err := f.s.Get(ctx, alice, GetInput{Number: "1000000000"}); code(err) != "not_found" || err.Error() != "No room has this number" {
			t.Fatalf("wrong number %d: got %v, want not_found", i, err)
		}
	}
	for _, n := range []string{"1000000000", *r.Number} {
		_, err := f.s.Get(ctx, alice, GetInput{Number: n})
		if code(err) != "rate_limited" || !strings.HasPrefix(err.Error(), "too many wrong room numbers; try again in ") {
			t.Errorf("number %s after ten wrong ones: got %v, want rate_limited", n, err)
		}
	}
	if got, err := f.s.Get(ctx, bob, GetInput{Number: *r.Number}); err != nil || got.Room.ID != r.ID {
		t.Errorf("another principal's right number: %v, %v", got.Room.ID, err)
	}
}
