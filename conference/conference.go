// Package conference holds video rooms: a conversation's co-browsing room
// and conference rooms with public numbers, their members, invites,
// guests, and ending them. It owns the SFU rooms behind them, speaks their
// media signalling in plain types (Signal, Media), keeps the live rooms
// behind Live, and tells the world what happened by publishing on the
// bus. Who may do what in a room is decided above it, in parley/rooms.
package conference

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/bus"
	"parley/cluster"
	"parley/sfu"
	"parley/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the rooms' tables; they refer to auth's users.
var Migrations = store.Migrations{Component: "conference", FS: mustSub(migrations, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Room kinds and media.
const (
	KindConversation = "conversation"
	KindConference   = "conference"
	MediaVideo       = "video"
	MediaAudio       = "audio"
)

// Author is who created a room, as others see it.
type Author struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Room is one video room.
type Room struct {
	ID             string     `json:"id"`
	Kind           string     `json:"kind"`
	ConversationID *int64     `json:"conversation_id"`
	Number         *string    `json:"number"`
	Name           string     `json:"name"`
	CreatedBy      Author     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	EndedAt        *time.Time `json:"ended_at"`
	Media          string     `json:"media"`

	creatorKey string
	watcherKey *string // a monitor room's one watcher (monitor.go)
	host       *string // the node whose SFU holds the live room (many nodes)
}

// Host is the node recorded as the room's host, "" when none is.
func (r Room) Host() string {
	if r.host == nil {
		return ""
	}
	return *r.host
}

// Ended reports whether the room admits nobody any more.
func (r Room) Ended() bool { return r.EndedAt != nil }

// CreatedByKey is the creator's principal key.
func (r Room) CreatedByKey() string { return r.creatorKey }

// Options tune the service.
type Options struct {
	// EmptyGrace is how long a room may stay empty before it ends by
	// itself. Default 60 s.
	EmptyGrace time.Duration
	// GuestTTL is how long a guest's token is valid. Default 12 h.
	GuestTTL time.Duration
	// Live keeps the live rooms. Default: a MemoryLive of this node's.
	Live Live
	// Node is this node among many (with a bus between them): rooms are
	// hosted by one node each (Host). Nil for one node alone, which
	// hosts every room.
	Node *cluster.Cluster
}

// Service keeps the rooms.
type Service struct {
	pool *pgxpool.Pool
	sfu  *sfu.SFU
	bus  bus.Bus
	auth *auth.Service
	log  *slog.Logger
	opt  Options

	live Live

	stopMu  sync.Mutex
	stopped bool           // Stop was called: no timer ends a room any more
	ending  sync.WaitGroup // empty-room timers that fired and are ending their room

	// OnActivity, when set before use, is told of what happens in
	// conversation rooms, for the chat's transcript. It must not block
	// for long: it is called on request and media goroutines.
	OnActivity func(Room, Activity)
}

// Activity is something that happened in a room, by someone.
type Activity struct {
	Kind string // room_created, room_joined, room_left, screen_started, screen_stopped, room_ended
	By   auth.Principal
	Name string // who, as the room showed them; empty for the system
	// Private activity is for staff only: a supervisor watching.
	Private bool
}

// Activity kinds, also the kinds of the chat events they become.
const (
	ActivityCreated       = "room_created"
	ActivityJoined        = "room_joined"
	ActivityLeft          = "room_left"
	ActivityScreenStarted = "screen_started"
	ActivityScreenStopped = "screen_stopped"
	ActivityEnded         = "room_ended"
)

// New makes the service. s is nil on a node that runs no SFU: it hosts
// no room (Host chooses another node).
func New(pool *pgxpool.Pool, s *sfu.SFU, b bus.Bus, a *auth.Service, log *slog.Logger, opt Options) *Service {
	if opt.EmptyGrace <= 0 {
		opt.EmptyGrace = 60 * time.Second
	}
	if opt.GuestTTL <= 0 {
		opt.GuestTTL = 12 * time.Hour
	}
	if opt.Live == nil {
		opt.Live = NewMemoryLive()
	}
	return &Service{pool: pool, sfu: s, bus: b, auth: a, log: log, opt: opt, live: opt.Live}
}

// Start arms the empty-room timer of every room left open by an earlier
// run: a room nobody comes back to ends after the grace period. With many
// nodes, only of the rooms this node hosted, or that no live node hosts
// (their host is gone: each is taken by one node, its host set to none).
func (s *Service) Start(ctx context.Context) error {
	query, args := `SELECT `+roomColumns+` FROM rooms WHERE ended_at IS NULL`, []any{}
	if s.opt.Node != nil {
		// A host is alive by its heartbeat row, as in Host.
		query = `UPDATE rooms SET node_id = CASE WHEN node_id = $1 THEN node_id END
			WHERE ended_at IS NULL AND (node_id IS NULL OR node_id = $1
				OR NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.id = rooms.node_id
					AND n.stopped_at IS NULL AND n.heartbeat_at > now() - make_interval(secs => $2)))
			RETURNING ` + roomColumns
		args = []any{s.opt.Node.ID(), s.opt.Node.TTL().Seconds()}
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	rooms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Room, error) { return scanRoom(r) })
	if err != nil {
		return err
	}
	for _, r := range rooms {
		s.open(r)
	}
	return nil
}

// Stop ends what the service started: it stops every empty-room timer,
// arms none from now on, and waits for a timer that fired already to
// finish ending its room. Rooms stay open in the database; the next Start
// arms their timers again. Call it once the connections are gone.
func (s *Service) Stop() {
	s.stopMu.Lock()
	s.stopped = true
	s.stopMu.Unlock()
	s.live.Stop()
	s.ending.Wait()
}

// Subject is the bus subject of a room's events: every connection in the
// room follows it.
func Subject(roomID string) string { return "room." + roomID }

// StaffSubject carries the events of hidden members (supervisors watching
// a conversation's room): staff connections in the room follow it too.
func StaffSubject(roomID string) string { return "room." + roomID + ".staff" }

const roomColumns = `id, kind, conversation_id, number, name, media, creator_key, creator_kind, creator_name,
	created_at, ended_at, node_id, watcher_key`

func scanRoom(row pgx.Row) (Room, error) {
	var r Room
	err := row.Scan(&r.ID, &r.Kind, &r.ConversationID, &r.Number, &r.Name, &r.Media, &r.creatorKey,
		&r.CreatedBy.Kind, &r.CreatedBy.Name, &r.CreatedAt, &r.EndedAt, &r.host, &r.watcherKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return Room{}, ErrNotFound
	}
	return r, err
}

// Get reads a room by id.
func (s *Service) Get(ctx context.Context, id string) (Room, error) {
	if !validID(id) {
		return Room{}, ErrNotFound
	}
	return scanRoom(s.pool.QueryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE id = $1`, id))
}

// ByNumber reads a conference room by its number.
func (s *Service) ByNumber(ctx context.Context, number string) (Room, error) {
	number = strings.TrimSpace(strings.ReplaceAll(number, " ", ""))
	if !validNumber(number) {
		return Room{}, ErrNotFound
	}
	return scanRoom(s.pool.QueryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE number = $1`, number))
}

