// Package staff is messages between colleagues, beyond any customer's
// chat: an agent, supervisor or admin writes to another, one thread per
// pair of users. A message is stored before it is acknowledged, numbered
// within its thread (seq 1, 2, 3… with no gaps), stored once per client_id,
// and delivered live to every connection of both users; each user's read
// mark gives its unread count. The tables and their migrations are this
// package's (component "staff").
package staff

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the staff messages' tables. They refer to auth's users,
// so auth's migrations run first.
var Migrations = store.Migrations{Component: "staff", FS: mustSub(migrations, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(fmt.Sprintf("staff: %v", err))
	}
	return sub
}

// MaxText is the longest message, in characters (Unicode code points), as
// for a chat message: a longer one is refused with ErrTooLong, never cut.
const MaxText = 4000

// MaxResume is the most messages one Resume returns; More says there are
// more after them.
const MaxResume = 500

// ThreadID identifies a thread (one pair of users).
type ThreadID int64

// Person is a user as a thread shows it.
type Person struct {
	ID   auth.UserID `json:"id"`
	Name string      `json:"name"`
	Role auth.Role   `json:"role,omitempty"`
}

// Message is one stored message of a thread.
type Message struct {
	ThreadID ThreadID  `json:"thread_id"`
	Seq      int64     `json:"seq"`
	Author   Person    `json:"author"`
	Text     string    `json:"text"`
	ClientID string    `json:"client_id"`
	Time     time.Time `json:"time"`
}

// Thread is a thread as one of its two users sees it: With is the other.
type Thread struct {
	ID      ThreadID `json:"id"`
	With    Person   `json:"with"`
	LastSeq int64    `json:"last_seq"`
	ReadSeq int64    `json:"read_seq"`
	// Unread is how many messages of the other came after ReadSeq (one's
	// own messages mark everything before them read).
	Unread int64    `json:"unread"`
	Last   *Message `json:"last_message"` // the newest message, nil in an empty thread
}

// Ref names a thread: by the colleague it is with (UserID), or by its id.
// Exactly one is set.
type Ref struct {
	UserID   auth.UserID `json:"user_id"`
	ThreadID ThreadID    `json:"thread_id"`
}

// SendInput is a message to send.
type SendInput struct {
	Ref
	ClientID string `json:"client_id"`
	Text     string `json:"text"`
}

// SendResult answers a send: the message's place in its thread, when it
// was stored, and whether it had been stored before (a resend).
type SendResult struct {
	ThreadID  ThreadID  `json:"thread_id"`
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Duplicate bool      `json:"duplicate"`
}

// MessageEvent is the staff.message event: the message and, for the
// connection it reaches, who the thread is with.
type MessageEvent struct {
	Message
	With Person `json:"with"`
}

// ReadEvent is the staff.read event, to the reader's own connections: its
// read mark moved (in another tab, say).
type ReadEvent struct {
	ThreadID ThreadID    `json:"thread_id"`
	With     auth.UserID `json:"with"`
	ReadSeq  int64       `json:"read_seq"`
	Unread   int64       `json:"unread"`
}

// Event types, as docs/protocol.md names them.
const (
	EventMessage = "staff.message"
	EventRead    = "staff.read"
)

// Service is the staff messages over a database and a bus.
type Service struct {
	pool *pgxpool.Pool
	bus  bus.Bus
	log  *slog.Logger
	// stripes order a thread's sends from storing to publishing, so its
	// events go out in seq order (on this node; see docs/architecture.md).
	stripes [64]sync.Mutex
}

// New makes the service.
func New(pool *pgxpool.Pool, b bus.Bus, log *slog.Logger) *Service {
	return &Service{pool: pool, bus: b, log: log}
}

func (s *Service) stripe(id ThreadID) *sync.Mutex {
	return &s.stripes[uint64(id)%uint64(len(s.stripes))]
}

// publish sends an event to every connection of the user.
func (s *Service) publish(user auth.UserID, typ string, data any) {
	frame, err := bus.Frame(typ, data)
	if err != nil {
		s.log.Error("encode event", "type", typ, "err", err)
		return
	}
	key := auth.Principal{Kind: auth.KindUser, UserID: user}.Key()
	if err := s.bus.Publish(bus.PrincipalSubject(key), frame); err != nil {
		s.log.Warn("publish", "type", typ, "err", err)
	}
}
