package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"

	"parley/bus"
	"parley/chat/queues"
)

// What chat's nodes tell each other over the bus when several serve one
// deployment (Options.Nodes). Both frames are small and both are only
// hints: a lost one costs a router's tick (250 ms) or a queue cache's
// TTL (queues.LocalCacheTTL), never a wrong answer.
const (
	// RoutingPokeSubject carries routing.poke: something may have a chat
	// routed (a chat queued, an agent freed a place or came back), so
	// every node's router looks again, and the one whose turn the queue
	// is offers it.
	RoutingPokeSubject = "routing.poke"
	// QueueSavedSubject carries queue.saved: an admin saved a queue's
	// settings, and every node drops them from its cache.
	QueueSavedSubject = "queue.saved"
)

// nodeMsg is the data of routing.poke and queue.saved: the node that
// sent it (a random name of this process, so a node skips its own) and,
// for queue.saved, the queue.
type nodeMsg struct {
	From  string         `json:"from"`
	Queue queues.QueueID `json:"queue_id,omitempty"`
}

// nodes carries routing.poke and queue.saved between this node and the
// others. Pokes are coalesced: while one is being published, any number
// of further pokes make one more.
type nodes struct {
	bus  bus.Bus
	log  *slog.Logger
	self string
	kick chan struct{}
}

func newNodes(b bus.Bus, log *slog.Logger) *nodes {
	r := make([]byte, 8)
	rand.Read(r) //nolint:errcheck // crypto/rand does not fail on Linux
	return &nodes{bus: b, log: log, self: hex.EncodeToString(r), kick: make(chan struct{}, 1)}
}

// poke asks run to publish a routing.poke; it never blocks.
func (n *nodes) poke() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// saved tells the other nodes that queue id changed.
func (n *nodes) saved(id queues.QueueID) {
	n.publish(QueueSavedSubject, "queue.saved", nodeMsg{From: n.self, Queue: id})
}

func (n *nodes) publish(subject, typ string, m nodeMsg) {
	frame, err := bus.Frame(typ, m)
	if err == nil {
		err = n.bus.Publish(subject, frame)
	}
	if err != nil {
		n.log.Warn("telling the other nodes", "subject", subject, "err", err)
	}
}

// run follows the other nodes' pokes (wake) and saves (forget), and
// publishes this node's pokes, until ctx ends.
func (n *nodes) run(ctx context.Context, wake func(), forget func(queues.QueueID)) {
	from := func(frame []byte) (nodeMsg, bool) {
		var env struct {
			Data nodeMsg `json:"data"`
		}
		if err := json.Unmarshal(frame, &env); err != nil {
			n.log.Warn("a frame from another node", "err", err)
			return nodeMsg{}, false
		}
		return env.Data, env.Data.From != n.self
	}
	unPoke, err := n.bus.Subscribe(RoutingPokeSubject, func(frame []byte) {
		if _, other := from(frame); other {
			wake()
		}
	})
	if err != nil {
		n.log.Error("following routing.poke: other nodes' chats wake this router only at its tick", "err", err)
	} else {
		defer unPoke()
	}
	unSaved, err := n.bus.Subscribe(QueueSavedSubject, func(frame []byte) {
		if m, other := from(frame); other {
			forget(m.Queue)
		}
	})
	if err != nil {
		n.log.Error("following queue.saved: other nodes' saves reach this node's cache at its TTL", "err", err)
	} else {
		defer unSaved()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
			n.publish(RoutingPokeSubject, "routing.poke", nodeMsg{From: n.self})
		}
	}
}

// toldCache is the queue cache of a node among several: LocalCache,
// which also tells the other nodes of each queue this node saved.
type toldCache struct {
	*queues.LocalCache
	nodes *nodes
}

var _ queues.Cache = toldCache{}

// Forget implements queues.Cache: here, and on every other node.
func (c toldCache) Forget(id queues.QueueID) {
	c.LocalCache.Forget(id)
	c.nodes.saved(id)
}