// OpenForConversation is the conversation's open room, or ErrNotFound.
func (s *Service) OpenForConversation(ctx context.Context, conv int64) (Room, error) {
	return scanRoom(s.pool.QueryRow(ctx, `SELECT `+roomColumns+` FROM rooms
		WHERE conversation_id = $1 AND ended_at IS NULL`, conv))
}

func validID(id string) bool {
	if len(id) != 17 || id[0] != 'r' {
		return false
	}
	_, err := hex.DecodeString(id[1:])
	return err == nil
}

func validNumber(n string) bool {
	if len(n) != numberDigits {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// numberDigits is the length of a room number: ten digits, the first not
// zero, from crypto/rand: 9·10⁹ numbers, so guessing one of a few thousand
// open rooms takes millions of tries, and the lookup is rate limited.
const numberDigits = 10

func newNumber() string {
	lo := big.NewInt(1_000_000_000)
	n, err := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n.Add(n, lo).String()
}

func newID(prefix string, bytes int) string {
	b := make([]byte, bytes)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}

func authorOf(p auth.Principal, name string) Author {
	kind := string(p.Role)
	if name == "" {
		name = p.Name
	}
	return Author{Kind: kind, Name: name}
}

func checkMedia(m *string) error {
	switch *m {
	case "":
		*m = MediaVideo
	case MediaVideo, MediaAudio:
	default:
		return bad(`media: "video" or "audio"`)
	}
	return nil
}

// CreateForConversation opens the conversation's room, or returns the one
// open already (created false); name is how p is shown there. Who may is
// decided before (parley/rooms).
func (s *Service) CreateForConversation(ctx context.Context, p auth.Principal, name string, conv int64, title, media string) (Room, bool, error) {
	if err := checkMedia(&media); err != nil {
		return Room{}, false, err
	}
	by := authorOf(p, name)
	row := s.pool.QueryRow(ctx, `INSERT INTO rooms (id, kind, conversation_id, name, media, creator_key, creator_kind, creator_name)
		VALUES ($1, 'conversation', $2, $3, $4, $5, $6, $7)
		ON CONFLICT (conversation_id) WHERE ended_at IS NULL DO NOTHING
		RETURNING `+roomColumns, newID("r", 8), conv, title, media, p.Key(), by.Kind, by.Name)
	r, err := scanRoom(row)
	if errors.Is(err, ErrNotFound) { // the conflict: one is open
		r, err = s.OpenForConversation(ctx, conv)
		return r, false, err
	}
	if err != nil {
		return Room{}, false, err
	}
	s.open(r)
	s.activity(r, Activity{Kind: ActivityCreated, By: p, Name: by.Name})
	return r, true, nil
}

// CreateConference opens a conference room with a fresh number and
// invites users; each gets room.invited. Who may is decided before
// (parley/rooms).
func (s *Service) CreateConference(ctx context.Context, p auth.Principal, name string, invite []auth.UserID) (Room, error) {
	name = strings.TrimSpace(name)
	if err := store.CheckText(name); err != nil {
		return Room{}, bad("name: %v", err)
	}
	if utf8.RuneCountInString(name) > 100 {
		return Room{}, bad("name: at most 100 characters")
	}
	if len(invite) > 50 {
		return Room{}, bad("invite: at most 50 users")
	}
	var invitees []auth.User
	for _, id := range invite {
		if id == p.UserID {
			continue
		}
		u, err := s.auth.UserByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Room{}, bad("invite: no user %d", id)
		}
		if err != nil {
			return Room{}, err
		}
		invitees = append(invitees, u)
	}
	if name == "" {
		name = p.Name + "'s room"
	}
	by := authorOf(p, "")
	var r Room
	for try := 0; ; try++ {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return Room{}, err
		}
		r, err = scanRoom(tx.QueryRow(ctx, `INSERT INTO rooms (id, kind, number, name, creator_key, creator_kind, creator_name)
			VALUES ($1, 'conference', $2, $3, $4, $5, $6) RETURNING `+roomColumns,
			newID("r", 8), newNumber(), name, p.Key(), by.Kind, by.Name))
		for _, u := range invitees {
			if err != nil {
				break
			}
			_, err = tx.Exec(ctx, `INSERT INTO room_invites (room_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, r.ID, u.ID)
		}
		if err == nil {
			err = tx.Commit(ctx)
		}
		tx.Rollback(ctx) //nolint:errcheck // after a commit it does nothing
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && try < 5 {
			continue // the number (or id) was taken: draw again
		}
		if err != nil {
			return Room{}, err
		}
		break
	}
	s.open(r)
	from := map[string]any{"id": p.UserID, "name": p.Name}
	for _, u := range invitees {
		s.publish(bus.PrincipalSubject(auth.Principal{Kind: auth.KindUser, UserID: u.ID}.Key()), "room.invited",
			map[string]any{"room": r, "from": from})
	}
	return r, nil
}

// Decline records that an invited user will not come, and tells the
// room's creator.
func (s *Service) Decline(ctx context.Context, p auth.Principal, roomID string) error {
	r, err := s.Get(ctx, roomID)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE room_invites SET state = 'declined' WHERE room_id = $1 AND user_id = $2`, r.ID, p.UserID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	s.publish(bus.PrincipalSubject(r.creatorKey), "room.declined",
		map[string]any{"room_id": r.ID, "user": map[string]any{"id": p.UserID, "name": p.Name}})
	return nil
}

// IssueGuest makes a token that admits a guest called name to r only.
func (s *Service) IssueGuest(r Room, name string) (string, time.Time, error) {
	name = strings.TrimSpace(name)
	if err := store.CheckText(name); err != nil {
		return "", time.Time{}, bad("name: %v", err)
	}
	switch {
	case name == "":
		return "", time.Time{}, bad("name: your name is required")
	case utf8.RuneCountInString(name) > 100:
		return "", time.Time{}, bad("name: at most 100 characters")
	case r.Kind != KindConference:
		return "", time.Time{}, ErrNotFound
	case r.Ended():
		return "", time.Time{}, ErrEnded
	}
	tok, _, err := s.auth.IssueGuest(r.ID, name, s.opt.GuestTTL)
	return tok, time.Now().Add(s.opt.GuestTTL), err
}

// open returns r's live room, making it (with its empty timer armed) if
// needed.
func (s *Service) open(r Room) *LiveRoom {
	id := r.ID
	return s.live.Open(id, func() *LiveRoom {
		lr := &LiveRoom{room: r, members: map[string]*Member{}, grace: s.opt.EmptyGrace}
		if s.sfu != nil {
			lr.media = s.sfu.Room(id)
			lr.media.OnEvent(func(e sfu.Event) { s.mediaEvent(id, e) })
		}
		lr.empty = time.AfterFunc(s.opt.EmptyGrace, func() { s.endIfEmpty(id) })
		return lr
	})
}

// endIfEmpty ends room id when its empty timer fires and nobody came
// back, unless the service has stopped.
func (s *Service) endIfEmpty(id string) {
	s.stopMu.Lock()
	empty := !s.stopped && s.live.Empty(id)
	if empty {
		s.ending.Add(1) // under stopMu, so Stop waits for it
	}
	s.stopMu.Unlock()
	if !empty {
		return
	}
	defer s.ending.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.opt.Node != nil {
		// Empty here, but live on another node: its host keeps it.
		r, err := s.Get(ctx, id)
		if err == nil && r.Host() != "" && r.Host() != s.opt.Node.ID() && s.opt.Node.IsAlive(r.Host()) {
			s.CloseLive(id)
			return
		}
	}
	if err := s.end(ctx, id, auth.Principal{}, "empty"); err != nil && !errors.Is(err, ErrEnded) {
		s.log.Warn("ending an empty room", "room", id, "err", err)
	}
}

// End ends a room for everyone. Who may is decided before (parley/rooms).
func (s *Service) End(ctx context.Context, p auth.Principal, id string) error {
	return s.end(ctx, id, p, "ended")
}

func (s *Service) end(ctx context.Context, id string, p auth.Principal, reason string) error {
	r, err := scanRoom(s.pool.QueryRow(ctx, `UPDATE rooms SET ended_at = now() WHERE id = $1 AND ended_at IS NULL
		RETURNING `+roomColumns, id))
	if errors.Is(err, ErrNotFound) {
		return ErrEnded
	}
	if err != nil {
		return err
	}
	lr, members := s.live.Close(id)
	defer closeMedia(lr)
	// The transcript first: whoever hears room.ended and reads the chat
	// finds the room's end in it.
	s.activity(r, Activity{Kind: ActivityEnded, By: p, Name: p.Name})
	s.publish(Subject(id), "room.ended", map[string]any{"room_id": id, "reason": reason})
	gone(members)
	return nil
}

func gone(members []*Member) {
	for _, m := range members {
		if m.onGone != nil {
			m.onGone()
		}
	}
}

func closeMedia(lr *LiveRoom) {
	if lr != nil && lr.media != nil {
		lr.media.Close()
	}
}

func (s *Service) activity(r Room, a Activity) {
	if r.Kind == KindConversation && s.OnActivity != nil {
		s.OnActivity(r, a)
	}
}

func (s *Service) publish(subject, typ string, data any) {
	frame, err := bus.Frame(typ, data)
	if err != nil {
		s.log.Error("encode event", "type", typ, "err", err)
		return
	}
	s.bus.Publish(subject, frame) //nolint:errcheck
}
