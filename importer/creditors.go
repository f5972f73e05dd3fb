package importer

import (
	"sync"
	"time"
)

// DefaultCreditorCheckTTL is how long a creditor found active stays known to be so.
const DefaultCreditorCheckTTL = time.Hour

// CreditorCache keeps Amili's answer to "is this creditor active?" across the runs of one
// process, so that runs with nothing or little to send do not ask again each time. An answer is
// kept for its TTL, or until Amili refuses a registration for that creditor (a 4xx), whichever
// comes first. A transient failure is never kept. Safe for concurrent use.
type CreditorCache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]creditorAnswer
}

type creditorAnswer struct {
	err error // nil: active
	at  time.Time
}

// NewCreditorCache returns a cache keeping answers for ttl (0 = DefaultCreditorCheckTTL);
// now is its clock (nil = time.Now).
func NewCreditorCache(ttl time.Duration, now func() time.Time) *CreditorCache {
	if ttl <= 0 {
		ttl = DefaultCreditorCheckTTL
	}
	if now == nil {
		now = time.Now
	}
	return &CreditorCache{ttl: ttl, now: now, m: map[string]creditorAnswer{}}
}

// get returns the kept answer for id, if one is younger than the TTL.
func (c *CreditorCache) get(id string) (error, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[id]
	if !ok || c.now().Sub(a.at) >= c.ttl {
		return nil, false
	}
	return a.err, true
}

// put keeps Amili's answer for id.
func (c *CreditorCache) put(id string, err error) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.m[id] = creditorAnswer{err: err, at: c.now()}
	c.mu.Unlock()
}

// forget drops the answer for id: the next run asks Amili again.
func (c *CreditorCache) forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
