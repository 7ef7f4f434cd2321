package main

import (
	"context"
	"encoding/json"
	"time"

	"parley/signaling/client"
)

// positionEvery is how often a connected chat peer checks where the
// conversations it follows stand (chat.position), as the pages do: an
// event the server's bus lost is then fetched, and the run's counts of
// lost events stay exact over a lossy bus.
const positionEvery = 15 * time.Second

// positionChecker is a session that checks its conversations' positions:
// peer.run asks it every positionEvery while connected; the session asks
// itself on session.resync.
type positionChecker interface {
	checkPositions(ctx context.Context, c *client.Client)
}

// behind asks chat.position for the conversations of shown (id → highest
// seq applied) and returns those past it.
func behind(ctx context.Context, c *client.Client, shown map[int64]int) []int64 {
	if len(shown) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(shown))
	for id := range shown {
		ids = append(ids, id)
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out []int64
	for i := 0; i < len(ids); i += 100 {
		last, err := c.Positions(rctx, ids[i:min(i+100, len(ids))])
		if err != nil {
			return out // the next check, or the next connection, tries again
		}
		for id, seq := range last {
			if seq > shown[id] {
				out = append(out, id)
			}
		}
	}
	return out
}

// resumeAfter fetches a conversation's events after seq after.
func resumeAfter(ctx context.Context, c *client.Client, id int64, after int) ([]wireEvent, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	raw, err := c.Request(rctx, "chat.resume", map[string]any{"conversation_id": id, "after_seq": after})
	if err != nil {
		return nil, err
	}
	var ans withEvents
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, err
	}
	return ans.Events, nil
}
