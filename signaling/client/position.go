package client

import (
	"context"
	"encoding/json"
	"fmt"
)

// Positions asks chat.position where each of the conversations ids stands
// for this connection's principal: the last seq of each one it may read,
// by id (the others are left out). A follower that has shown less than
// that resumes from what it has shown.
func (c *Client) Positions(ctx context.Context, ids []int64) (map[int64]int, error) {
	raw, err := c.Request(ctx, "chat.position", map[string]any{"conversation_ids": ids})
	if err != nil {
		return nil, err
	}
	var out struct {
		Positions []struct {
			ConversationID int64 `json:"conversation_id"`
			LastSeq        int   `json:"last_seq"`
		} `json:"positions"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("client: chat.position: %w", err)
	}
	last := make(map[int64]int, len(out.Positions))
	for _, p := range out.Positions {
		last[p.ConversationID] = p.LastSeq
	}
	return last, nil
}
