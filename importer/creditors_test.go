package importer

import (
	"errors"
	"testing"
	"time"
)

// TestCreditorCache: an answer is kept for its TTL, then asked for again; forget drops it at
// once; a nil cache keeps nothing.
func TestCreditorCache(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	c := NewCreditorCache(time.Hour, func() time.Time { return now })
	if _, ok := c.get("c1"); ok {
		t.Fatal("an empty cache answered")
	}
	inactive := errors.New("inactive")
	c.put("c1", nil)
	c.put("c2", inactive)
	now = now.Add(59 * time.Minute)
	if err, ok := c.get("c1"); !ok || err != nil {
		t.Errorf("c1 within the TTL = %v, %v; want active", err, ok)
	}
	if err, ok := c.get("c2"); !ok || err != inactive {
		t.Errorf("c2 within the TTL = %v, %v; want the inactive answer", err, ok)
	}
	c.forget("c2")
	if _, ok := c.get("c2"); ok {
		t.Error("c2 answered after forget")
	}
	now = now.Add(time.Minute)
	if _, ok := c.get("c1"); ok {
		t.Error("c1 answered after its TTL")
	}
	var none *CreditorCache
	none.put("c1", nil)
	if _, ok := none.get("c1"); ok {
		t.Error("a nil cache answered")
	}
	if d := NewCreditorCache(0, nil).ttl; d != DefaultCreditorCheckTTL {
		t.Errorf("default TTL = %v, want %v", d, DefaultCreditorCheckTTL)
	}
}
