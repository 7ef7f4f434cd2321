package queues

import (
	"sync"
	"time"
)

// Cache keeps queue settings: routing and most requests need them and
// they change rarely. (The send path reads what it needs of the queue in
// the writer's statement.) LocalCache is one node's; a cache for several
// nodes must also forget a queue that another node saved.
type Cache interface {
	// Get returns the settings of queue id if the cache holds them fresh.
	Get(id QueueID) (Queue, bool)
	// Put keeps q's settings, just read.
	Put(q Queue)
	// Forget drops queue id after it changed.
	Forget(id QueueID)
}

var _ Cache = (*LocalCache)(nil)

// LocalCache keeps queue settings in this process for a few seconds
// (LocalCacheTTL), so a change saved on another node is seen within them.
type LocalCache struct {
	mu      sync.Mutex
	entries map[QueueID]cachedQueue
}

type cachedQueue struct {
	q       Queue
	fetched time.Time
}

// LocalCacheTTL is how long LocalCache keeps a queue's settings.
const LocalCacheTTL = 5 * time.Second

// NewLocalCache makes an empty cache.
func NewLocalCache() *LocalCache { return &LocalCache{entries: map[QueueID]cachedQueue{}} }

// Get implements Cache.
func (c *LocalCache) Get(id QueueID) (Queue, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || time.Since(e.fetched) >= LocalCacheTTL {
		return Queue{}, false
	}
	return e.q, true
}

// Put implements Cache.
func (c *LocalCache) Put(q Queue) {
	c.mu.Lock()
	c.entries[q.ID] = cachedQueue{q, time.Now()}
	c.mu.Unlock()
}

// Forget implements Cache.
func (c *LocalCache) Forget(id QueueID) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
