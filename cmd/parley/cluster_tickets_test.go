package main

import (
	"encoding/json"
	"testing"
)

// ticket.changed across nodes: a ticket changed through one node is told
// to those who may see it on another, over the bus (each user's
// principal subject), and the supervisor on a third sees it too.
func TestATicketChangeIsToldOnEveryNode(t *testing.T) {
	t.Parallel()
	d := startChatNodes(t, 3, "")
	alice := d.on(0).agent(t, "alice")
	bob := d.on(1).agent(t, "bob")
	sam := d.on(2).agent(t, "sam")
	var tk struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	request(t, alice, "ticket.create", map[string]any{"queue_id": d.on(0).queueID(t), "title": "Parcel never arrived"}, &tk)
	changed := func(state string) func(json.RawMessage) bool {
		return func(raw json.RawMessage) bool {
			var e struct {
				Ticket struct {
					ID    int64  `json:"id"`
					State string `json:"state"`
				} `json:"ticket"`
			}
			json.Unmarshal(raw, &e) //nolint:errcheck
			return e.Ticket.ID == tk.ID && e.Ticket.State == state
		}
	}
	waitEvent(t, bob, "ticket.changed", changed("unassigned"))
	waitEvent(t, sam, "ticket.changed", changed("unassigned"))
	request(t, bob, "ticket.close", map[string]any{"ticket_id": tk.ID}, nil)
	waitEvent(t, alice, "ticket.changed", changed("closed"))
	waitEvent(t, sam, "ticket.changed", changed("closed"))
}
