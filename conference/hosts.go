package conference

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"parley/cluster"
)

// With many nodes (Options.Node), each live room has one host: the node
// whose SFU holds its media, recorded in rooms.node_id. Host chooses it
// at a join when the room has no live host; a conditional UPDATE makes
// two nodes racing agree on one. The host keeps the room while it lives;
// a host that is gone (HostGone) or stops (Release) leaves its rooms
// without one, and the next join chooses again.

// Host is the node that hosts room r for a join now: its recorded host
// while that node lives, else this node if it runs an SFU, else the live
// node running one with the fewest live rooms (ties by id). "" with one
// node alone: this node hosts every room.
func (s *Service) Host(ctx context.Context, r Room) (string, error) {
	node := s.opt.Node
	if node == nil {
		return "", nil
	}
	for try := 0; try < 5; try++ {
		if r.Ended() {
			return "", ErrEnded
		}
		if h := r.Host(); h != "" && node.IsAlive(h) {
			return h, nil
		}
		pick, err := s.pickHost(ctx)
		if err != nil {
			return "", err
		}
		// This node's view of the living lags a heartbeat: the database
		// has the last word on whether the recorded host is alive.
		tag, err := s.pool.Exec(ctx, `UPDATE rooms SET node_id = $2
			WHERE id = $1 AND ended_at IS NULL AND node_id IS NOT DISTINCT FROM $3
			  AND NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.id = rooms.node_id
				AND n.stopped_at IS NULL AND n.heartbeat_at > now() - make_interval(secs => $4))`,
			r.ID, pick, r.host, node.TTL().Seconds())
		if err != nil {
			return "", err
		}
		if tag.RowsAffected() == 1 {
			return pick, nil
		}
		// The host lives after all, another node chose first, or the
		// room ended: read it again.
		old := r.Host()
		if r, err = s.Get(ctx, r.ID); err != nil {
			return "", err
		}
		if h := r.Host(); h != "" && h == old && !r.Ended() {
			return h, nil // alive, as the database says
		}
	}
	return "", WithMessage(ErrUnavailable, "could not choose a node for this room; try again")
}

// pickHost is this node when it runs an SFU, else the live media node
// with the fewest live rooms.
func (s *Service) pickHost(ctx context.Context) (string, error) {
	if s.sfu != nil {
		return s.opt.Node.ID(), nil
	}
	// The database, not this node's view of the living, which lags a
	// heartbeat behind a node just started.
	var pick string
	err := s.pool.QueryRow(ctx, `SELECT n.id FROM cluster_nodes n
		LEFT JOIN rooms r ON r.node_id = n.id AND r.ended_at IS NULL
		WHERE n.media AND n.stopped_at IS NULL AND n.heartbeat_at > now() - make_interval(secs => $1)
		GROUP BY n.id ORDER BY count(r.id), n.id LIMIT 1`, s.opt.Node.TTL().Seconds()).Scan(&pick)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", WithMessage(ErrUnavailable, "no node runs a media server now; try again in a moment")
	}
	return pick, err
}

// HostGone takes over the rooms that gone hosted, which has gone
// (cluster.OnGone): each is taken by exactly one node (a conditional
// UPDATE per room), left without a host for the next join to choose one,
// and its empty-room timer armed here. Their participants are told by
// their own nodes (parley/rooms).
func (s *Service) HostGone(ctx context.Context, gone cluster.Node) error {
	rows, err := s.pool.Query(ctx, `UPDATE rooms SET node_id = NULL WHERE node_id = $1 AND ended_at IS NULL
		RETURNING `+roomColumns, gone.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			rows.Close()
			return err
		}
		s.open(r)
	}
	return rows.Err()
}

// Adopt arms room id's empty-room timer on this node: its host let go of
// it (Release) as it stopped, and a room nobody comes back to must still
// end. The timer ends it only while no live node hosts it.
func (s *Service) Adopt(ctx context.Context, id string) error {
	r, err := s.Get(ctx, id)
	if err != nil || r.Ended() {
		return err
	}
	s.open(r)
	return nil
}

// Heir is a live node other than this one (by the database, the first by
// id), to hand what this node stops doing to; "" when there is none.
func (s *Service) Heir(ctx context.Context) (string, error) {
	if s.opt.Node == nil {
		return "", nil
	}
	var id string
	err := s.pool.QueryRow(ctx, `SELECT id FROM cluster_nodes
		WHERE id <> $1 AND stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $2)
		ORDER BY id LIMIT 1`, s.opt.Node.ID(), s.opt.Node.TTL().Seconds()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// Release lets go of every room this node hosts, as it stops: each is
// left without a host, its participants everywhere are told to move
// (each member's OnGone, with Member.Moved "host_stopping": the layer
// above tells its client room.moved) and rejoin, which chooses a live
// node, and its media here is closed. It returns the rooms it let go.
func (s *Service) Release(ctx context.Context) ([]string, error) {
	if s.opt.Node == nil {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE rooms SET node_id = NULL WHERE node_id = $1 AND ended_at IS NULL
		RETURNING id`, s.opt.Node.ID())
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		s.closeLive(id, MovedHostStopping)
	}
	return ids, nil
}

// The reasons of room.moved.
const (
	MovedHostLost     = "host_lost"
	MovedHostStopping = "host_stopping"
)

// CloseLive closes room id's live room on this node, if it has one,
// without ending the room: its members here are gone (their OnGone is
// called) and its media closed. The room ended elsewhere, or its host
// moved.
func (s *Service) CloseLive(id string) { s.closeLive(id, "") }

// closeLive closes room id's live room here; its members are gone with
// moved as the reason they give (Member.Moved).
func (s *Service) closeLive(id, moved string) {
	lr, members := s.live.Close(id)
	for _, m := range members {
		m.moved = moved
	}
	gone(members)
	closeMedia(lr)
}
