package seenset

import (
	"math/rand/v2"
	"testing"
)

// TestSeenIndexMatchesMap checks the duplicate index against a built-in map over enough keys
// to grow every shard many times: each key is found with the value of its first appearance,
// and no key that was never added is reported.
func TestSeenIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var idx Set
	defer idx.Free()
	want := map[uint64]uint64{}
	keys := make([]uint64, 0, 200_000)
	for i := range 200_000 {
		k := rng.Uint64()
		if i%1000 == 0 {
			k = uint64(i) // small keys, including 0, share low bits and shards
		}
		keys = append(keys, k)
		v := uint64(i) + 7
		got, ok := idx.LookupOrAdd(k, v)
		norm := k
		if norm == 0 {
			norm = 1
		}
		w, seen := want[norm]
		if ok != seen || (ok && got != w) {
			t.Fatalf("key %d: got (%d, %v), want (%d, %v)", k, got, ok, w, seen)
		}
		if !seen {
			want[norm] = v
		}
	}
	if idx.Len() != len(want) {
		t.Fatalf("len = %d, want %d", idx.Len(), len(want))
	}
	for _, k := range keys {
		norm := max(k, 1)
		if got, ok := idx.LookupOrAdd(k, 0); !ok || got != want[norm] {
			t.Fatalf("second lookup of %d: got (%d, %v), want (%d, true)", k, got, ok, want[norm])
		}
	}
	for range 10_000 {
		k := rng.Uint64()
		if _, dup := want[max(k, 1)]; dup {
			continue
		}
		if _, ok := idx.LookupOrAdd(k, 1); ok {
			t.Fatalf("key %d never added but reported as seen", k)
		}
		want[max(k, 1)] = 1
	}
	idx.Free()
	if idx.Len() != 0 {
		t.Fatalf("len after free = %d, want 0", idx.Len())
	}
	if _, ok := idx.LookupOrAdd(keys[0], 3); ok {
		t.Fatalf("key %d reported as seen after free", keys[0])
	}
	if got, ok := idx.LookupOrAdd(keys[0], 4); !ok || got != 3 {
		t.Fatalf("after free and re-add: got (%d, %v), want (3, true)", got, ok)
	}
}

// TestSeenIndexSize checks that the index stays near 16 bytes per entry over the load range.
func TestSeenIndexSize(t *testing.T) {
	var idx Set
	defer idx.Free()
	for i := range 1_000_000 {
		idx.LookupOrAdd(uint64(i)*0x9e3779b97f4a7c15+1, 0)
	}
	slots := 0
	for i := range idx.shards {
		slots += len(idx.shards[i].slots)
	}
	perEntry := float64(slots*16) / float64(idx.Len())
	if perEntry > 26 {
		t.Fatalf("%.1f bytes per entry, want at most 26", perEntry)
	}
	t.Logf("%.1f bytes per entry", perEntry)
}
